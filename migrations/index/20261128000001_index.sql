-- The index of runs/ and reports/: a cache of the filesystem, rebuilt from it when deleted.

create table attempts (
    id text primary key not null,              -- <nickname>/<YYYYMMDD_HHMMSS>
    nickname text not null,
    ts text not null,                          -- directory name, local time of the run
    started_at text,                           -- RFC 3339 UTC of ts in the configured zone
    dir text not null,                         -- path relative to the workspace root
    status text not null check (status in ('pass', 'fail', 'error', 'invalid', 'running')),
    reason text,
    -- change detection: (size, mtime_ns) of the two files we read, plus a digest of the listing
    report_size integer,
    report_mtime_ns integer,
    report_sha256 text,
    events_size integer,
    events_mtime_ns integer,
    listing_digest text not null,
    newest_mtime_ns integer,                   -- newest file mtime inside the directory
    -- facts from report.json (null when absent or invalid)
    report_valid integer not null default 0,
    report_error text,
    model_id text,
    adapter text,
    edit_name text,
    profile text,
    seed integer,
    dataset_hash text,
    preview_hash text,
    final_hash text,
    tokenizer_hash text,
    ids_sha256 text,
    pm_kind text,
    paired integer not null default 0,
    window_pairing_reason text,
    final_logloss_fp text,
    run_id text,
    report_hash text,
    subject_run_id text,
    subject_report_hash text,
    guards_not_passed text,                    -- json array of names
    overhead_gate_failed integer not null default 0,
    pm_invalid integer not null default 0,
    detail text,                               -- json shown by the detail endpoint
    -- facts from events.jsonl
    events_summary text,                       -- json
    runner_status text,
    runner_error text,
    sessions integer,
    session_open integer not null default 0,
    baseline_fp text,
    events_dataset_hash text,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

create index attempts_nickname_ts on attempts (nickname, ts, id);
create index attempts_ts on attempts (ts, id);
create index attempts_status on attempts (status, ts, id);
create index attempts_model_id on attempts (model_id);
create index attempts_dataset_hash on attempts (dataset_hash, ids_sha256, ts);
create index attempts_tokenizer_hash on attempts (tokenizer_hash);
create index attempts_ids_sha256 on attempts (ids_sha256);
create index attempts_final_logloss_fp on attempts (final_logloss_fp, ts);
create index attempts_report_sha256 on attempts (report_sha256);
create index attempts_digests on attempts (run_id, report_hash);
create index attempts_subject_digests on attempts (subject_run_id, subject_report_hash);

create table attempt_files (
    attempt_id text not null references attempts (id) on delete cascade,
    name text not null,                        -- path relative to the attempt directory
    size integer not null,
    mtime_ns integer not null,
    sha256 text,                               -- null for files above the hashing limit
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    primary key (attempt_id, name)
);

-- Append-only: every index, change and removal of an attempt. Survives the attempt's removal.
create table attempt_history (
    seq integer primary key autoincrement,
    attempt_id text not null,
    event text not null check (event in ('indexed', 'updated', 'removed')),
    status text,
    reason text,
    report_sha256 text,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
create index attempt_history_attempt on attempt_history (attempt_id, seq);

-- Entries under runs/ that are neither attempts nor invarlockd's convenience copies.
create table unrecognized (
    path text primary key not null,            -- relative to the workspace root
    kind text not null,                        -- file | dir | symlink | other
    reason text not null,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Directories of reports/ and reports_*/ holding evidence.
create table evidence_dirs (
    path text primary key not null,            -- relative to the workspace root
    origin text not null check (origin in ('external', 'invarlockd')),
    metadata text,                             -- metadata.json as json, if parseable
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

create table evidence_files (
    path text primary key not null,            -- relative to the workspace root
    dir text not null references evidence_dirs (path) on delete cascade,
    size integer not null,
    mtime_ns integer not null,
    sha256 text,
    -- for report copies: §5.4 digests
    run_id text,
    report_hash text,
    final_logloss_fp text,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
create index evidence_files_dir on evidence_files (dir);
create index evidence_files_digests on evidence_files (run_id, report_hash);
create index evidence_files_sha256 on evidence_files (sha256);
create index evidence_files_final_logloss_fp on evidence_files (final_logloss_fp);

create table certificates (
    path text primary key not null,            -- relative to the workspace root
    dir text not null,
    size integer not null,
    mtime_ns integer not null,
    sha256 text not null,
    parse_error text,
    run_id text,
    edited_run_id text,
    edited_report_hash text,
    baseline_run_id text,                      -- baseline_ref.run_id
    baseline_report_hash text,                 -- provenance.baseline.report_hash
    validation text,                           -- json object of flags
    policy_digest text,                        -- auto.policy_digest
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
create index certificates_edited on certificates (edited_run_id, edited_report_hash);

-- Derived run -> baseline mappings; recomputed from the tables above.
create table mappings (
    subject text primary key not null references attempts (id) on delete cascade,
    baseline_attempt text,
    baseline_archived text,                    -- path of an archived report.json
    how text not null check (how in ('certificate', 'promotion', 'pairing_evidence')),
    confidence text not null check (confidence in ('high', 'medium', 'low')),
    certificate text,
    candidates integer not null default 1,
    note text,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- runs/<nickname>/report.json files written by invarlockd.
create table convenience_copies (
    nickname text primary key not null,
    source_attempt text not null,
    sha256 text not null,
    size integer not null,
    mtime_ns integer not null,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

create table index_meta (
    key text primary key not null,
    value text not null,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
