//! Fail-closed baseline resolution: the certificate's baseline digests must lead to an archived
//! report or an indexed attempt whose bytes really have those digests and whose
//! `evaluation_windows` pass §2.4 A–B.

use super::certificate::{links_baseline, CertLink};
use super::PromoteError;
use crate::config::Workspace;
use crate::fsx::{Dir, FileKind, Limits};
use crate::storage::Storage;

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

/// Reads `rel` below `dir` (by handle, within the report cap) and checks it; `Err` says why it
/// does not qualify, naming the file by its workspace-relative `label`.
pub fn prove(
    link: &CertLink,
    dir: &Dir,
    rel: &str,
    label: &str,
    limits: &Limits,
) -> Result<Vec<u8>, String> {
    let bytes = dir
        .read(rel, FileKind::Report, limits)
        .map_err(|e| e.to_string())?;
    let text = crate::pyjson::decode_utf8(&bytes).map_err(|e| format!("{label}: {e}"))?;
    let report = crate::pyjson::parse(text).map_err(|e| format!("{label}: {e}"))?;
    if !links_baseline(link, &report) {
        return Err(format!(
            "{label}: digests differ from the certificate's baseline"
        ));
    }
    crate::report::validate_baseline_windows(&report)
        .map_err(|e| format!("{label}: evaluation_windows invalid: {e}"))?;
    Ok(bytes)
}

pub async fn resolve(
    store: &Storage,
    ws: &Workspace,
    limits: Limits,
    link: &CertLink,
) -> Result<BaselineSource, PromoteError> {
    let archived = store
        .archived_reports_by_digest(&link.baseline_run_id, &link.baseline_report_hash)
        .await?;
    let attempts = store
        .attempts_by_digest(&link.baseline_run_id, &link.baseline_report_hash)
        .await?;
    let (ws, cert_link) = (ws.clone(), link.clone());
    // Reading and parsing candidate reports is blocking work: off the async workers.
    let found = tokio::task::spawn_blocking(move || -> Result<BaselineSource, Vec<String>> {
        let mut why: Vec<String> = Vec::new();
        let root = Dir::open_root(&ws.root, "").map_err(|e| vec![e.to_string()])?;
        // Archived copies first: they are already safe from retention.
        for f in archived {
            match prove(&cert_link, &root, &f.path, &f.path, &limits) {
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
        let runs = Dir::open_root(&ws.runs, "runs").map_err(|e| vec![e.to_string()])?;
        for a in attempts {
            let label = format!("runs/{}/report.json", a.id);
            let proved = runs
                .open_dir(&a.id)
                .map_err(|e| e.to_string())
                .and_then(|d| prove(&cert_link, &d, "report.json", &label, &limits));
            match proved {
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
        Err(why)
    })
    .await
    .map_err(|e| PromoteError::Internal(e.to_string()))?;
    let why = match found {
        Ok(source) => return Ok(source),
        Err(why) => why,
    };
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
