-- Subjects whose pairing-evidence mapping a newly arriving report could still change: those
-- without a baseline at or before their own timestamp, or with fewer than two candidates. A new
-- report then re-derives only these (and subjects newer than it) instead of walking every
-- subject that quotes the same fingerprint (0.15 s per new report at 100k attempts).
-- `fit` is the evidence a candidate must match ('fp:' || baseline_fp, or 'hash:' || the paired
-- hashes); `dh` the subject's dataset hash, for the fingerprint kind's compatibility rule.
create table pairing_open (
    subject text primary key not null references attempts (id) on delete cascade,
    fit text not null,
    dh text
) without rowid;
create index pairing_open_fit on pairing_open (fit, dh);

-- Every subject starts open (a safe superset); the next full scan narrows the set.
insert into pairing_open (subject, fit, dh)
select id, 'fp:' || baseline_fp, coalesce(dataset_hash, events_dataset_hash) from attempts
where baseline_fp is not null;
insert or ignore into pairing_open (subject, fit, dh)
select id, 'hash:' || dataset_hash || ':' || coalesce(ids_sha256, '') || ':' || coalesce(tokenizer_hash, ''), null
from attempts
where paired = 1 and report_valid = 1 and dataset_hash is not null and baseline_fp is null;
