-- What a fleet shares in PostgreSQL besides each workspace's index (a schema of its own): the
-- registry of workspaces and the durable records of every workspace, each row naming its
-- workspace. Unlike the index, nothing here is derived from files.

create function invarlockd_now() returns text language sql stable
    as $$ select to_char(clock_timestamp() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

-- One row per daemon: who it is, where its API is reached, when it last proved alive.
create table workspaces (
    id text primary key,
    index_schema text not null unique,
    host text not null,
    public_url text,
    started_at text not null,
    last_contact_at text not null
);

-- Each workspace's audit log is its own chain: seq counts from 1 per workspace and is assigned
-- under a per-workspace advisory lock (Records::append_audit), so concurrent writers of one
-- workspace are serialised by the database and never fork the chain. `position` orders entries
-- across workspaces (a page of the whole fleet's log).
create table audit_log (
    position bigserial primary key,
    workspace text not null,
    seq bigint not null,
    at text not null,
    action text not null,
    subject text not null,
    actor text,
    detail text not null,
    prev_hash text not null,
    hash text not null,
    created_at text not null default invarlockd_now(),
    unique (workspace, seq)
);

create table verifications (
    seq bigserial primary key,
    workspace text not null,
    promotion text not null,
    ok boolean not null,
    result text not null,
    actor text,
    created_at text not null default invarlockd_now()
);
create index verifications_promotion on verifications (workspace, promotion, seq);

create table retention_plans (
    id text primary key,
    workspace text not null,
    created_at text not null,
    expires_at text not null,
    policy text not null,
    plan text not null,
    snapshot text not null,
    state text not null check (state in ('planned', 'applying', 'applied', 'restoring', 'restored', 'purging', 'purged')),
    applied_at text,
    restored_at text,
    purged_at text,
    bytes_reclaimed bigint not null default 0
);
create index retention_plans_state on retention_plans (workspace, state);

create table retention_moves (
    plan_id text not null references retention_plans (id),
    attempt_id text not null,
    from_path text not null,
    trash_path text not null,
    bytes bigint not null,
    state text not null check (state in ('pending', 'moved', 'restored', 'purged')),
    updated_at text not null default invarlockd_now(),
    primary key (plan_id, attempt_id)
);

create table intents (
    id bigserial primary key,
    workspace text not null,
    kind text not null check (kind in ('promotion')),
    detail text not null,
    state text not null check (state in ('open', 'done', 'rolled_back')),
    created_at text not null default invarlockd_now(),
    closed_at text
);
create index intents_open on intents (workspace, state) where state = 'open';
