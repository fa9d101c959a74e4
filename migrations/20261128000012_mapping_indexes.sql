-- Incremental mapping updates look subjects up by baseline and by logloss fingerprint; without
-- these, each refresh scanned the whole attempts and mappings tables (found at 10k attempts).
create index mappings_baseline_attempt on mappings (baseline_attempt);
create index attempts_baseline_fp on attempts (baseline_fp, ts);
create index attempts_dataset_paired on attempts (dataset_hash, paired, ts);
