//! The mapping derivation of `storage::sqlite::mappings::derive` in PostgreSQL's dialect, on one
//! workspace's schema (`{s}`). The rules and the order are the same (certificates win over
//! promotions, promotions over pairing evidence: each statement inserts only subjects not yet
//! mapped). Differences are of dialect only: `on conflict do nothing` for `or ignore`, `is not
//! distinct from` for `is`, booleans, `meta` (parsed metadata) for `json_extract`, `least` for
//! the two-argument `min`, and named subqueries. `{scope}`/`{scope_s}` restrict the subjects to
//! the array bound as $1.

use crate::storage::mappings::sql::COMPATIBLE;
pub(super) use crate::storage::mappings::sql::{fit_fp, fit_hash};

pub(super) const CERTIFICATE_MAPPINGS: &str = "
insert into {s}.mappings (subject, baseline_attempt, baseline_archived, how, confidence, certificate, candidates, note)
select distinct on (subject) subject, battempt, barchived, 'certificate', 'high', path, 1,
       'certificate provenance.edited and baseline digests (run_id, report_hash) match exactly'
from (
    select s.id as subject, c.path as path,
        (select b.id from {s}.attempts b where b.run_id = c.baseline_run_id and b.report_hash = c.baseline_report_hash
            order by b.ts desc limit 1) as battempt,
        (select f.path from {s}.evidence_files f where f.run_id = c.baseline_run_id and f.report_hash = c.baseline_report_hash
            order by f.path limit 1) as barchived
    from {s}.certificates c
    join {s}.attempts s on s.subject_run_id = c.edited_run_id and s.subject_report_hash = c.edited_report_hash
    where c.parse_error is null and c.edited_run_id is not null {scope_s}
) x
where battempt is not null or barchived is not null
order by subject, path
on conflict (subject) do nothing";

pub(super) const PROMOTION_MAPPINGS: &str = "
insert into {s}.mappings (subject, baseline_attempt, baseline_archived, how, confidence, certificate, candidates, note)
select distinct on (s.id) s.id, b.id, 'reports/' || (d.meta #>> '{baseline,name}') || '/report.json', 'promotion', 'high', null, 1,
       'recorded by the invarlockd promotion ' || d.path
from {s}.evidence_dirs d
join {s}.attempts s on s.id = d.meta ->> 'source_attempt'
left join {s}.attempts b on b.id = d.meta #>> '{baseline,source_attempt}'
where d.origin = 'invarlockd' and jsonb_typeof(d.meta) = 'object' and d.meta ->> 'kind' = 'subject'
  and d.meta #>> '{baseline,name}' is not null {scope_s}
order by s.id, d.path
on conflict (subject) do nothing";

/// Subjects whose events quote the baseline's final logloss (see the SQLite version).
pub(super) fn fingerprint_mappings(scope: &str) -> String {
    format!(
        "insert into {{s}}.mappings (subject, baseline_attempt, baseline_archived, how, confidence, certificate, candidates, note)
with s as materialized (
    select id, ts, baseline_fp as fp, coalesce(dataset_hash, events_dataset_hash) as dh from {{s}}.attempts
    where baseline_fp is not null {scope}
), m as materialized (
    select s.id,
        coalesce({before}, {after}) as battempt,
        (select f.path from {{s}}.evidence_files f where f.final_logloss_fp = s.fp order by f.path limit 1) as barchived,
        least(2, {any}
          + (select count(*) from (select 1 from {{s}}.evidence_files f where f.final_logloss_fp = s.fp
                and not exists (select 1 from {{s}}.attempts b where b.report_sha256 = f.sha256) limit 2) e)) as n
    from s
)
select id, battempt, case when battempt is null then barchived end, 'pairing_evidence',
       case when n = 1 then 'high' else 'medium' end, null, n,
       case when n = 1
            then 'runner/start baseline_eval_windows.final.logloss equals this baseline''s evaluation_windows.final.logloss'
            else 'several reports have the quoted baseline logloss; the newest one not after the subject was chosen'
       end
from m
where battempt is not null or barchived is not null
on conflict (subject) do nothing",
        before = nearest_compatible("<=", "desc"),
        after = nearest_compatible(">", "asc"),
        any = compatible_counts(),
    )
}

fn nearest_compatible(cmp: &str, order: &str) -> String {
    let seeks = compatible_seeks(
        "b.id, b.ts",
        &format!(" and b.ts {cmp} s.ts"),
        &format!(" order by b.ts {order}, b.id {order}"),
    );
    format!("(select id from ({seeks}) u order by ts {order}, id {order} limit 1)")
}

fn compatible_counts() -> String {
    COMPATIBLE
        .map(|case| {
            format!(
                "(select count(*) from (select 1 from {{s}}.attempts b
                    where b.final_logloss_fp = s.fp and b.id <> s.id and {case} limit 2) c)"
            )
        })
        .join(" + ")
}

fn compatible_seeks(columns: &str, range: &str, order: &str) -> String {
    COMPATIBLE
        .map(|case| {
            format!(
                "select * from (select {columns} from {{s}}.attempts b
                    where b.final_logloss_fp = s.fp and b.id <> s.id{range} and {case}{order} limit 1) v"
            )
        })
        .join(" union all ")
}

pub(super) const HASH_MAPPINGS: &str = "
insert into {s}.mappings (subject, baseline_attempt, baseline_archived, how, confidence, certificate, candidates, note)
select id, battempt, null, 'pairing_evidence', case when n = 1 then 'medium' else 'low' end, null, n,
       'same dataset_hash, ids_sha256 and tokenizer hash as an unpaired report (no logloss fingerprint)'
from (
    select s.id,
        coalesce(
            (select b.id from {s}.attempts b where b.dataset_hash = s.dataset_hash and b.ids_sha256 is not distinct from s.ids_sha256
                and b.tokenizer_hash is not distinct from s.tokenizer_hash and not b.paired and b.report_valid and b.id <> s.id
                and b.ts <= s.ts order by b.ts desc, b.id desc limit 1),
            (select b.id from {s}.attempts b where b.dataset_hash = s.dataset_hash and b.ids_sha256 is not distinct from s.ids_sha256
                and b.tokenizer_hash is not distinct from s.tokenizer_hash and not b.paired and b.report_valid and b.id <> s.id
                and b.ts > s.ts order by b.ts asc, b.id asc limit 1)) as battempt,
        (select count(*) from (select 1 from {s}.attempts b where b.dataset_hash = s.dataset_hash
            and b.ids_sha256 is not distinct from s.ids_sha256 and b.tokenizer_hash is not distinct from s.tokenizer_hash
            and not b.paired and b.report_valid and b.id <> s.id limit 2) c) as n
    from (select id, ts, dataset_hash, ids_sha256, tokenizer_hash from {s}.attempts
          where paired and report_valid and dataset_hash is not null and baseline_fp is null {scope}) s
) x
where battempt is not null
on conflict (subject) do nothing";

pub(super) fn open_subjects(scope: &str) -> String {
    let unsettled =
        "not exists (select 1 from {s}.mappings m join {s}.attempts b on b.id = m.baseline_attempt
            where m.subject = s.id and m.candidates >= 2 and b.ts <= s.ts)";
    let (fp, hash) = (fit_fp("s.baseline_fp"), fit_hash("s"));
    format!(
        "insert into {{s}}.pairing_open (subject, fit, dh)
select s.id, {fp}, coalesce(s.dataset_hash, s.events_dataset_hash) from {{s}}.attempts s
where s.baseline_fp is not null {scope} and {unsettled}
union all
select s.id, {hash}, null from {{s}}.attempts s
where s.paired and s.report_valid and s.dataset_hash is not null and s.baseline_fp is null
  {scope} and {unsettled}"
    )
}
