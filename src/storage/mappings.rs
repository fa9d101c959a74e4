//! Run → baseline mappings, derived from certificates (exact §5.4 digests) and, where no
//! certificate exists, from pairing evidence (§1.5). Recomputed in one transaction; every lookup
//! is an index seek so the cost grows with the number of subjects, not its square.

use super::{StorageError, Tx};
use serde::Serialize;
use sqlx::SqlitePool;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MappingRow {
    pub subject: String,
    pub baseline_attempt: Option<String>,
    pub baseline_archived: Option<String>,
    pub how: String,
    pub confidence: String,
    pub certificate: Option<String>,
    pub candidates: i64,
    pub note: Option<String>,
}

const CERTIFICATE_MAPPINGS: &str = "
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
const PROMOTION_MAPPINGS: &str = "
insert or ignore into mappings (subject, baseline_attempt, baseline_archived, how, confidence, certificate, candidates, note)
select s.id, b.id, 'reports/' || json_extract(d.metadata, '$.baseline.name') || '/report.json', 'promotion', 'high', null, 1,
       'recorded by the invarlockd promotion ' || d.path
from evidence_dirs d
join attempts s on s.id = json_extract(d.metadata, '$.source_attempt')
left join attempts b on b.id = json_extract(d.metadata, '$.baseline.source_attempt')
where d.origin = 'invarlockd' and json_valid(d.metadata) and json_extract(d.metadata, '$.kind') = 'subject'
  and json_extract(d.metadata, '$.baseline.name') is not null {scope_s}";

/// Subjects whose events quote the baseline's final logloss: the newest matching report at or
/// before the subject's timestamp (else the oldest after it).
const FINGERPRINT_MAPPINGS: &str = "
insert or ignore into mappings (subject, baseline_attempt, baseline_archived, how, confidence, certificate, candidates, note)
select id, battempt, case when battempt is null then barchived end, 'pairing_evidence',
       case when n = 1 then 'high' else 'medium' end, null, n,
       case when n = 1
            then 'runner/start baseline_eval_windows.final.logloss equals this baseline''s evaluation_windows.final.logloss'
            else 'several reports have the quoted baseline logloss; the newest one not after the subject was chosen'
       end
from (
    select s.id,
        coalesce(
            (select b.id from attempts b where b.final_logloss_fp = s.baseline_fp and b.id <> s.id and b.ts <= s.ts
                and (s.dh is null or b.dataset_hash is null or b.dataset_hash = s.dh)
                order by b.ts desc, b.id desc limit 1),
            (select b.id from attempts b where b.final_logloss_fp = s.baseline_fp and b.id <> s.id and b.ts > s.ts
                and (s.dh is null or b.dataset_hash is null or b.dataset_hash = s.dh)
                order by b.ts asc, b.id asc limit 1)) as battempt,
        (select f.path from evidence_files f where f.final_logloss_fp = s.baseline_fp order by f.path limit 1) as barchived,
        (select count(*) from (select 1 from attempts b where b.final_logloss_fp = s.baseline_fp and b.id <> s.id limit 2))
          + (select count(*) from (select 1 from evidence_files f where f.final_logloss_fp = s.baseline_fp
                and not exists (select 1 from attempts b where b.report_sha256 = f.sha256) limit 2)) as n
    from (select id, ts, baseline_fp, coalesce(dataset_hash, events_dataset_hash) as dh from attempts
          where baseline_fp is not null {scope}) s
)
where battempt is not null or barchived is not null";

/// Paired reports (window_pairing_reason null) without a logloss fingerprint: an unpaired
/// report with the same dataset hash, window-id digest and tokenizer hash.
const HASH_MAPPINGS: &str = "
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
          where paired = 1 and report_valid = 1 and dataset_hash is not null and baseline_fp is null {scope}) s
)
where battempt is not null";

/// Recomputes every mapping. Certificates win over promotions, promotions over pairing evidence.
pub async fn rebuild(tx: &mut Tx<'_>) -> Result<(), StorageError> {
    sqlx::query("delete from mappings")
        .execute(&mut **tx)
        .await?;
    run_all(tx, "", "").await
}

/// Recomputes the mappings of `subjects` only (after a refresh touched a few attempts).
pub async fn rebuild_subjects(tx: &mut Tx<'_>, subjects: &[String]) -> Result<(), StorageError> {
    if subjects.is_empty() {
        return Ok(());
    }
    sqlx::query("create temp table if not exists mapping_scope (id text primary key)")
        .execute(&mut **tx)
        .await?;
    sqlx::query("delete from temp.mapping_scope")
        .execute(&mut **tx)
        .await?;
    for id in subjects {
        sqlx::query("insert or ignore into temp.mapping_scope (id) values (?)")
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query("delete from mappings where subject in (select id from temp.mapping_scope)")
        .execute(&mut **tx)
        .await?;
    run_all(
        tx,
        " and id in (select id from temp.mapping_scope)",
        " and s.id in (select id from temp.mapping_scope)",
    )
    .await
}

async fn run_all(tx: &mut Tx<'_>, scope: &str, scope_s: &str) -> Result<(), StorageError> {
    for sql in [
        CERTIFICATE_MAPPINGS,
        PROMOTION_MAPPINGS,
        FINGERPRINT_MAPPINGS,
        HASH_MAPPINGS,
    ] {
        let sql = sql.replace("{scope_s}", scope_s).replace("{scope}", scope);
        sqlx::query(&sql).execute(&mut **tx).await?;
    }
    Ok(())
}

/// Subjects whose mapping may change when the attempts `ids` appear, change or vanish: the
/// attempts themselves, subjects mapped to them, and subjects (not older than them) whose
/// pairing evidence they could satisfy.
pub async fn affected_subjects(
    tx: &mut Tx<'_>,
    ids: &[String],
) -> Result<Vec<String>, StorageError> {
    let mut out: Vec<String> = ids.to_vec();
    for id in ids {
        let rows: Vec<(String,)> = sqlx::query_as(
            "select subject from mappings where baseline_attempt = ?1
             union
             select s.id from attempts c join attempts s on s.baseline_fp = c.final_logloss_fp
                 where c.id = ?1 and c.final_logloss_fp is not null
                   and (s.ts >= c.ts or not exists (select 1 from mappings m where m.subject = s.id))
             union
             select s.id from attempts c join attempts s on s.dataset_hash = c.dataset_hash
                 where c.id = ?1 and c.paired = 0 and c.dataset_hash is not null and s.paired = 1
                   and s.baseline_fp is null
                   and (s.ts >= c.ts or not exists (select 1 from mappings m where m.subject = s.id))",
        )
        .bind(id)
        .fetch_all(&mut **tx)
        .await?;
        out.extend(rows.into_iter().map(|r| r.0));
    }
    out.sort();
    out.dedup();
    Ok(out)
}

pub async fn list(
    pool: &SqlitePool,
    after: Option<&str>,
    limit: u32,
) -> Result<(Vec<MappingRow>, Option<String>), StorageError> {
    let mut rows: Vec<MappingRow> = sqlx::query_as(
        "select subject, baseline_attempt, baseline_archived, how, confidence, certificate, candidates, note
         from mappings where subject > ? order by subject limit ?",
    )
    .bind(after.unwrap_or(""))
    .bind(limit as i64 + 1)
    .fetch_all(pool)
    .await?;
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.subject.clone())
    } else {
        None
    };
    Ok((rows, next))
}

pub async fn for_subject(
    pool: &SqlitePool,
    subject: &str,
) -> Result<Option<MappingRow>, StorageError> {
    Ok(sqlx::query_as(
        "select subject, baseline_attempt, baseline_archived, how, confidence, certificate, candidates, note
         from mappings where subject = ?",
    )
    .bind(subject)
    .fetch_optional(pool)
    .await?)
}
