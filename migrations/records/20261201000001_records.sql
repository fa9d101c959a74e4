-- invarlockd's durable records: what it did, kept apart from the index (a cache of the
-- filesystem that may be deleted at any moment). Nothing here is derived from files; losing
-- this database loses history, so it is opened with synchronous=FULL.

-- Append-only and hash-chained: hash = sha256(prev_hash | seq | at | action | subject | actor | detail).
-- `seq` comes from the database (autoincrement), never from select-max.
create table audit_log (
    seq integer primary key autoincrement,
    at text not null,
    action text not null,
    subject text not null,
    actor text,
    detail text not null,
    prev_hash text not null,
    hash text not null,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

create table verifications (
    seq integer primary key autoincrement,
    promotion text not null,
    ok integer not null,
    result text not null,
    actor text,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
create index verifications_promotion on verifications (promotion, seq);

-- Retention plans and the moves that apply them. The plan's state is its intent: `applying`,
-- `restoring` and `purging` are written (with every pending move) before the filesystem is
-- touched, and finished at the next start if the process died.
create table retention_plans (
    id text primary key not null,
    created_at text not null,
    expires_at text not null,
    policy text not null,                 -- json (retention::Policy)
    plan text not null,                   -- json (retention::PlanBody)
    snapshot text not null,               -- json (retention::Snapshot)
    state text not null check (state in ('planned', 'applying', 'applied', 'restoring', 'restored', 'purging', 'purged')),
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

-- Intents of mutations that create evidence (promotions): written before the first archive
-- directory is created; closed in the transaction that appends their audit entries, or when
-- what they created is rolled back.
create table intents (
    id integer primary key autoincrement,
    kind text not null check (kind in ('promotion')),
    detail text not null,                 -- json (promote::intent::PromotionIntent)
    state text not null check (state in ('open', 'done', 'rolled_back')),
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    closed_at text
);
create index intents_open on intents (state) where state = 'open';
