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
