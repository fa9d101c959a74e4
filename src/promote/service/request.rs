//! One promotion request, in order: every check (fail-closed) and every name before anything
//! is written, then the archives, then the index and the event stream.

use super::create::intent_of;
use super::describe::{describe, report_bytes_for_name, report_value};
use super::{check_baseline_windows, PromoteOutcome, PromoteRequest, ToCreate};
use crate::domain::{AttemptId, Sha256};
use crate::promote::archive::EvidenceFile;
use crate::promote::baseline::{self, BaselineSource};
use crate::promote::certificate::{
    archive_name, failed_gates, links_subject, read_links, release_of,
};
use crate::promote::metadata::{BaselineRef, Metadata};
use crate::promote::name::PromotionName;
use crate::promote::paths::{read_certificate, relative_in_workspace};
use crate::promote::{verdict, PromoteError};
use serde_json::json;

impl crate::promote::Promoter {
    pub async fn promote(
        &self,
        req: PromoteRequest,
        token: Option<&str>,
    ) -> Result<PromoteOutcome, PromoteError> {
        let profile = req.profile.clone().unwrap_or_else(|| "dev".into());
        if !matches!(profile.as_str(), "dev" | "ci" | "release") {
            return Err(PromoteError::bad("profile", "expected dev, ci or release"));
        }
        // Validate every client-given name and path before touching anything.
        let explicit_name = match &req.name {
            Some(n) => {
                Some(PromotionName::parse(n).map_err(|e| PromoteError::bad_name("name", e))?)
            }
            None => None,
        };
        let cert_path = match &req.certificate {
            Some(p) => {
                relative_in_workspace(&self.workspace.root, p)
                    .map_err(|e| PromoteError::bad("certificate", e))?;
                Some(p.clone())
            }
            None => None,
        };
        let id = self.resolve_attempt(&req).await?;
        // One promotion at a time: the existence checks and renames below must not interleave.
        let _guard = self.lock.lock().await;

        let row = self
            .store
            .attempt(self.store.workspace().as_str(), &id.to_string())
            .await?
            .ok_or_else(|| PromoteError::NotFound(format!("attempt {id} is not indexed")))?;
        if row.status != "pass" {
            return Err(PromoteError::refused(
                "not_pass",
                format!(
                    "attempt {id} is {}: {}",
                    row.status,
                    row.reason.unwrap_or_default()
                ),
            ));
        }
        let report_bytes = self.read_report(&row.id).await?;
        let sha = Sha256::of(&report_bytes);
        if row.report_sha256.as_deref() != Some(sha.hex().as_str()) {
            return Err(PromoteError::Conflict(format!(
                "{id}/report.json changed since it was indexed; retry once the index has caught up"
            )));
        }
        let report =
            report_value(&report_bytes).map_err(|e| PromoteError::refused("not_pass", e))?;
        let release = release_of(&report)
            .map_err(|e| PromoteError::refused("unsupported_invarlock_version", e))?;

        let mut files = vec![EvidenceFile {
            name: "report.json",
            bytes: report_bytes.clone(),
        }];
        let mut baseline_plan: Option<(PromotionName, Vec<u8>, String)> = None;
        let mut baseline_ref = None;
        let mut verify_summary = None;
        let mut cert_run_id = None;
        let mut policy_digest = None;
        let kind;
        if let Some(cert_path) = &cert_path {
            kind = "subject";
            let (root, given, limits, prof) = (
                self.workspace.root.clone(),
                cert_path.clone(),
                self.limits,
                profile.clone(),
            );
            // Reading and verifying are blocking and CPU-bound: off the async workers.
            let (cert_bytes, v) = Self::blocking(move || {
                let bytes = read_certificate(&root, &given, &limits)
                    .map_err(|e| PromoteError::bad("certificate", e))?;
                let v = verdict::verify(&bytes, &given, &prof, release);
                Ok((bytes, v))
            })
            .await?;
            if !v.ok {
                return Err(PromoteError::refused(
                    "certificate_not_verified",
                    format!(
                        "certificate fails verify --profile {profile}: {}",
                        v.errors.join("; ")
                    ),
                ));
            }
            verify_summary = Some(v.summary);
            let cert = crate::pyjson::parse(
                crate::pyjson::decode_utf8(&cert_bytes)
                    .map_err(|e| PromoteError::refused("certificate_invalid", e.to_string()))?,
            )
            .map_err(|e| PromoteError::refused("certificate_invalid", e.to_string()))?;
            let failed = failed_gates(&cert);
            if !failed.is_empty() {
                return Err(PromoteError::refused(
                    "validation_failed",
                    format!(
                        "certificate validation flags not true: {}",
                        failed.join(", ")
                    ),
                ));
            }
            let link =
                read_links(&cert).map_err(|e| PromoteError::refused("certificate_mismatch", e))?;
            if !links_subject(&link, &report) {
                return Err(PromoteError::refused(
                    "certificate_mismatch",
                    format!(
                        "certificate provenance.edited ({}/{}) does not match attempt {id}",
                        link.edited_run_id, link.edited_report_hash
                    ),
                ));
            }
            cert_run_id = Some(link.run_id.clone());
            policy_digest = link.policy_digest.clone();
            let (base_name, source_attempt) =
                match baseline::resolve(&self.store, &self.workspace, self.limits, &link).await? {
                    BaselineSource::Archived { name, .. } => (name, None),
                    BaselineSource::Attempt {
                        id: bid,
                        nickname,
                        bytes,
                        ..
                    } => {
                        let bid_parsed = AttemptId::parse(&bid)
                            .map_err(|e| PromoteError::Internal(e.to_string()))?;
                        let name = self.free_name(&nickname, &bid_parsed, &bytes).await?;
                        baseline_plan = Some((name.clone(), bytes, bid.clone()));
                        (name.to_string(), Some(bid))
                    }
                };
            baseline_ref = Some(BaselineRef {
                name: base_name,
                report_hash: link.baseline_report_hash.clone(),
                run_id: link.baseline_run_id.clone(),
                source_attempt,
            });
            files.push(EvidenceFile {
                name: archive_name(req.certificate.as_deref().unwrap_or_default()),
                bytes: cert_bytes,
            });
        } else {
            if row.paired {
                return Err(PromoteError::bad(
                    "certificate",
                    format!("attempt {id} is a paired subject run: a certificate is required"),
                ));
            }
            kind = "baseline";
            check_baseline_windows(&id, &report_bytes)?;
        }

        let name = match explicit_name {
            Some(n) => n,
            None => {
                self.free_name(id.nickname.as_str(), &id, &report_bytes_for_name(&files))
                    .await?
            }
        };
        let metadata = Metadata {
            baseline: baseline_ref,
            certificate_run_id: cert_run_id,
            policy_digest,
            verify: verify_summary,
            annotations: req.metadata.clone().unwrap_or(serde_json::Value::Null),
            ..describe(
                &report,
                &name,
                kind,
                &id.to_string(),
                &files,
                &profile,
                token,
            )
        };

        // Every name is checked before anything is written: a request that answers an error
        // has changed nothing.
        if baseline_plan.as_ref().is_some_and(|(b, _, _)| *b == name) {
            return Err(PromoteError::Conflict(format!(
                "reports/{name} cannot hold both the subject and its baseline {}; choose another name",
                baseline_plan.as_ref().map(|b| b.2.as_str()).unwrap_or_default()
            )));
        }
        let subject_exists = match self.existing_evidence(&name, &files).await? {
            Some(false) => {
                return Err(PromoteError::Conflict(format!(
                    "reports/{name} already exists with different content"
                )))
            }
            Some(true) => true,
            None => false,
        };
        let mut plan: Vec<ToCreate> = Vec::new();
        if let Some((bname, bytes, bid)) = &baseline_plan {
            let bfiles = vec![EvidenceFile {
                name: "report.json",
                bytes: bytes.clone(),
            }];
            if self.existing_evidence(bname, &bfiles).await?.is_none() {
                let bmeta = self.baseline_metadata(bname, bid, bytes, &profile, token)?;
                plan.push((
                    bname.clone(),
                    bfiles,
                    bmeta.to_bytes(),
                    bmeta.kind.clone(),
                    bid.clone(),
                ));
            }
        }
        let subject_meta = metadata.to_bytes();
        if !subject_exists {
            plan.push((
                name.clone(),
                files,
                subject_meta.clone(),
                kind.to_string(),
                id.to_string(),
            ));
        }
        let intent = intent_of(&plan, token, &profile);
        // The commit this promotion will owe is recorded before anything is written; what
        // landed is committed also when the request fails later (the archive is kept).
        let git_ticket = self.owe_commit(&intent.archives)?;
        let created = self.create_archives(plan, &intent).await;
        if let Some(git) = &self.git {
            git.promoted(git_ticket).await;
        }
        let created = created?;

        let baseline_archived = baseline_plan
            .as_ref()
            .map(|b| b.0.to_string())
            .filter(|b| created.iter().any(|a| &a.name == b));
        let subject_created = created.iter().any(|a| a.name == name.as_str());
        // The answer waits for the index, so a 201 is visible to the next GET. The archives are
        // created and audited by now: a failing refresh is logged, not answered as an error.
        let dirs: Vec<_> = [&name]
            .into_iter()
            .chain(baseline_plan.as_ref().map(|b| &b.0))
            .map(|n| self.workspace.reports.join(n.as_str()))
            .collect();
        if let Err(e) = self.indexer.refresh_paths(&dirs).await {
            tracing::warn!(error = %e, "indexing new archives failed; the watcher will retry");
        }
        self.events.drain_history(&self.store).await;
        for a in &created {
            self.events.publish(
                "promotion.created",
                json!({ "name": a.name, "kind": a.kind, "attempt": a.attempt }),
            );
            crate::metrics::promotion_created(&a.kind);
        }
        let stored = if subject_created {
            serde_json::from_slice(&subject_meta).unwrap_or(serde_json::Value::Null)
        } else {
            self.stored_metadata(&name).await?
        };
        Ok(PromoteOutcome {
            created: subject_created,
            name: name.to_string(),
            metadata: stored,
            baseline_archived,
        })
    }
}
