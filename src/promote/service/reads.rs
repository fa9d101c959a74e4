//! What a promotion reads from the workspace: the attempt's report, the evidence already under
//! a name, an existing archive's metadata.

use super::refused_or_internal;
use crate::fsx::{Dir, FileKind};
use crate::promote::archive::EvidenceFile;
use crate::promote::name::PromotionName;
use crate::promote::PromoteError;

impl crate::promote::Promoter {
    /// The attempt's report.json, read by handle below runs/; a refused file is `not_pass`.
    pub(super) async fn read_report(&self, rid: &str) -> Result<Vec<u8>, PromoteError> {
        let (runs, rid, limits) = (self.workspace.runs.clone(), rid.to_string(), self.limits);
        Self::blocking(move || {
            Dir::open_root(&runs, "runs")
                .and_then(|d| d.open_dir(&rid))
                .and_then(|d| d.read("report.json", FileKind::Report, &limits))
                .map_err(|e| refused_or_internal("not_pass", e))
        })
        .await
    }

    /// The metadata.json of an archive that already existed (null if it cannot be read).
    pub(super) async fn stored_metadata(
        &self,
        name: &PromotionName,
    ) -> Result<serde_json::Value, PromoteError> {
        let (reports, n, limits) = (
            self.workspace.reports.clone(),
            name.to_string(),
            self.limits,
        );
        Self::blocking(move || {
            Ok(Dir::open_root(&reports, "reports")
                .and_then(|d| d.open_dir(&n))
                .and_then(|d| d.read("metadata.json", FileKind::Metadata, &limits))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or(serde_json::Value::Null))
        })
        .await
    }

    /// `Some(true)`: the name holds these exact evidence bytes; `Some(false)`: something else;
    /// `None`: free.
    pub(super) async fn existing_evidence(
        &self,
        name: &PromotionName,
        files: &[EvidenceFile],
    ) -> Result<Option<bool>, PromoteError> {
        let (reports, limits, name) = (self.workspace.reports.clone(), self.limits, name.clone());
        let files: Vec<EvidenceFile> = files
            .iter()
            .map(|f| EvidenceFile {
                name: f.name,
                bytes: f.bytes.clone(),
            })
            .collect();
        Self::blocking(move || {
            let dir = Dir::open_root(&reports, "reports")
                .map_err(|e| PromoteError::Internal(e.to_string()))?;
            crate::promote::archive::same_evidence(&dir, &name, &files, &limits)
                .map_err(|e| PromoteError::Internal(e.to_string()))
        })
        .await
    }
}
