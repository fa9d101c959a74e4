//! PostgreSQL: evidence under reports/ and reports_*/ of the own workspace: directories, their
//! files and certificates. `meta` holds `metadata` parsed (null when it is not JSON), which is
//! what SQLite's `json_valid`/`json_extract` read in the mapping SQL.

use super::{retry, Index, Tx};
use crate::storage::evidence::{
    bind_certificate, bind_evidence_file, CertificateRow, EvidenceDirRow, EvidenceFileRow,
    ScannedDir,
};
use crate::storage::StorageError;
use std::collections::{HashMap, HashSet};

async fn upsert_dir(tx: &mut Tx<'_>, s: &str, d: &EvidenceDirRow) -> Result<(), StorageError> {
    let meta: Option<serde_json::Value> = d
        .metadata
        .as_deref()
        .and_then(|m| serde_json::from_str(m).ok());
    sqlx::query(&format!(
        "insert into {s}.evidence_dirs (path, origin, metadata, meta) values ($1, $2, $3, $4)
         on conflict (path) do update set origin = excluded.origin, metadata = excluded.metadata,
         meta = excluded.meta, updated_at = {s}.now_text()"
    ))
    .bind(&d.path)
    .bind(&d.origin)
    .bind(&d.metadata)
    .bind(meta.map(sqlx::types::Json))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn upsert_file(tx: &mut Tx<'_>, s: &str, f: &EvidenceFileRow) -> Result<(), StorageError> {
    bind_evidence_file!(sqlx::query(&format!(
        "insert into {s}.evidence_files (path, dir, size, mtime_ns, sha256, run_id, report_hash, final_logloss_fp)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         on conflict (path) do update set dir = excluded.dir, size = excluded.size,
            mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256, run_id = excluded.run_id,
            report_hash = excluded.report_hash, final_logloss_fp = excluded.final_logloss_fp"
    )), f)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn upsert_certificate(
    tx: &mut Tx<'_>,
    s: &str,
    c: &CertificateRow,
) -> Result<(), StorageError> {
    bind_certificate!(sqlx::query(&format!(
        "insert into {s}.certificates (path, dir, size, mtime_ns, sha256, parse_error, run_id, edited_run_id,
            edited_report_hash, baseline_run_id, baseline_report_hash, validation, policy_digest)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         on conflict (path) do update set dir = excluded.dir, size = excluded.size, mtime_ns = excluded.mtime_ns,
            sha256 = excluded.sha256, parse_error = excluded.parse_error, run_id = excluded.run_id,
            edited_run_id = excluded.edited_run_id, edited_report_hash = excluded.edited_report_hash,
            baseline_run_id = excluded.baseline_run_id, baseline_report_hash = excluded.baseline_report_hash,
            validation = excluded.validation, policy_digest = excluded.policy_digest,
            updated_at = {s}.now_text()"
    )), c)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Writes one scan: dirs gone removed (certificates with them), found ones written with their
/// changed files and certificates, files no longer in them pruned.
async fn apply(tx: &mut Tx<'_>, s: &str, scanned: &[ScannedDir]) -> Result<(), StorageError> {
    let existing: Vec<(String,)> = sqlx::query_as(&format!("select path from {s}.evidence_dirs"))
        .fetch_all(&mut **tx)
        .await?;
    let seen: HashSet<&str> = scanned.iter().map(|d| d.dir.path.as_str()).collect();
    let gone: Vec<&str> = existing
        .iter()
        .map(|(d,)| d.as_str())
        .filter(|d| !seen.contains(d))
        .collect();
    sqlx::query(&format!("delete from {s}.certificates where dir = any($1)"))
        .bind(&gone)
        .execute(&mut **tx)
        .await?;
    sqlx::query(&format!(
        "delete from {s}.evidence_dirs where path = any($1)"
    ))
    .bind(&gone)
    .execute(&mut **tx)
    .await?;
    for d in scanned {
        upsert_dir(tx, s, &d.dir).await?;
        let stale: Vec<(String,)> = sqlx::query_as(&format!(
            "select path from {s}.evidence_files where dir = $1 and not (path = any($2))"
        ))
        .bind(&d.dir.path)
        .bind(&d.all_files)
        .fetch_all(&mut **tx)
        .await?;
        let stale: Vec<String> = stale.into_iter().map(|r| r.0).collect();
        for table in ["evidence_files", "certificates"] {
            sqlx::query(&format!("delete from {s}.{table} where path = any($1)"))
                .bind(&stale)
                .execute(&mut **tx)
                .await?;
        }
        for f in &d.changed {
            upsert_file(tx, s, f).await?;
        }
        for c in &d.certificates {
            upsert_certificate(tx, s, c).await?;
        }
    }
    Ok(())
}

impl Index {
    /// Archived copies of a report (by sha256).
    pub async fn archived_copies(&self, sha256: &str) -> Result<Vec<String>, StorageError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            &self.sql("select path from {s}.evidence_files where sha256 = $1 order by path"),
        )
        .bind(sha256)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    pub async fn evidence_dirs(&self) -> Result<Vec<EvidenceDirRow>, StorageError> {
        Ok(sqlx::query_as(
            &self.sql("select path, origin, metadata from {s}.evidence_dirs order by path"),
        )
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn evidence_file_stamps(&self) -> Result<HashMap<String, (i64, i64)>, StorageError> {
        let rows: Vec<(String, i64, i64)> =
            sqlx::query_as(&self.sql("select path, size, mtime_ns from {s}.evidence_files"))
                .fetch_all(self.pool())
                .await?;
        Ok(rows.into_iter().map(|(p, s, m)| (p, (s, m))).collect())
    }

    pub async fn apply_evidence_scan(&self, scanned: &[ScannedDir]) -> Result<(), StorageError> {
        retry!(async {
            let mut tx = self.begin().await?;
            apply(&mut tx, &self.schema, scanned).await?;
            self.commit(tx).await
        })
    }

    /// Archived report copies whose §5.4 digests are these.
    pub async fn archived_reports_by_digest(
        &self,
        run_id: &str,
        report_hash: &str,
    ) -> Result<Vec<EvidenceFileRow>, StorageError> {
        Ok(sqlx::query_as(&self.sql(
            "select path, dir, size, mtime_ns, sha256, run_id, report_hash, final_logloss_fp
             from {s}.evidence_files where run_id = $1 and report_hash = $2 order by path",
        ))
        .bind(run_id)
        .bind(report_hash)
        .fetch_all(self.pool())
        .await?)
    }
}
