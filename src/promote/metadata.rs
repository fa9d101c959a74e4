//! `reports/<name>/metadata.json`: written by invarlockd next to archived evidence, and the
//! source from which promotions are rebuilt when the index is deleted.

use serde::{Deserialize, Serialize};

pub const GENERATED_BY: &str = "invarlockd";
pub const FORMAT: &str = "invarlockd.promotion/v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    pub name: String,
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineRef {
    /// The directory under `reports/` holding the baseline report.
    pub name: String,
    pub report_hash: String,
    pub run_id: String,
    /// The attempt it was archived from, when known.
    pub source_attempt: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    pub generated_by: String,
    pub format: String,
    pub name: String,
    /// `subject` (with a certificate) or `baseline`.
    pub kind: String,
    pub source_attempt: String,
    pub files: Vec<FileEntry>,
    pub report_hash: String,
    pub run_id: String,
    pub baseline: Option<BaselineRef>,
    pub certificate_run_id: Option<String>,
    pub seeds: serde_json::Value,
    pub dataset_hash: Option<String>,
    pub preview_hash: Option<String>,
    pub final_hash: Option<String>,
    pub tokenizer_hash: Option<String>,
    pub ids_sha256: Option<String>,
    pub policy_digest: Option<String>,
    pub profile: Option<String>,
    /// The verify verdict at promotion time (`invarlock verify --json` summary plus exit code).
    pub verify: Option<serde_json::Value>,
    pub promoted_at: chrono::DateTime<chrono::Utc>,
    pub token_name: Option<String>,
    /// Free annotations from the request.
    #[serde(default)]
    pub annotations: serde_json::Value,
}

impl Metadata {
    /// Parses a metadata.json if it is one of ours (others, e.g. hand-written, are `None`).
    pub fn from_bytes(bytes: &[u8]) -> Option<Metadata> {
        let m: Metadata = serde_json::from_slice(bytes).ok()?;
        (m.generated_by == GENERATED_BY && m.format == FORMAT).then_some(m)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("metadata serialises");
        v.push(b'\n');
        v
    }
}
