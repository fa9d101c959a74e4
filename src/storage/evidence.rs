//! Rows of the evidence side of the index: directories under reports/ and reports_*/, their
//! files and certificates. Backend-neutral; the SQL is in `storage::sqlite::evidence`.

use serde::Serialize;

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

/// Binds an [`EvidenceFileRow`]'s columns in the order both backends' inserts list them
/// (`path, dir, size, mtime_ns, sha256, run_id, report_hash, final_logloss_fp`): one list for
/// SQLite and PostgreSQL, whose statements differ only in dialect.
macro_rules! bind_evidence_file {
    ($query:expr, $f:expr) => {
        $query
            .bind(&$f.path)
            .bind(&$f.dir)
            .bind($f.size)
            .bind($f.mtime_ns)
            .bind(&$f.sha256)
            .bind(&$f.run_id)
            .bind(&$f.report_hash)
            .bind(&$f.final_logloss_fp)
    };
}
pub(crate) use bind_evidence_file;

/// Binds a [`CertificateRow`]'s columns in the order both backends' inserts list them
/// (`path, dir, size, mtime_ns, sha256, parse_error, run_id, edited_run_id, edited_report_hash,
/// baseline_run_id, baseline_report_hash, validation, policy_digest`).
macro_rules! bind_certificate {
    ($query:expr, $c:expr) => {
        $query
            .bind(&$c.path)
            .bind(&$c.dir)
            .bind($c.size)
            .bind($c.mtime_ns)
            .bind(&$c.sha256)
            .bind(&$c.parse_error)
            .bind(&$c.run_id)
            .bind(&$c.edited_run_id)
            .bind(&$c.edited_report_hash)
            .bind(&$c.baseline_run_id)
            .bind(&$c.baseline_report_hash)
            .bind(&$c.validation)
            .bind(&$c.policy_digest)
    };
}
pub(crate) use bind_certificate;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EvidenceDirRow {
    #[sqlx(default)]
    pub workspace: String,
    pub path: String,
    pub origin: String,
    pub metadata: Option<String>,
}

/// One evidence directory as a scan found it, written by `Storage::apply_evidence_scan`.
pub struct ScannedDir {
    pub dir: EvidenceDirRow,
    /// Every file of the directory (relative workspace path), changed or not.
    pub all_files: Vec<String>,
    /// Files that are new or changed, fully read.
    pub changed: Vec<EvidenceFileRow>,
    pub certificates: Vec<CertificateRow>,
}
