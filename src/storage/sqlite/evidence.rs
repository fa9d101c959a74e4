//! SQLite: evidence under reports/ and reports_*/: directories, their files, certificates.

use super::Tx;
use crate::storage::evidence::{
    bind_certificate, bind_evidence_file, CertificateRow, EvidenceDirRow, EvidenceFileRow,
    ScannedDir,
};
use crate::storage::StorageError;
use sqlx::SqlitePool;
use std::collections::{HashMap, HashSet};

/// (size, mtime_ns) of every indexed evidence file, to skip unchanged ones.
async fn file_stamps(pool: &SqlitePool) -> Result<HashMap<String, (i64, i64)>, StorageError> {
    let rows: Vec<(String, i64, i64)> =
        sqlx::query_as("select path, size, mtime_ns from evidence_files")
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(|(p, s, m)| (p, (s, m))).collect())
}

async fn dirs(pool: &SqlitePool) -> Result<Vec<EvidenceDirRow>, StorageError> {
    Ok(
        sqlx::query_as("select path, origin, metadata from evidence_dirs order by path")
            .fetch_all(pool)
            .await?,
    )
}

async fn upsert_dir(tx: &mut Tx<'_>, d: &EvidenceDirRow) -> Result<(), StorageError> {
    sqlx::query(
        "insert into evidence_dirs (path, origin, metadata) values (?, ?, ?)
         on conflict (path) do update set origin = excluded.origin, metadata = excluded.metadata,
         updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    )
    .bind(&d.path)
    .bind(&d.origin)
    .bind(&d.metadata)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn remove_dir(tx: &mut Tx<'_>, path: &str) -> Result<(), StorageError> {
    sqlx::query("delete from certificates where dir = ?")
        .bind(path)
        .execute(&mut **tx)
        .await?;
    sqlx::query("delete from evidence_dirs where path = ?")
        .bind(path)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn upsert_file(tx: &mut Tx<'_>, f: &EvidenceFileRow) -> Result<(), StorageError> {
    bind_evidence_file!(sqlx::query(
        "insert or replace into evidence_files (path, dir, size, mtime_ns, sha256, run_id, report_hash, final_logloss_fp)
         values (?, ?, ?, ?, ?, ?, ?, ?)",
    ), f)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Deletes files of `dir` that are not in `keep` (and their certificates).
async fn prune_files(tx: &mut Tx<'_>, dir: &str, keep: &[String]) -> Result<(), StorageError> {
    let existing: Vec<(String,)> = sqlx::query_as("select path from evidence_files where dir = ?")
        .bind(dir)
        .fetch_all(&mut **tx)
        .await?;
    for (p,) in existing {
        if !keep.contains(&p) {
            sqlx::query("delete from evidence_files where path = ?")
                .bind(&p)
                .execute(&mut **tx)
                .await?;
            sqlx::query("delete from certificates where path = ?")
                .bind(&p)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

async fn upsert_certificate(tx: &mut Tx<'_>, c: &CertificateRow) -> Result<(), StorageError> {
    bind_certificate!(sqlx::query(
        "insert into certificates (path, dir, size, mtime_ns, sha256, parse_error, run_id, edited_run_id,
            edited_report_hash, baseline_run_id, baseline_report_hash, validation, policy_digest)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         on conflict (path) do update set dir = excluded.dir, size = excluded.size, mtime_ns = excluded.mtime_ns,
            sha256 = excluded.sha256, parse_error = excluded.parse_error, run_id = excluded.run_id,
            edited_run_id = excluded.edited_run_id, edited_report_hash = excluded.edited_report_hash,
            baseline_run_id = excluded.baseline_run_id, baseline_report_hash = excluded.baseline_report_hash,
            validation = excluded.validation, policy_digest = excluded.policy_digest,
            updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    ), c)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Archived copies of a report (by sha256), for retention and the attempt detail.
async fn archived_copies(pool: &SqlitePool, sha256: &str) -> Result<Vec<String>, StorageError> {
    let rows: Vec<(String,)> =
        sqlx::query_as("select path from evidence_files where sha256 = ? order by path")
            .bind(sha256)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

impl super::Index {
    pub async fn archived_copies(&self, sha256: &str) -> Result<Vec<String>, StorageError> {
        archived_copies(&self.reader, sha256).await
    }

    pub async fn evidence_dirs(&self) -> Result<Vec<EvidenceDirRow>, StorageError> {
        dirs(&self.reader).await
    }

    /// (size, mtime_ns) of every indexed evidence file, read by the indexer to skip unchanged
    /// ones (on the writer: it sees the last scan's commit).
    pub async fn evidence_file_stamps(&self) -> Result<HashMap<String, (i64, i64)>, StorageError> {
        file_stamps(&self.writer).await
    }

    /// Index this evidence scan, in one transaction: directories no longer found are removed
    /// (with their certificates), the found ones written with their changed files and
    /// certificates, and files no longer in them pruned.
    pub async fn apply_evidence_scan(&self, scanned: &[ScannedDir]) -> Result<(), StorageError> {
        let mut tx = self.writer.begin().await?;
        let existing: Vec<(String,)> = sqlx::query_as("select path from evidence_dirs")
            .fetch_all(&mut *tx)
            .await?;
        let seen: HashSet<&str> = scanned.iter().map(|s| s.dir.path.as_str()).collect();
        for (d,) in existing.iter().filter(|(d,)| !seen.contains(d.as_str())) {
            remove_dir(&mut tx, d).await?;
        }
        for s in scanned {
            upsert_dir(&mut tx, &s.dir).await?;
            prune_files(&mut tx, &s.dir.path, &s.all_files).await?;
            for f in &s.changed {
                upsert_file(&mut tx, f).await?;
            }
            for c in &s.certificates {
                upsert_certificate(&mut tx, c).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
