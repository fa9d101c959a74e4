-- Counts for /v1/status kept by triggers, as in the SQLite index (counting 100k rows per status
-- request is what they avoid). Statement triggers over transition tables: a batch of 500
-- attempts (one multi-row insert) updates each counter row once, not once per attempt. Each
-- function keeps the schema's search_path it was created under.

create table attempt_counts (status text primary key, n bigint not null);
create table nickname_counts (nickname text primary key, n bigint not null);
create table file_totals (id integer primary key check (id = 1), bytes bigint not null);
insert into file_totals (id, bytes) values (1, 0);

create function attempts_inserted() returns trigger language plpgsql set search_path from current as $$
begin
    insert into attempt_counts (status, n) select status, count(*) from new_rows group by status
        on conflict (status) do update set n = attempt_counts.n + excluded.n;
    insert into nickname_counts (nickname, n) select nickname, count(*) from new_rows group by nickname
        on conflict (nickname) do update set n = nickname_counts.n + excluded.n;
    return null;
end $$;

create function attempts_deleted() returns trigger language plpgsql set search_path from current as $$
begin
    update attempt_counts c set n = c.n - d.k
        from (select status, count(*) as k from old_rows group by status) d where c.status = d.status;
    update nickname_counts c set n = c.n - d.k
        from (select nickname, count(*) as k from old_rows group by nickname) d where c.nickname = d.nickname;
    delete from nickname_counts where n = 0;
    return null;
end $$;

-- An upsert that rewrites an attempt fires this too; only changed statuses move a count.
create function attempts_updated() returns trigger language plpgsql set search_path from current as $$
begin
    update attempt_counts c set n = c.n - d.k
        from (select o.status, count(*) as k from old_rows o join new_rows n on n.id = o.id
              where o.status <> n.status group by o.status) d
        where c.status = d.status;
    insert into attempt_counts (status, n)
        select n.status, count(*) from old_rows o join new_rows n on n.id = o.id
        where o.status <> n.status group by n.status
        on conflict (status) do update set n = attempt_counts.n + excluded.n;
    return null;
end $$;

create trigger attempts_counted_insert after insert on attempts
    referencing new table as new_rows for each statement execute function attempts_inserted();
create trigger attempts_counted_delete after delete on attempts
    referencing old table as old_rows for each statement execute function attempts_deleted();
create trigger attempts_counted_update after update on attempts
    referencing old table as old_rows new table as new_rows
    for each statement execute function attempts_updated();

create function files_inserted() returns trigger language plpgsql set search_path from current as $$
begin
    update file_totals set bytes = bytes + (select coalesce(sum(size), 0) from new_rows) where id = 1;
    return null;
end $$;

create function files_deleted() returns trigger language plpgsql set search_path from current as $$
begin
    update file_totals set bytes = bytes - (select coalesce(sum(size), 0) from old_rows) where id = 1;
    return null;
end $$;

create function files_updated() returns trigger language plpgsql set search_path from current as $$
begin
    update file_totals set bytes = bytes - (select coalesce(sum(size), 0) from old_rows)
        + (select coalesce(sum(size), 0) from new_rows) where id = 1;
    return null;
end $$;

create trigger attempt_files_total_insert after insert on attempt_files
    referencing new table as new_rows for each statement execute function files_inserted();
create trigger attempt_files_total_delete after delete on attempt_files
    referencing old table as old_rows for each statement execute function files_deleted();
create trigger attempt_files_total_update after update on attempt_files
    referencing old table as old_rows new table as new_rows
    for each statement execute function files_updated();
