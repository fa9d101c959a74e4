//! What promotion needs from a certificate: how it links to its subject and baseline reports
//! (§3.5, §5.4) and whether every validation gate passed.

use crate::pyjson::Value;

/// The certificate file names: 0.3.4–0.3.7 write `evaluation.cert.json`, 0.3.8+ the same
/// document as `evaluation.report.json`. Archives keep the name the tool wrote.
pub const CERT_NAMES: [&str; 2] = ["evaluation.cert.json", "evaluation.report.json"];

/// The archive name for a certificate given as `path`: the 0.3.8+ name when the file has it.
pub fn archive_name(path: &str) -> &'static str {
    if path.ends_with("evaluation.report.json") {
        CERT_NAMES[1]
    } else {
        CERT_NAMES[0]
    }
}

/// The release whose `verify` applies to a run's evidence: the one its report records.
/// Unknown or unrecognised versions follow 0.3.6; a 0.5.0+ version is refused (its contract
/// changed: attested runtime manifests, other guard entries, then evidence packs).
pub fn release_of(report: &Value) -> Result<crate::verify::Release, String> {
    use crate::verify::{is_later_contract, recorded_version, Release, SUPPORTED_RANGE};
    match recorded_version(report) {
        Some(v) if is_later_contract(v) => Err(format!(
            "the run was written by InvarLock {v}; invarlockd promotes and verifies evidence of releases {SUPPORTED_RANGE}"
        )),
        Some(v) => Ok(v.parse().unwrap_or(Release::DEFAULT)),
        None => Ok(Release::DEFAULT),
    }
}

/// The run identity digests a certificate records.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CertLink {
    pub run_id: String,
    pub edited_run_id: String,
    pub edited_report_hash: String,
    pub baseline_run_id: String,
    pub baseline_report_hash: String,
    pub policy_digest: Option<String>,
}

fn text(cert: &Value, path: &[&str]) -> Option<String> {
    cert.pointer(path)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Reads the links; a certificate missing any of them cannot be promoted (fail-closed).
pub fn read_links(cert: &Value) -> Result<CertLink, String> {
    let need = |path: &[&str]| {
        text(cert, path).ok_or_else(|| format!("certificate has no {}", path.join(".")))
    };
    let baseline_run_id = need(&["baseline_ref", "run_id"])?;
    if let Some(p) = text(cert, &["provenance", "baseline", "run_id"]) {
        if p != baseline_run_id {
            return Err(format!(
                "certificate names two baseline runs: baseline_ref.run_id {baseline_run_id} vs provenance.baseline.run_id {p}"
            ));
        }
    }
    Ok(CertLink {
        run_id: need(&["run_id"])?,
        edited_run_id: need(&["provenance", "edited", "run_id"])?,
        edited_report_hash: need(&["provenance", "edited", "report_hash"])?,
        baseline_run_id,
        baseline_report_hash: need(&["provenance", "baseline", "report_hash"])?,
        policy_digest: text(cert, &["auto", "policy_digest"]),
    })
}

/// Every `validation` flag must be `true`; an absent or empty block proves nothing and fails.
pub fn failed_gates(cert: &Value) -> Vec<String> {
    match cert.get("validation").and_then(Value::as_object) {
        Some(flags) if !flags.is_empty() => flags
            .iter()
            .filter(|(_, v)| **v != Value::Bool(true))
            .map(|(k, _)| k.clone())
            .collect(),
        _ => vec!["validation (missing or empty)".to_string()],
    }
}

/// Whether `report` is the certificate's subject: its §5.4 digests (normalised as
/// `make_certificate` does for the edited report) equal `provenance.edited`.
pub fn links_subject(link: &CertLink, report: &Value) -> bool {
    crate::report::subject_digests(report).is_some_and(|(run_id, hash)| {
        run_id == link.edited_run_id && hash == link.edited_report_hash
    })
}

/// Whether `report` is the certificate's baseline (digests of the raw report, §5.4).
pub fn links_baseline(link: &CertLink, report: &Value) -> bool {
    crate::report::run_id(report).is_some_and(|id| id == link.baseline_run_id)
        && crate::report::report_hash(report) == link.baseline_report_hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn load(rel: &str) -> Value {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/workspace")
            .join(rel);
        crate::pyjson::parse(&std::fs::read_to_string(p).unwrap()).unwrap()
    }

    #[test]
    fn the_release_certificate_links_its_subject_and_baseline_runs_and_passes_every_gate() {
        let cert = load("reports/rel_quant8_balanced/evaluation.cert.json");
        let link = read_links(&cert).unwrap();
        assert!(links_subject(
            &link,
            &load("runs/rel_quant8/20261128_204341/report.json")
        ));
        assert!(links_baseline(
            &link,
            &load("runs/rel_baseline/20261128_204321/report.json")
        ));
        assert!(!links_subject(
            &link,
            &load("runs/quant8/20261128_204141/report.json")
        ));
        assert!(failed_gates(&cert).is_empty());
    }

    #[test]
    fn a_certificate_with_a_failed_gate_names_it() {
        let cert = load("reports/quant8_balanced/evaluation.cert.json");
        assert_eq!(
            failed_gates(&cert),
            vec!["primary_metric_acceptable".to_string()]
        );
        let link = read_links(&cert).unwrap();
        assert!(links_baseline(
            &link,
            &load("runs/baseline/20261128_204128/report.json")
        ));
        assert!(!links_baseline(
            &link,
            &load("runs/baseline/20261128_204115/report.json")
        ));
    }
}
