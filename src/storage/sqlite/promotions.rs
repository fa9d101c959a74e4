//! SQLite: queries promotion needs from the index: archived evidence and baseline candidates by digest.
//! Promotions are evidence dirs of origin `invarlockd`, rebuilt from reports/*/metadata.json;
//! recorded verifications are records (`storage::records`).

use crate::storage::attempts::AttemptRow;
use crate::storage::evidence::{EvidenceDirRow, EvidenceFileRow};
use crate::storage::StorageError;
use sqlx::SqlitePool;

async fn evidence_dir(
    pool: &SqlitePool,
    path: &str,
) -> Result<Option<EvidenceDirRow>, StorageError> {
    Ok(
        sqlx::query_as("select path, origin, metadata from evidence_dirs where path = ?")
            .bind(path)
            .fetch_optional(pool)
            .await?,
    )
}

/// A page of evidence dirs after a path (`''` for the first page: every path is longer), in
/// path order, optionally of one origin. `path > ?2` is a seek on the primary key; the earlier
/// `(?2 is null or path > ?2)` could not be one, so every later page walked from the first path.
const EVIDENCE_DIRS_PAGE: &str = "select path, origin, metadata from evidence_dirs
     where (?1 is null or origin = ?1) and path > ?2
     order by path limit ?3";

/// Evidence dirs after `after` (path order), optionally of one origin.
async fn evidence_dirs_page(
    pool: &SqlitePool,
    origin: Option<&str>,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<EvidenceDirRow>, StorageError> {
    Ok(sqlx::query_as(EVIDENCE_DIRS_PAGE)
        .bind(origin)
        .bind(after.unwrap_or(""))
        .bind(limit as i64)
        .fetch_all(pool)
        .await?)
}

/// Archived report copies whose §5.4 digests are these.
async fn archived_reports_by_digest(
    pool: &SqlitePool,
    run_id: &str,
    report_hash: &str,
) -> Result<Vec<EvidenceFileRow>, StorageError> {
    Ok(sqlx::query_as(
        "select path, dir, size, mtime_ns, sha256, run_id, report_hash, final_logloss_fp from evidence_files
         where run_id = ? and report_hash = ? order by path",
    )
    .bind(run_id)
    .bind(report_hash)
    .fetch_all(pool)
    .await?)
}

/// Indexed attempts whose raw report digests are these, newest first.
async fn attempts_by_digest(
    pool: &SqlitePool,
    run_id: &str,
    report_hash: &str,
) -> Result<Vec<AttemptRow>, StorageError> {
    Ok(sqlx::query_as(
        "select * from attempts where run_id = ? and report_hash = ? order by ts desc",
    )
    .bind(run_id)
    .bind(report_hash)
    .fetch_all(pool)
    .await?)
}

/// The newest `pass` attempt of a nickname.
async fn latest_pass(pool: &SqlitePool, nickname: &str) -> Result<Option<String>, StorageError> {
    let row: Option<(String,)> = sqlx::query_as(
        "select id from attempts where nickname = ? and status = 'pass' order by ts desc limit 1",
    )
    .bind(nickname)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| r.0))
}

impl super::Index {
    pub async fn evidence_dir(&self, path: &str) -> Result<Option<EvidenceDirRow>, StorageError> {
        evidence_dir(&self.reader, path).await
    }

    pub async fn evidence_dirs_page(
        &self,
        origin: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<EvidenceDirRow>, StorageError> {
        evidence_dirs_page(&self.reader, origin, after, limit).await
    }

    pub async fn archived_reports_by_digest(
        &self,
        run_id: &str,
        report_hash: &str,
    ) -> Result<Vec<EvidenceFileRow>, StorageError> {
        archived_reports_by_digest(&self.reader, run_id, report_hash).await
    }

    pub async fn attempts_by_digest(
        &self,
        run_id: &str,
        report_hash: &str,
    ) -> Result<Vec<AttemptRow>, StorageError> {
        attempts_by_digest(&self.reader, run_id, report_hash).await
    }

    pub async fn latest_pass(&self, nickname: &str) -> Result<Option<String>, StorageError> {
        latest_pass(&self.reader, nickname).await
    }
}

#[cfg(test)]
mod tests {
    use crate::storage::Storage;

    #[tokio::test]
    async fn every_page_of_promotions_is_a_seek_on_the_path_in_listing_order() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open_test(&dir.path().join("index.db")).await;
        let live = s.sqlite();
        for origin in [None, Some("invarlockd")] {
            let plan: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(&format!("explain query plan {}", super::EVIDENCE_DIRS_PAGE))
                    .bind(origin)
                    .bind("reports/a")
                    .bind(101i64)
                    .fetch_all(live.index().reader())
                    .await
                    .unwrap();
            let steps: Vec<&str> = plan.iter().map(|r| r.3.as_str()).collect();
            assert_eq!(steps.len(), 1, "{steps:?}");
            assert!(
                steps[0].starts_with("SEARCH evidence_dirs USING INDEX")
                    && steps[0].ends_with("(path>?)"),
                "a later page walks from the first path: {steps:?}"
            );
        }
    }
}
