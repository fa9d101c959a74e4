-- The unfiltered listing (GET /v1/attempts, alone or with since/until or a page token) reads
-- the newest entries of (ts, id). With only those two columns in the index, each of a page's
-- 101 rows was a lookup into the table, whose rows (about 3 kB with `detail`) fill a page
-- each: 101 random page reads per uncached page. This index also holds every column the
-- listing's JSON object shows (AttemptSummaryRow::JSON), so the page is one ordered walk of
-- the index and the table is not read (issue 16; about 6% more file at 100k attempts). The
-- EXPLAIN QUERY PLAN test in src/storage/sqlite/attempts/query_plans.rs fails if a column is
-- added to the listing without being added here. It starts with (ts, id), so every query
-- that used attempts_ts still can.
create index attempts_ts_list on attempts (
    ts, id, nickname, started_at, status, reason, model_id, edit_name, profile,
    dataset_hash, tokenizer_hash, ids_sha256, pm_kind, run_id, report_hash, report_sha256
);
drop index if exists attempts_ts;
