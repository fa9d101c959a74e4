//! SQLite: the facts retention planning reads from the index (plans and moves are records: see
//! `storage::records::retention`).

use crate::storage::retention::CandidateRow;
use crate::storage::StorageError;
use sqlx::SqlitePool;

pub(super) async fn candidates(pool: &SqlitePool) -> Result<Vec<CandidateRow>, StorageError> {
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
pub(super) async fn pairings(pool: &SqlitePool) -> Result<Vec<(String, String)>, StorageError> {
    Ok(sqlx::query_as(
        "select subject, baseline_attempt from mappings where baseline_attempt is not null",
    )
    .fetch_all(pool)
    .await?)
}

/// For `/v1/status`: bytes under runs/ (the records add trash and the last apply).
pub(super) async fn runs_bytes(pool: &SqlitePool) -> Result<i64, StorageError> {
    let (runs,): (i64,) = sqlx::query_as("select bytes from file_totals where id = 1")
        .fetch_one(pool)
        .await?;
    Ok(runs)
}

impl super::Index {
    pub async fn retention_candidates(&self) -> Result<Vec<CandidateRow>, StorageError> {
        candidates(&self.reader).await
    }

    pub async fn pairings(&self) -> Result<Vec<(String, String)>, StorageError> {
        pairings(&self.reader).await
    }

    pub async fn runs_bytes(&self) -> Result<i64, StorageError> {
        runs_bytes(&self.reader).await
    }
}
