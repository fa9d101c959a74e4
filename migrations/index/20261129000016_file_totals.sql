-- Bytes under runs/ for /v1/status, kept by triggers (summing 200k file rows took 22 ms a request
-- at 100k attempts). Removing an attempt deletes its file rows by cascade, which fires these too.
create table file_totals (id integer primary key check (id = 1), bytes integer not null);
insert into file_totals (id, bytes) select 1, coalesce(sum(size), 0) from attempt_files;

create trigger attempt_files_total_insert after insert on attempt_files begin
    update file_totals set bytes = bytes + new.size where id = 1;
end;

create trigger attempt_files_total_delete after delete on attempt_files begin
    update file_totals set bytes = bytes - old.size where id = 1;
end;

create trigger attempt_files_total_update after update of size on attempt_files begin
    update file_totals set bytes = bytes - old.size + new.size where id = 1;
end;
