//! The facts retention planning reads from the index (plans and moves are records: see
//! `storage::records::retention`).

use super::StorageError;
use sqlx::SqlitePool;

/// One attempt as planning sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CandidateRow {
    pub id: String,
    pub dir: String,
    pub status: String,
    pub listing_digest: String,
    pub report_sha256: Option<String>,
    pub bytes: i64,
    /// An archived copy under reports/ with the same sha256, if any.
    pub archived_as: Option<String>,
}

pub async fn candidates(pool: &SqlitePool) -> Result<Vec<CandidateRow>, StorageError> {
    Ok(sqlx::query_as(
        "select a.id, a.dir, a.status, a.listing_digest, a.report_sha256,
                coalesce((select sum(f.size) from attempt_files f where f.attempt_id = a.id), 0) as bytes,
                (select e.path from evidence_files e
                  where a.report_sha256 is not null and e.sha256 = a.report_sha256 and e.path like 'reports/%'
                  order by e.path limit 1) as archived_as
         from attempts a order by a.id",
    )
    .fetch_all(pool)
    .await?)
}

/// Subject → baseline attempt pairs from the mappings.
pub async fn pairings(pool: &SqlitePool) -> Result<Vec<(String, String)>, StorageError> {
    Ok(sqlx::query_as(
        "select subject, baseline_attempt from mappings where baseline_attempt is not null",
    )
    .fetch_all(pool)
    .await?)
}

/// For `/v1/status`: bytes under runs/ (the records add trash and the last apply).
pub async fn runs_bytes(pool: &SqlitePool) -> Result<i64, StorageError> {
    let (runs,): (i64,) = sqlx::query_as("select bytes from file_totals where id = 1")
        .fetch_one(pool)
        .await?;
    Ok(runs)
}
