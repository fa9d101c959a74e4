-- "Latest pass of a nickname" (convenience copies, /v1/runs, promotion defaults) as one seek.
-- Without it, choosing the convenience copies at 100k attempts compared every pass with every
-- other pass of its nickname (26 s per full scan).
create index attempts_nickname_status on attempts (nickname, status, ts, id);

-- Counts for /v1/status and the attempts gauge, kept by triggers: counting 100k rows on every
-- refresh and status request cost ~25 ms each (the gauge alone ran after every refresh).
-- No `insert or ignore` in the triggers: the conflict policy of the statement that fires a
-- trigger overrides the trigger's own, and the indexer's upsert would then abort.
create table attempt_counts (status text primary key not null, n integer not null) without rowid;
insert into attempt_counts (status, n) select status, count(*) from attempts group by status;
create table nickname_counts (nickname text primary key not null, n integer not null) without rowid;
insert into nickname_counts (nickname, n) select nickname, count(*) from attempts group by nickname;

create trigger attempts_counted_insert after insert on attempts begin
    insert into attempt_counts (status, n) select new.status, 0
        where not exists (select 1 from attempt_counts where status = new.status);
    update attempt_counts set n = n + 1 where status = new.status;
    insert into nickname_counts (nickname, n) select new.nickname, 0
        where not exists (select 1 from nickname_counts where nickname = new.nickname);
    update nickname_counts set n = n + 1 where nickname = new.nickname;
end;

create trigger attempts_counted_delete after delete on attempts begin
    update attempt_counts set n = n - 1 where status = old.status;
    update nickname_counts set n = n - 1 where nickname = old.nickname;
    delete from nickname_counts where nickname = old.nickname and n = 0;
end;

create trigger attempts_counted_status after update of status on attempts
when old.status is not new.status begin
    update attempt_counts set n = n - 1 where status = old.status;
    insert into attempt_counts (status, n) select new.status, 0
        where not exists (select 1 from attempt_counts where status = new.status);
    update attempt_counts set n = n + 1 where status = new.status;
end;
