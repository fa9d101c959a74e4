//! `POST /v1/promotions/{name}/verify`: re-prove archived evidence. The certificate's verdict,
//! provable pairing with an archived baseline, the subject report matching the certificate, and
//! the sha256 of every archived file against metadata.json. Every failure names its file.

use super::certificate::{links_subject, read_links, release_of, CERT_NAMES};
use super::metadata::Metadata;
use super::name::PromotionName;
use super::{verdict, PromoteError};
use crate::domain::Sha256;
use crate::fsx::{Dir, FileKind, Limits};
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub check: &'static str,
    pub ok: bool,
    pub file: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub name: String,
    pub ok: bool,
    pub profile: String,
    pub checks: Vec<Check>,
    pub checked_at: chrono::DateTime<chrono::Utc>,
}

fn pass(check: &'static str, file: Option<String>, detail: impl Into<String>) -> Check {
    Check {
        check,
        ok: true,
        file,
        detail: detail.into(),
    }
}

fn fail(check: &'static str, file: Option<String>, detail: impl Into<String>) -> Check {
    Check {
        check,
        ok: false,
        file,
        detail: detail.into(),
    }
}

impl super::Promoter {
    pub async fn check(
        &self,
        name: &str,
        profile: Option<String>,
        token: Option<&str>,
    ) -> Result<CheckReport, PromoteError> {
        let name = PromotionName::parse(name).map_err(|e| PromoteError::bad_name("name", e))?;
        let (reports, limits, n) = (self.workspace.reports.clone(), self.limits, name.clone());
        // Reading the archive and verifying its certificate: blocking, off the async workers.
        let (profile, checks) = Self::blocking(move || {
            let reports = Dir::open_root(&reports, "reports")
                .map_err(|e| PromoteError::Internal(e.to_string()))?;
            run_checks(&reports, &n, profile, &limits)
        })
        .await?;
        let ok = checks.iter().all(|c| c.ok);
        let result = CheckReport {
            name: name.to_string(),
            ok,
            profile,
            checks,
            checked_at: chrono::Utc::now(),
        };
        let value = serde_json::to_value(&result).unwrap_or_default();
        self.records
            .record_verification(
                name.as_str(),
                ok,
                &value,
                &crate::storage::records::AuditEntry::new(
                    "verification.recorded",
                    name.as_str(),
                    token,
                    json!({ "ok": ok, "profile": result.profile }),
                ),
            )
            .await?;
        self.events.publish(
            "verification.recorded",
            json!({ "name": name.as_str(), "ok": ok }),
        );
        crate::metrics::verification(crate::metrics::VerifySource::Promotion, ok);
        Ok(result)
    }
}

/// Every check of one archive (blocking: reads through `reports` by handle, verifies).
fn run_checks(
    reports: &Dir,
    name: &PromotionName,
    profile: Option<String>,
    limits: &Limits,
) -> Result<(String, Vec<Check>), PromoteError> {
    let dir = match reports.open_dir(name.as_str()) {
        Ok(d) => d,
        Err(e) if e.is_not_found() || e.is_refusal() => {
            return Err(PromoteError::NotFound(format!(
                "reports/{name} is not a promotion (no metadata.json written by invarlockd)"
            )))
        }
        Err(e) => return Err(PromoteError::Internal(e.to_string())),
    };
    let rel = |f: &str| format!("reports/{name}/{f}");
    let meta_bytes = dir
        .read("metadata.json", FileKind::Metadata, limits)
        .map_err(|_| {
            PromoteError::NotFound(format!(
                "reports/{name} is not a promotion (no metadata.json written by invarlockd)"
            ))
        })?;
    let meta = Metadata::from_bytes(&meta_bytes).ok_or_else(|| {
        PromoteError::NotFound(format!(
            "reports/{name}/metadata.json was not written by invarlockd"
        ))
    })?;
    let profile = profile
        .or_else(|| meta.profile.clone())
        .unwrap_or_else(|| "dev".into());
    if !matches!(profile.as_str(), "dev" | "ci" | "release") {
        return Err(PromoteError::bad("profile", "expected dev, ci or release"));
    }
    let mut checks = Vec::new();

    for f in &meta.files {
        match dir.read(&f.name, kind_of(&f.name), limits) {
            Ok(b) if Sha256::of(&b).hex() == f.sha256 && b.len() as u64 == f.size => {
                checks.push(pass("sha256", Some(rel(&f.name)), "matches metadata.json"))
            }
            Ok(b) => checks.push(fail(
                "sha256",
                Some(rel(&f.name)),
                format!(
                    "sha256 {} ({} bytes) differs from metadata.json {} ({} bytes)",
                    Sha256::of(&b).hex(),
                    b.len(),
                    f.sha256,
                    f.size
                ),
            )),
            Err(e) => checks.push(fail(
                "sha256",
                Some(rel(&f.name)),
                format!("unreadable: {e}"),
            )),
        }
    }

    let report = dir
        .read("report.json", FileKind::Report, limits)
        .ok()
        .and_then(|b| {
            let t = crate::pyjson::decode_utf8(&b).ok()?.to_string();
            crate::pyjson::parse_with(
                &t,
                crate::pyjson::ParseOptions {
                    skip: crate::report::SKIPPED_PATHS,
                    ..Default::default()
                },
            )
            .ok()
        });
    if report.is_none() {
        checks.push(fail(
            "report",
            Some(rel("report.json")),
            "missing or not parseable",
        ));
    }

    // The release whose verify applies: the one the archived report records.
    let release = match report.as_ref().map(release_of) {
        Some(Err(e)) => {
            checks.push(fail(
                "unsupported_invarlock_version",
                Some(rel("report.json")),
                e,
            ));
            None
        }
        Some(Ok(r)) => Some(r),
        None => Some(crate::verify::Release::DEFAULT),
    };
    if let (true, Some(release)) = (meta.kind == "subject", release) {
        // The certificate under the name the tool wrote (0.3.8+: evaluation.report.json).
        let cert_name = CERT_NAMES
            .into_iter()
            .find(|n| meta.files.iter().any(|f| f.name == *n))
            .unwrap_or(CERT_NAMES[0]);
        let cert_file = rel(cert_name);
        match dir.read(cert_name, FileKind::Certificate, limits) {
            Err(e) => checks.push(fail(
                "certificate",
                Some(cert_file.clone()),
                format!("unreadable: {e}"),
            )),
            Ok(bytes) => {
                let v = verdict::verify(&bytes, &cert_file, &profile, release);
                checks.push(if v.ok {
                    pass(
                        "certificate_verify",
                        Some(cert_file.clone()),
                        format!("verify --profile {profile} (InvarLock {release}): OK"),
                    )
                } else {
                    fail(
                        "certificate_verify",
                        Some(cert_file.clone()),
                        format!(
                            "verify --profile {profile} (InvarLock {release}): {}",
                            v.errors.join("; ")
                        ),
                    )
                });
                let cert = crate::pyjson::decode_utf8(&bytes)
                    .ok()
                    .and_then(|t| crate::pyjson::parse(t).ok());
                match cert.as_ref().map(read_links) {
                    Some(Ok(link)) => {
                        if let Some(r) = &report {
                            checks.push(if links_subject(&link, r) {
                                pass(
                                    "subject_link",
                                    Some(rel("report.json")),
                                    "matches the certificate's provenance.edited",
                                )
                            } else {
                                fail(
                                    "subject_link",
                                    Some(rel("report.json")),
                                    "does not match the certificate's provenance.edited",
                                )
                            });
                        }
                        checks.push(check_baseline(reports, &meta, &link, limits));
                    }
                    Some(Err(e)) => checks.push(fail("certificate_links", Some(cert_file), e)),
                    None => {
                        checks.push(fail("certificate_links", Some(cert_file), "not parseable"))
                    }
                }
            }
        }
    }
    Ok((profile, checks))
}

fn kind_of(name: &str) -> FileKind {
    if name.ends_with(".cert.json") || CERT_NAMES.contains(&name) {
        FileKind::Certificate
    } else if name == "metadata.json" {
        FileKind::Metadata
    } else {
        FileKind::Report
    }
}

fn check_baseline(
    reports: &Dir,
    meta: &Metadata,
    link: &super::certificate::CertLink,
    limits: &Limits,
) -> Check {
    let Some(b) = &meta.baseline else {
        return fail("pairing", None, "metadata.json names no baseline");
    };
    let file = format!("reports/{}/report.json", b.name);
    if b.run_id != link.baseline_run_id || b.report_hash != link.baseline_report_hash {
        return fail(
            "pairing",
            Some(file),
            "metadata.json baseline digests differ from the certificate's",
        );
    }
    let rel = format!("{}/report.json", b.name);
    match super::baseline::prove(link, reports, &rel, &file, limits) {
        Ok(_) => pass(
            "pairing",
            Some(file),
            "archived baseline matches the certificate and its evaluation_windows pass §2.4",
        ),
        Err(e) => fail("pairing", Some(file), e),
    }
}
