//! The promotion itself: checks (fail-closed), then one atomic archive per directory, then the
//! index, the audit log and the event stream.

mod create;
mod describe;
mod names;
mod reads;
mod request;

use super::archive::EvidenceFile;
use super::name::PromotionName;
use super::PromoteError;
use crate::domain::AttemptId;
use crate::fsx::FsError;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromoteRequest {
    pub attempt: Option<String>,
    pub nickname: Option<String>,
    pub name: Option<String>,
    pub certificate: Option<String>,
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
    pub profile: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct PromoteOutcome {
    /// False when the identical promotion already existed.
    pub created: bool,
    pub name: String,
    pub metadata: serde_json::Value,
    /// The baseline archived by this promotion, if any.
    pub baseline_archived: Option<String>,
}

/// One archive to create: (name, files, metadata.json bytes, kind, source attempt).
type ToCreate = (PromotionName, Vec<EvidenceFile>, Vec<u8>, String, String);

/// A baseline is archived to be paired against: its windows must be usable.
fn check_baseline_windows(id: &AttemptId, report_bytes: &[u8]) -> Result<(), PromoteError> {
    let full = crate::pyjson::parse(
        crate::pyjson::decode_utf8(report_bytes)
            .map_err(|e| PromoteError::Internal(e.to_string()))?,
    )
    .map_err(|e| PromoteError::Internal(e.to_string()))?;
    crate::report::validate_baseline_windows(&full).map_err(|e| {
        PromoteError::refused(
            "pairing_evidence_missing",
            format!("{id} cannot serve as a baseline: evaluation_windows invalid: {e}"),
        )
    })?;
    Ok(())
}

/// A file the promotion needs that is refused (symlink, FIFO, over its cap) is a refusal with
/// `code`; any other failure is internal.
fn refused_or_internal(code: &'static str, e: FsError) -> PromoteError {
    if e.is_refusal() {
        PromoteError::refused(code, e.to_string())
    } else {
        PromoteError::Internal(e.to_string())
    }
}
