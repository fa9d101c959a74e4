-- Every filter of GET /v1/attempts is served by an index that also gives the listing order
-- (ts desc, id desc): an equality filter seeks its column and reads the page in order, never
-- sorting every matching row in a temporary b-tree (issue 16; checked by the EXPLAIN QUERY PLAN
-- test in src/storage/sqlite/attempts.rs). Each replaced index is a prefix of its successor,
-- so every query that used it still can.
drop index if exists attempts_model_id;
create index attempts_model_id_ts on attempts (model_id, ts, id);
create index attempts_edit_name_ts on attempts (edit_name, ts, id);
drop index if exists attempts_tokenizer_hash;
create index attempts_tokenizer_hash_ts on attempts (tokenizer_hash, ts, id);
drop index if exists attempts_ids_sha256;
create index attempts_ids_sha256_ts on attempts (ids_sha256, ts, id);
create index attempts_dataset_hash_ts on attempts (dataset_hash, ts, id);
drop index if exists attempts_dataset_hash;
create index attempts_dataset_ids_ts on attempts (dataset_hash, ids_sha256, ts, id);
