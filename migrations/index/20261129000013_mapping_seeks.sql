-- Pairing-evidence lookups must be index seeks whatever the data (found at 100k attempts: a full
-- rebuild of the mappings ran for over 10 minutes). With the old (final_logloss_fp, ts) index a
-- subject whose fingerprint matched only reports of another dataset walked every report with
-- that fingerprint, and `order by ts, id` sorted them in a temp b-tree; the same held for paired
-- reports walked past while looking for an unpaired one.
drop index attempts_final_logloss_fp;
create index attempts_logloss_dataset on attempts (final_logloss_fp, dataset_hash, ts, id);
create index attempts_logloss_ts on attempts (final_logloss_fp, ts, id);
create index attempts_hash_baselines on attempts (dataset_hash, ids_sha256, tokenizer_hash, ts, id)
    where paired = 0 and report_valid = 1;
drop index evidence_files_final_logloss_fp;
create index evidence_files_logloss on evidence_files (final_logloss_fp, path);
