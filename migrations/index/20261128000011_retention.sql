-- Retention plans and the moves that apply them (two phases: runs/ -> trash, then purge).
create table retention_plans (
    id text primary key not null,
    created_at text not null,
    expires_at text not null,
    policy text not null,                 -- json
    plan text not null,                   -- json: delete[] and keep[] with reasons
    snapshot text not null,               -- json: what must be unchanged at apply
    state text not null check (state in ('planned', 'applying', 'applied', 'restored', 'purged')),
    applied_at text,
    restored_at text,
    purged_at text,
    bytes_reclaimed integer not null default 0
);

create table retention_moves (
    plan_id text not null references retention_plans (id),
    attempt_id text not null,
    from_path text not null,              -- relative to the workspace root
    trash_path text not null,             -- relative to the workspace root
    bytes integer not null,
    state text not null check (state in ('pending', 'moved', 'restored', 'purged')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    primary key (plan_id, attempt_id)
);
