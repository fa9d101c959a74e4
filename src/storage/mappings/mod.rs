//! Run → baseline mappings, derived from certificates (exact §5.4 digests) and, where no
//! certificate exists, from pairing evidence (§1.5). A full scan recomputes them all in one
//! transaction; a refresh recomputes only the subjects that the changed attempts can affect.
//!
//! `candidates` counts the reports that fit a subject's pairing evidence, capped at 2 ("two or
//! more"): capping keeps each count a bounded seek, and a saturated count is one that a new
//! report cannot change (see `affected`).

mod affected;
mod derive;
#[cfg(test)]
mod tests;

use super::{StorageError, Tx};
use derive::{
    fingerprint_mappings, open_subjects, CERTIFICATE_MAPPINGS, HASH_MAPPINGS, PROMOTION_MAPPINGS,
};
use serde::Serialize;
use sqlx::SqlitePool;

pub use affected::{subjects_after_change, subjects_before_change};

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

/// The tables `run_all` derives, per subject.
const DERIVED: [&str; 2] = ["mappings", "pairing_open"];

/// Recomputes every mapping. Certificates win over promotions, promotions over pairing evidence.
pub async fn rebuild(tx: &mut Tx<'_>) -> Result<(), StorageError> {
    for table in DERIVED {
        sqlx::query(&format!("delete from {table}"))
            .execute(&mut **tx)
            .await?;
    }
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
    for table in DERIVED {
        sqlx::query(&format!(
            "delete from {table} where subject in (select id from temp.mapping_scope)"
        ))
        .execute(&mut **tx)
        .await?;
    }
    run_all(
        tx,
        " and id in (select id from temp.mapping_scope)",
        " and s.id in (select id from temp.mapping_scope)",
    )
    .await
}

async fn run_all(tx: &mut Tx<'_>, scope: &str, scope_s: &str) -> Result<(), StorageError> {
    for sql in [
        CERTIFICATE_MAPPINGS.replace("{scope_s}", scope_s),
        PROMOTION_MAPPINGS.replace("{scope_s}", scope_s),
        fingerprint_mappings(scope),
        HASH_MAPPINGS.replace("{scope}", scope),
        open_subjects(scope_s),
    ] {
        sqlx::query(&sql).execute(&mut **tx).await?;
    }
    Ok(())
}

pub async fn list(
    pool: &SqlitePool,
    after: Option<&str>,
    limit: u32,
) -> Result<(Vec<MappingRow>, Option<String>), StorageError> {
    let rows: Vec<MappingRow> = sqlx::query_as(
        "select subject, baseline_attempt, baseline_archived, how, confidence, certificate, candidates, note
         from mappings where subject > ? order by subject limit ?",
    )
    .bind(after.unwrap_or(""))
    .bind(limit as i64 + 1)
    .fetch_all(pool)
    .await?;
    Ok(super::split_page(rows, limit, |r| r.subject.clone()))
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
