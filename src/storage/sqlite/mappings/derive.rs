//! The SQL that derives mappings. Each statement inserts with `or ignore` and they run in
//! priority order, so certificates win over promotions and promotions over pairing evidence.
//! `{scope}` / `{scope_s}` restrict the subjects (a refresh re-derives only those affected).
//!
//! Every lookup is a bounded index seek (migration 013): the cost of a full rebuild grows with
//! the number of subjects, not with the number of reports that share a fingerprint.

use crate::storage::mappings::sql::COMPATIBLE;
pub(super) use crate::storage::mappings::sql::{fit_fp, fit_hash};

pub(super) const CERTIFICATE_MAPPINGS: &str = "
insert or ignore into mappings (subject, baseline_attempt, baseline_archived, how, confidence, certificate, candidates, note)
select subject, battempt, barchived, 'certificate', 'high', path, 1,
       'certificate provenance.edited and baseline digests (run_id, report_hash) match exactly'
from (
    select s.id as subject, c.path as path,
        (select b.id from attempts b where b.run_id = c.baseline_run_id and b.report_hash = c.baseline_report_hash
            order by b.ts desc limit 1) as battempt,
        (select f.path from evidence_files f where f.run_id = c.baseline_run_id and f.report_hash = c.baseline_report_hash
            order by f.path limit 1) as barchived
    from certificates c
    join attempts s on s.subject_run_id = c.edited_run_id and s.subject_report_hash = c.edited_report_hash
    where c.parse_error is null and c.edited_run_id is not null {scope_s}
    order by c.path
)
where battempt is not null or barchived is not null";

/// Promotions recorded by invarlockd (`reports/<name>/metadata.json`, kind `subject`).
pub(super) const PROMOTION_MAPPINGS: &str = "
insert or ignore into mappings (subject, baseline_attempt, baseline_archived, how, confidence, certificate, candidates, note)
select s.id, b.id, 'reports/' || json_extract(d.metadata, '$.baseline.name') || '/report.json', 'promotion', 'high', null, 1,
       'recorded by the invarlockd promotion ' || d.path
from evidence_dirs d
join attempts s on s.id = json_extract(d.metadata, '$.source_attempt')
left join attempts b on b.id = json_extract(d.metadata, '$.baseline.source_attempt')
where d.origin = 'invarlockd' and json_valid(d.metadata) and json_extract(d.metadata, '$.kind') = 'subject'
  and json_extract(d.metadata, '$.baseline.name') is not null {scope_s}";

/// Subjects whose events quote the baseline's final logloss: the newest matching report of a
/// compatible dataset at or before the subject's timestamp (else the oldest after it).
///
/// A report is compatible when either side's dataset hash is unknown or both are equal. That
/// `or` defeats an index, so each lookup is a union of three seeks, one per case, each on an
/// index that ends in (ts, id) and so stops at its first row. The CTEs are materialized because
/// SQLite would otherwise evaluate each scalar subquery once per mention.
pub(super) fn fingerprint_mappings(scope: &str) -> String {
    format!(
        "insert or ignore into mappings (subject, baseline_attempt, baseline_archived, how, confidence, certificate, candidates, note)
with s as materialized (
    select id, ts, baseline_fp as fp, coalesce(dataset_hash, events_dataset_hash) as dh from attempts
    where baseline_fp is not null {scope}
), m as materialized (
    select s.id,
        coalesce({before}, {after}) as battempt,
        (select f.path from evidence_files f where f.final_logloss_fp = s.fp order by f.path limit 1) as barchived,
        min(2, {any}
          + (select count(*) from (select 1 from evidence_files f where f.final_logloss_fp = s.fp
                and not exists (select 1 from attempts b where b.report_sha256 = f.sha256) limit 2))) as n
    from s
)
select id, battempt, case when battempt is null then barchived end, 'pairing_evidence',
       case when n = 1 then 'high' else 'medium' end, null, n,
       case when n = 1
            then 'runner/start baseline_eval_windows.final.logloss equals this baseline''s evaluation_windows.final.logloss'
            else 'several reports have the quoted baseline logloss; the newest one not after the subject was chosen'
       end
from m
where battempt is not null or barchived is not null",
        before = nearest_compatible("<=", "desc"),
        after = nearest_compatible(">", "asc"),
        any = compatible_counts(),
    )
}

/// The id of the compatible report nearest to `s.ts` on one side (`cmp`, `order`).
fn nearest_compatible(cmp: &str, order: &str) -> String {
    let seeks = compatible_seeks(
        "b.id, b.ts",
        &format!(" and b.ts {cmp} s.ts"),
        &format!(" order by b.ts {order}, b.id {order}"),
    );
    format!("(select id from ({seeks}) order by ts {order}, id {order} limit 1)")
}

/// The number of compatible reports, capped at 2 per case. A sum of scalar counts: SQLite
/// 3.46 (bundled by sqlx) returned 0 for `count(*)` over the `union all` of the same seeks,
/// which SQLite 3.40 counts correctly (found by the property test in `tests.rs`).
fn compatible_counts() -> String {
    COMPATIBLE
        .map(|case| {
            format!(
                "(select count(*) from (select 1 from attempts b
                    where b.final_logloss_fp = s.fp and b.id <> s.id and {case} limit 2))"
            )
        })
        .join(" + ")
}

/// One bounded seek per compatibility case (`COMPATIBLE`).
fn compatible_seeks(columns: &str, range: &str, order: &str) -> String {
    COMPATIBLE
        .map(|case| {
            format!(
                "select * from (select {columns} from attempts b
                    where b.final_logloss_fp = s.fp and b.id <> s.id{range} and {case}{order} limit 1)"
            )
        })
        .join(" union all ")
}

/// Paired reports (window_pairing_reason null) without a logloss fingerprint: an unpaired
/// report with the same dataset hash, window-id digest and tokenizer hash.
/// (`+baseline_fp`, here and in `open_subjects`, keeps SQLite from driving a scoped query by
/// the baseline_fp index, which at 100k attempts walked 47k null entries instead of the scope.)
pub(super) const HASH_MAPPINGS: &str = "
insert or ignore into mappings (subject, baseline_attempt, baseline_archived, how, confidence, certificate, candidates, note)
select id, battempt, null, 'pairing_evidence', case when n = 1 then 'medium' else 'low' end, null, n,
       'same dataset_hash, ids_sha256 and tokenizer hash as an unpaired report (no logloss fingerprint)'
from (
    select s.id,
        coalesce(
            (select b.id from attempts b where b.dataset_hash = s.dataset_hash and b.ids_sha256 is s.ids_sha256
                and b.tokenizer_hash is s.tokenizer_hash and b.paired = 0 and b.report_valid = 1 and b.id <> s.id
                and b.ts <= s.ts order by b.ts desc, b.id desc limit 1),
            (select b.id from attempts b where b.dataset_hash = s.dataset_hash and b.ids_sha256 is s.ids_sha256
                and b.tokenizer_hash is s.tokenizer_hash and b.paired = 0 and b.report_valid = 1 and b.id <> s.id
                and b.ts > s.ts order by b.ts asc, b.id asc limit 1)) as battempt,
        (select count(*) from (select 1 from attempts b where b.dataset_hash = s.dataset_hash and b.ids_sha256 is s.ids_sha256
            and b.tokenizer_hash is s.tokenizer_hash and b.paired = 0 and b.report_valid = 1 and b.id <> s.id limit 2)) as n
    from (select id, ts, dataset_hash, ids_sha256, tokenizer_hash from attempts
          where paired = 1 and report_valid = 1 and dataset_hash is not null and +baseline_fp is null {scope}) s
)
where battempt is not null";

/// Re-fills `pairing_open` for the subjects in scope, after their mappings were derived: a
/// subject is settled once it has a baseline at or before its own timestamp and two or more
/// candidates, because no later report can then change its mapping.
pub(super) fn open_subjects(scope: &str) -> String {
    let unsettled =
        "not exists (select 1 from mappings m join attempts b on b.id = m.baseline_attempt
            where m.subject = s.id and m.candidates >= 2 and b.ts <= s.ts)";
    let (fp, hash) = (fit_fp("s.baseline_fp"), fit_hash("s"));
    format!(
        "insert into pairing_open (subject, fit, dh)
select s.id, {fp}, coalesce(s.dataset_hash, s.events_dataset_hash) from attempts s
where s.baseline_fp is not null {scope} and {unsettled}
union all
select s.id, {hash}, null from attempts s
where s.paired = 1 and s.report_valid = 1 and s.dataset_hash is not null and +s.baseline_fp is null
  {scope} and {unsettled}"
    )
}
