//! Which subjects a refresh must re-derive (see `storage::sqlite::mappings::affected` for the
//! reasoning), in PostgreSQL's dialect. The changed ids are one array: each query runs once per
//! batch (`lateral` per id) instead of once per id, a round trip each on a server database.

use super::super::Tx;
use super::derive::{fit_fp, fit_hash};
use crate::storage::StorageError;

const TIED: &str = "
select subject from {s}.mappings where baseline_attempt = q.cid
union
select s.id from {s}.attempts c
    join {s}.certificates k on k.baseline_run_id = c.run_id and k.baseline_report_hash = c.report_hash
    join {s}.attempts s on s.subject_run_id = k.edited_run_id and s.subject_report_hash = k.edited_report_hash
    where c.id = q.cid and k.parse_error is null
union
select d.meta ->> 'source_attempt' from {s}.evidence_dirs d
    where d.origin = 'invarlockd' and jsonb_typeof(d.meta) = 'object'
      and d.meta #>> '{baseline,source_attempt}' = q.cid";

const FITTING: &str = "
select s.id from {s}.attempts c join {s}.attempts s on s.baseline_fp = c.final_logloss_fp
    where c.id = q.cid and s.id <> c.id {newer}
      and (c.dataset_hash is null or coalesce(s.dataset_hash, s.events_dataset_hash) is null
           or coalesce(s.dataset_hash, s.events_dataset_hash) = c.dataset_hash)
union
select s.id from {s}.attempts c join {s}.attempts s on s.dataset_hash = c.dataset_hash
    where c.id = q.cid and not c.paired and c.report_valid and s.id <> c.id {newer}
      and s.paired and s.report_valid and s.baseline_fp is null
      and s.ids_sha256 is not distinct from c.ids_sha256
      and s.tokenizer_hash is not distinct from c.tokenizer_hash";

/// Call before `ids` are rewritten or removed, while their old rows are in place.
pub async fn subjects_before_change(
    tx: &mut Tx<'_>,
    schema: &str,
    ids: &[String],
) -> Result<Vec<String>, StorageError> {
    let sql = format!("{TIED} union {}", FITTING.replace("{newer}", ""));
    collect(tx, schema, ids, &sql).await
}

/// Call after `ids` were written (new or changed), before re-deriving.
pub async fn subjects_after_change(
    tx: &mut Tx<'_>,
    schema: &str,
    ids: &[String],
) -> Result<Vec<String>, StorageError> {
    let (fp, hash) = (fit_fp("c.final_logloss_fp"), fit_hash("c"));
    let open = format!(
        "select o.subject from {{s}}.attempts c join {{s}}.pairing_open o on o.fit = {fp} and o.dh = c.dataset_hash
             where c.id = q.cid and o.subject <> c.id
         union
         select o.subject from {{s}}.attempts c join {{s}}.pairing_open o on o.fit = {fp} and o.dh is null
             where c.id = q.cid and o.subject <> c.id
         union
         select o.subject from {{s}}.attempts c join {{s}}.pairing_open o on o.fit = {fp}
             where c.id = q.cid and c.dataset_hash is null and o.subject <> c.id
         union
         select o.subject from {{s}}.attempts c join {{s}}.pairing_open o on o.fit = {hash}
             where c.id = q.cid and not c.paired and c.report_valid and o.subject <> c.id"
    );
    let newer = FITTING.replace("{newer}", "and s.ts >= c.ts");
    collect(
        tx,
        schema,
        ids,
        &format!("{TIED} union {newer} union {open}"),
    )
    .await
}

/// `ids` themselves (each may be a subject) and every subject `sql` finds for them.
async fn collect(
    tx: &mut Tx<'_>,
    schema: &str,
    ids: &[String],
    sql: &str,
) -> Result<Vec<String>, StorageError> {
    let mut out: Vec<String> = ids.to_vec();
    if !ids.is_empty() {
        let all = format!(
            "select distinct x.subject from unnest($1::text[]) as q(cid)
             cross join lateral ({sql}) as x(subject) where x.subject is not null"
        )
        .replace("{s}", schema);
        let rows: Vec<(String,)> = sqlx::query_as(&all).bind(ids).fetch_all(&mut **tx).await?;
        out.extend(rows.into_iter().map(|r| r.0));
    }
    out.sort();
    out.dedup();
    Ok(out)
}
