//! Which subjects a refresh must re-derive when some attempts appear, change or vanish.
//!
//! An attempt `c` can matter to a subject `s` as its chosen baseline, as one more (or one fewer)
//! candidate, or through a certificate or promotion that names it. A change is a withdrawal of
//! the old row followed by an arrival of the new one, so the indexer asks twice: before writing
//! (old rows still in place) and after. The union is exactly the set a full rebuild would alter;
//! `tests.rs` checks that against full rebuilds on random histories.

use super::super::{StorageError, Tx};

/// Subjects whose pairing evidence `c` fits (same fingerprint and a compatible dataset, or the
/// same hashes for paired reports without a fingerprint), plus those tied to `c` by a mapping,
/// a certificate or a promotion.
const FITTING: &str = "
select subject from mappings where baseline_attempt = ?1
union
select s.id from attempts c join attempts s on s.baseline_fp = c.final_logloss_fp
    where c.id = ?1 and s.id <> c.id
      and (c.dataset_hash is null or coalesce(s.dataset_hash, s.events_dataset_hash) is null
           or coalesce(s.dataset_hash, s.events_dataset_hash) = c.dataset_hash)
      {fresh}
union
select s.id from attempts c join attempts s on s.dataset_hash = c.dataset_hash
    where c.id = ?1 and c.paired = 0 and c.report_valid = 1 and s.id <> c.id
      and s.paired = 1 and s.report_valid = 1 and s.baseline_fp is null
      and s.ids_sha256 is c.ids_sha256 and s.tokenizer_hash is c.tokenizer_hash
      {fresh}
union
select s.id from attempts c
    join certificates k on k.baseline_run_id = c.run_id and k.baseline_report_hash = c.report_hash
    join attempts s on s.subject_run_id = k.edited_run_id and s.subject_report_hash = k.edited_report_hash
    where c.id = ?1 and k.parse_error is null
union
select json_extract(d.metadata, '$.source_attempt') from evidence_dirs d
    where d.origin = 'invarlockd' and json_valid(d.metadata)
      and json_extract(d.metadata, '$.baseline.source_attempt') = ?1";

/// An arriving candidate cannot change a subject that already has a baseline at or before its
/// own timestamp when it arrives after that timestamp (the nearest earlier report still wins)
/// and the subject's candidate count is already saturated. At 100k attempts sharing a few
/// fingerprints this keeps a new report from re-deriving tens of thousands of subjects.
const ARRIVAL_FILTER: &str = "and (s.ts >= c.ts or not exists (
          select 1 from mappings m join attempts b on b.id = m.baseline_attempt
          where m.subject = s.id and m.candidates >= 2 and b.ts <= s.ts))";

/// Call before `ids` are rewritten or removed, while their old rows are in place.
pub async fn subjects_before_change(
    tx: &mut Tx<'_>,
    ids: &[String],
) -> Result<Vec<String>, StorageError> {
    collect(tx, ids, &FITTING.replace("{fresh}", "")).await
}

/// Call after `ids` were written (new or changed), before re-deriving.
pub async fn subjects_after_change(
    tx: &mut Tx<'_>,
    ids: &[String],
) -> Result<Vec<String>, StorageError> {
    collect(tx, ids, &FITTING.replace("{fresh}", ARRIVAL_FILTER)).await
}

/// `ids` themselves (each may be a subject) and every subject `sql` finds for them.
async fn collect(tx: &mut Tx<'_>, ids: &[String], sql: &str) -> Result<Vec<String>, StorageError> {
    let mut out: Vec<String> = ids.to_vec();
    for id in ids {
        let rows: Vec<(Option<String>,)> =
            sqlx::query_as(sql).bind(id).fetch_all(&mut **tx).await?;
        out.extend(rows.into_iter().filter_map(|r| r.0));
    }
    out.sort();
    out.dedup();
    Ok(out)
}
