//! Which subjects a refresh must re-derive when some attempts appear, change or vanish.
//!
//! An attempt `c` can matter to a subject `s` as its chosen baseline, as one more (or one fewer)
//! candidate, or through a certificate or promotion that names it. A change is a withdrawal of
//! the old row followed by an arrival of the new one, so the indexer asks twice: before writing
//! (old rows still in place) and after. The union is exactly the set a full rebuild would alter;
//! `tests.rs` checks that against full rebuilds and a model on random histories.

use super::super::Tx;
use super::derive::{fit_fp, fit_hash};
use crate::storage::StorageError;

/// Subjects tied to `c` by a mapping, a certificate or a promotion.
const TIED: &str = "
select subject from mappings where baseline_attempt = ?1
union
select s.id from attempts c
    join certificates k on k.baseline_run_id = c.run_id and k.baseline_report_hash = c.report_hash
    join attempts s on s.subject_run_id = k.edited_run_id and s.subject_report_hash = k.edited_report_hash
    where c.id = ?1 and k.parse_error is null
union
select json_extract(d.metadata, '$.source_attempt') from evidence_dirs d
    where d.origin = 'invarlockd' and json_valid(d.metadata)
      and json_extract(d.metadata, '$.baseline.source_attempt') = ?1";

/// Subjects whose pairing evidence `c` fits: the same fingerprint and a compatible dataset, or
/// the same hashes for paired reports without a fingerprint. `{newer}` may restrict them to
/// subjects not older than `c`.
const FITTING: &str = "
select s.id from attempts c join attempts s on s.baseline_fp = c.final_logloss_fp
    where c.id = ?1 and s.id <> c.id {newer}
      and (c.dataset_hash is null or coalesce(s.dataset_hash, s.events_dataset_hash) is null
           or coalesce(s.dataset_hash, s.events_dataset_hash) = c.dataset_hash)
union
select s.id from attempts c join attempts s on s.dataset_hash = c.dataset_hash
    where c.id = ?1 and c.paired = 0 and c.report_valid = 1 and s.id <> c.id {newer}
      and s.paired = 1 and s.report_valid = 1 and s.baseline_fp is null
      and s.ids_sha256 is c.ids_sha256 and s.tokenizer_hash is c.tokenizer_hash";

/// Call before `ids` are rewritten or removed, while their old rows are in place: every subject
/// they fit may lose its baseline or a candidate.
pub async fn subjects_before_change(
    tx: &mut Tx<'_>,
    ids: &[String],
) -> Result<Vec<String>, StorageError> {
    let sql = format!("{TIED} union {}", FITTING.replace("{newer}", ""));
    collect(tx, ids, &sql).await
}

/// Call after `ids` were written (new or changed), before re-deriving. An arriving candidate
/// changes a subject older than itself only if that subject is still open (`pairing_open`):
/// a settled one keeps its nearest earlier baseline and its saturated count. So this asks for
/// the subjects not older than `c` plus the open ones, each an index seek, instead of walking
/// every subject that quotes the same fingerprint.
pub async fn subjects_after_change(
    tx: &mut Tx<'_>,
    ids: &[String],
) -> Result<Vec<String>, StorageError> {
    let (fp, hash) = (fit_fp("c.final_logloss_fp"), fit_hash("c"));
    let open = format!(
        "select o.subject from attempts c join pairing_open o on o.fit = {fp} and o.dh = c.dataset_hash
             where c.id = ?1 and o.subject <> c.id
         union
         select o.subject from attempts c join pairing_open o on o.fit = {fp} and o.dh is null
             where c.id = ?1 and o.subject <> c.id
         union
         select o.subject from attempts c join pairing_open o on o.fit = {fp}
             where c.id = ?1 and c.dataset_hash is null and o.subject <> c.id
         union
         select o.subject from attempts c join pairing_open o on o.fit = {hash}
             where c.id = ?1 and c.paired = 0 and c.report_valid = 1 and o.subject <> c.id"
    );
    let newer = FITTING.replace("{newer}", "and s.ts >= c.ts");
    collect(tx, ids, &format!("{TIED} union {newer} union {open}")).await
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
