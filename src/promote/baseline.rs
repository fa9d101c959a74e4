//! Fail-closed baseline resolution: the certificate's baseline digests must lead to an archived
//! report or an indexed attempt whose bytes really have those digests and whose
//! `evaluation_windows` pass §2.4 A–B.

use super::certificate::{links_baseline, CertLink};
use super::PromoteError;
use crate::storage::{promotions, Storage};
use std::path::Path;

/// Where the proven baseline lives.
#[derive(Debug, Clone)]
pub enum BaselineSource {
    /// Already under `reports/<name>/report.json`.
    Archived { name: String },
    /// An attempt under `runs/`, to be archived with the promotion.
    Attempt {
        id: String,
        nickname: String,
        bytes: Vec<u8>,
    },
}

/// Reads and checks one candidate file; `Err` says why it does not qualify.
pub fn prove(link: &CertLink, path: &Path) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text =
        crate::pyjson::decode_utf8(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    let report = crate::pyjson::parse(text).map_err(|e| format!("{}: {e}", path.display()))?;
    if !links_baseline(link, &report) {
        return Err(format!(
            "{}: digests differ from the certificate's baseline",
            path.display()
        ));
    }
    crate::report::validate_baseline_windows(&report)
        .map_err(|e| format!("{}: evaluation_windows invalid: {e}", path.display()))?;
    Ok(bytes)
}

pub async fn resolve(
    store: &Storage,
    root: &Path,
    link: &CertLink,
) -> Result<BaselineSource, PromoteError> {
    let mut why: Vec<String> = Vec::new();
    // Archived copies first: they are already safe from retention.
    for f in promotions::archived_reports_by_digest(
        store.reader(),
        &link.baseline_run_id,
        &link.baseline_report_hash,
    )
    .await?
    {
        let path = root.join(&f.path);
        match prove(link, &path) {
            Ok(_) => {
                let name = f.dir.strip_prefix("reports/").unwrap_or(&f.dir).to_string();
                if f.path.ends_with("/report.json") && !name.contains('/') {
                    return Ok(BaselineSource::Archived { name });
                }
                why.push(format!("{}: not a reports/<name>/report.json copy", f.path));
            }
            Err(e) => why.push(e),
        }
    }
    for a in promotions::attempts_by_digest(
        store.reader(),
        &link.baseline_run_id,
        &link.baseline_report_hash,
    )
    .await?
    {
        let path = root.join(&a.dir).join("report.json");
        match prove(link, &path) {
            Ok(bytes) => {
                return Ok(BaselineSource::Attempt {
                    id: a.id,
                    nickname: a.nickname,
                    bytes,
                })
            }
            Err(e) => why.push(e),
        }
    }
    let detail = if why.is_empty() {
        format!(
            "no indexed attempt or archived report has the certificate's baseline run_id {} and report_hash {}",
            link.baseline_run_id, link.baseline_report_hash
        )
    } else {
        format!(
            "no usable baseline for run_id {}: {}",
            link.baseline_run_id,
            why.join("; ")
        )
    };
    Err(PromoteError::refused("pairing_evidence_missing", detail))
}
