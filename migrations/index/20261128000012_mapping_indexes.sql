-- Incremental mapping updates look subjects up by baseline and by logloss fingerprint; without
-- these, each refresh scanned the whole attempts and mappings tables (found at 10k attempts).
create index mappings_baseline_attempt on mappings (baseline_attempt);
create index attempts_baseline_fp on attempts (baseline_fp, ts);
-- Only subjects without a logloss fingerprint can map by hashes (HASH_MAPPINGS).
create index attempts_hash_mappable on attempts (dataset_hash, ts) where paired = 1 and baseline_fp is null;
