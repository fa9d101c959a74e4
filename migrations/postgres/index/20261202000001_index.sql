-- The index of one workspace on PostgreSQL: the same tables as the SQLite index (its migrations
-- up to 20261201220000, folded into one), in the workspace's own schema. A cache of that
-- workspace's runs/ and reports/: its daemon rewrites it by a full scan, so nothing here is
-- durable. Run with search_path set to the schema; trigger functions capture it (`set
-- search_path from current`) because they run under the caller's search_path otherwise.

create function now_text() returns text language sql stable
    as $$ select to_char(clock_timestamp() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

-- Text columns compare bytewise (collation "C"), as SQLite's do: listing order and keyset
-- pages agree with the SQLite backend whatever the database's default collation.
create table attempts (
    id text collate "C" primary key,
    nickname text collate "C" not null,
    ts text collate "C" not null,
    started_at text collate "C",
    dir text collate "C" not null,
    status text collate "C" not null check (status in ('pass', 'fail', 'error', 'invalid', 'running')),
    reason text collate "C",
    report_size bigint,
    report_mtime_ns bigint,
    report_sha256 text collate "C",
    events_size bigint,
    events_mtime_ns bigint,
    listing_digest text collate "C" not null,
    newest_mtime_ns bigint,
    report_valid boolean not null default false,
    report_error text collate "C",
    model_id text collate "C",
    adapter text collate "C",
    edit_name text collate "C",
    profile text collate "C",
    seed bigint,
    dataset_hash text collate "C",
    preview_hash text collate "C",
    final_hash text collate "C",
    tokenizer_hash text collate "C",
    ids_sha256 text collate "C",
    pm_kind text collate "C",
    paired boolean not null default false,
    window_pairing_reason text collate "C",
    final_logloss_fp text collate "C",
    run_id text collate "C",
    report_hash text collate "C",
    subject_run_id text collate "C",
    subject_report_hash text collate "C",
    guards_not_passed text collate "C",
    overhead_gate_failed boolean not null default false,
    pm_invalid boolean not null default false,
    detail text collate "C",
    events_summary text collate "C",
    runner_status text collate "C",
    runner_error text collate "C",
    sessions bigint,
    session_open boolean not null default false,
    baseline_fp text collate "C",
    events_dataset_hash text collate "C",
    created_at text collate "C" not null default now_text(),
    updated_at text collate "C" not null default now_text()
);
create index attempts_ts on attempts (ts, id);
create index attempts_nickname_ts on attempts (nickname, ts, id);
create index attempts_nickname_status on attempts (nickname, status, ts, id);
create index attempts_status on attempts (status, ts, id);
create index attempts_model_id_ts on attempts (model_id, ts, id);
create index attempts_edit_name_ts on attempts (edit_name, ts, id);
create index attempts_tokenizer_hash_ts on attempts (tokenizer_hash, ts, id);
create index attempts_ids_sha256_ts on attempts (ids_sha256, ts, id);
create index attempts_dataset_ids_ts on attempts (dataset_hash, ids_sha256, ts, id);
create index attempts_report_sha256 on attempts (report_sha256);
create index attempts_digests on attempts (run_id, report_hash);
create index attempts_subject_digests on attempts (subject_run_id, subject_report_hash);
create index attempts_baseline_fp on attempts (baseline_fp, ts);
create index attempts_logloss_dataset on attempts (final_logloss_fp, dataset_hash, ts, id);
create index attempts_logloss_ts on attempts (final_logloss_fp, ts, id);
create index attempts_hash_baselines on attempts (dataset_hash, ids_sha256, tokenizer_hash, ts, id)
    where not paired and report_valid;

create table attempt_files (
    attempt_id text collate "C" not null references attempts (id) on delete cascade,
    name text collate "C" not null,
    size bigint not null,
    mtime_ns bigint not null,
    sha256 text collate "C",
    created_at text collate "C" not null default now_text(),
    primary key (attempt_id, name)
);

create table attempt_history (
    seq bigserial primary key,
    attempt_id text collate "C" not null,
    event text collate "C" not null check (event in ('indexed', 'updated', 'removed')),
    status text collate "C",
    reason text collate "C",
    report_sha256 text collate "C",
    created_at text collate "C" not null default now_text()
);
create index attempt_history_attempt on attempt_history (attempt_id, seq);

create table unrecognized (
    path text collate "C" primary key,
    kind text collate "C" not null,
    reason text collate "C" not null,
    created_at text collate "C" not null default now_text()
);

create table evidence_dirs (
    path text collate "C" primary key,
    origin text collate "C" not null check (origin in ('external', 'invarlockd')),
    metadata text collate "C",
    -- `metadata` parsed, null when it is not JSON (SQLite's json_valid/json_extract).
    meta jsonb,
    created_at text collate "C" not null default now_text(),
    updated_at text collate "C" not null default now_text()
);

create table evidence_files (
    path text collate "C" primary key,
    dir text collate "C" not null references evidence_dirs (path) on delete cascade,
    size bigint not null,
    mtime_ns bigint not null,
    sha256 text collate "C",
    run_id text collate "C",
    report_hash text collate "C",
    final_logloss_fp text collate "C",
    created_at text collate "C" not null default now_text()
);
create index evidence_files_dir on evidence_files (dir);
create index evidence_files_digests on evidence_files (run_id, report_hash);
create index evidence_files_sha256 on evidence_files (sha256);
create index evidence_files_logloss on evidence_files (final_logloss_fp, path);

create table certificates (
    path text collate "C" primary key,
    dir text collate "C" not null,
    size bigint not null,
    mtime_ns bigint not null,
    sha256 text collate "C" not null,
    parse_error text collate "C",
    run_id text collate "C",
    edited_run_id text collate "C",
    edited_report_hash text collate "C",
    baseline_run_id text collate "C",
    baseline_report_hash text collate "C",
    validation text collate "C",
    policy_digest text collate "C",
    created_at text collate "C" not null default now_text(),
    updated_at text collate "C" not null default now_text()
);
create index certificates_edited on certificates (edited_run_id, edited_report_hash);

create table mappings (
    subject text collate "C" primary key references attempts (id) on delete cascade,
    baseline_attempt text collate "C",
    baseline_archived text collate "C",
    how text collate "C" not null check (how in ('certificate', 'promotion', 'pairing_evidence')),
    confidence text collate "C" not null check (confidence in ('high', 'medium', 'low')),
    certificate text collate "C",
    candidates bigint not null default 1,
    note text collate "C",
    created_at text collate "C" not null default now_text()
);
create index mappings_baseline_attempt on mappings (baseline_attempt);

create table pairing_open (
    subject text collate "C" primary key references attempts (id) on delete cascade,
    fit text collate "C" not null,
    dh text collate "C"
);
create index pairing_open_fit on pairing_open (fit, dh);

create table convenience_copies (
    nickname text collate "C" primary key,
    source_attempt text collate "C" not null,
    sha256 text collate "C" not null,
    size bigint not null,
    mtime_ns bigint not null,
    created_at text collate "C" not null default now_text()
);

create table index_meta (
    key text collate "C" primary key,
    value text collate "C" not null,
    created_at text collate "C" not null default now_text()
);
