//! Evidence under reports/ and reports_*/: directories, their files, certificates.

use super::{StorageError, Tx};
use serde::Serialize;
use sqlx::SqlitePool;
use std::collections::HashMap;

#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow)]
pub struct EvidenceFileRow {
    pub path: String,
    pub dir: String,
    pub size: i64,
    pub mtime_ns: i64,
    pub sha256: Option<String>,
    pub run_id: Option<String>,
    pub report_hash: Option<String>,
    pub final_logloss_fp: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow)]
pub struct CertificateRow {
    pub path: String,
    pub dir: String,
    pub size: i64,
    pub mtime_ns: i64,
    pub sha256: String,
    pub parse_error: Option<String>,
    pub run_id: Option<String>,
    pub edited_run_id: Option<String>,
    pub edited_report_hash: Option<String>,
    pub baseline_run_id: Option<String>,
    pub baseline_report_hash: Option<String>,
    pub validation: Option<String>,
    pub policy_digest: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EvidenceDirRow {
    pub path: String,
    pub origin: String,
    pub metadata: Option<String>,
}

/// (size, mtime_ns) of every indexed evidence file, to skip unchanged ones.
pub async fn file_stamps(pool: &SqlitePool) -> Result<HashMap<String, (i64, i64)>, StorageError> {
    let rows: Vec<(String, i64, i64)> =
        sqlx::query_as("select path, size, mtime_ns from evidence_files")
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(|(p, s, m)| (p, (s, m))).collect())
}

pub async fn dirs(pool: &SqlitePool) -> Result<Vec<EvidenceDirRow>, StorageError> {
    Ok(
        sqlx::query_as("select path, origin, metadata from evidence_dirs order by path")
            .fetch_all(pool)
            .await?,
    )
}

pub async fn upsert_dir(tx: &mut Tx<'_>, d: &EvidenceDirRow) -> Result<(), StorageError> {
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

pub async fn remove_dir(tx: &mut Tx<'_>, path: &str) -> Result<(), StorageError> {
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

pub async fn upsert_file(tx: &mut Tx<'_>, f: &EvidenceFileRow) -> Result<(), StorageError> {
    sqlx::query(
        "insert or replace into evidence_files (path, dir, size, mtime_ns, sha256, run_id, report_hash, final_logloss_fp)
         values (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&f.path)
    .bind(&f.dir)
    .bind(f.size)
    .bind(f.mtime_ns)
    .bind(&f.sha256)
    .bind(&f.run_id)
    .bind(&f.report_hash)
    .bind(&f.final_logloss_fp)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Deletes files of `dir` that are not in `keep` (and their certificates).
pub async fn prune_files(tx: &mut Tx<'_>, dir: &str, keep: &[String]) -> Result<(), StorageError> {
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

pub async fn files_of(pool: &SqlitePool, dir: &str) -> Result<Vec<EvidenceFileRow>, StorageError> {
    Ok(
        sqlx::query_as("select * from evidence_files where dir = ? order by path")
            .bind(dir)
            .fetch_all(pool)
            .await?,
    )
}

pub async fn upsert_certificate(tx: &mut Tx<'_>, c: &CertificateRow) -> Result<(), StorageError> {
    sqlx::query(
        "insert into certificates (path, dir, size, mtime_ns, sha256, parse_error, run_id, edited_run_id,
            edited_report_hash, baseline_run_id, baseline_report_hash, validation, policy_digest)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         on conflict (path) do update set dir = excluded.dir, size = excluded.size, mtime_ns = excluded.mtime_ns,
            sha256 = excluded.sha256, parse_error = excluded.parse_error, run_id = excluded.run_id,
            edited_run_id = excluded.edited_run_id, edited_report_hash = excluded.edited_report_hash,
            baseline_run_id = excluded.baseline_run_id, baseline_report_hash = excluded.baseline_report_hash,
            validation = excluded.validation, policy_digest = excluded.policy_digest,
            updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    )
    .bind(&c.path)
    .bind(&c.dir)
    .bind(c.size)
    .bind(c.mtime_ns)
    .bind(&c.sha256)
    .bind(&c.parse_error)
    .bind(&c.run_id)
    .bind(&c.edited_run_id)
    .bind(&c.edited_report_hash)
    .bind(&c.baseline_run_id)
    .bind(&c.baseline_report_hash)
    .bind(&c.validation)
    .bind(&c.policy_digest)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn certificates(pool: &SqlitePool) -> Result<Vec<CertificateRow>, StorageError> {
    Ok(
        sqlx::query_as("select path, dir, size, mtime_ns, sha256, parse_error, run_id, edited_run_id, edited_report_hash, baseline_run_id, baseline_report_hash, validation, policy_digest from certificates order by path")
            .fetch_all(pool)
            .await?,
    )
}

/// Archived copies of a report (by sha256), for retention and the attempt detail.
pub async fn archived_copies(pool: &SqlitePool, sha256: &str) -> Result<Vec<String>, StorageError> {
    let rows: Vec<(String,)> =
        sqlx::query_as("select path from evidence_files where sha256 = ? order by path")
            .bind(sha256)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}
