//! The promotion itself: checks (fail-closed), then one atomic archive per directory, then the
//! index, the audit log and the event stream.

use super::archive::{write_archive, EvidenceFile, Written};
use super::baseline::{self, BaselineSource};
use super::certificate::{archive_name, failed_gates, links_subject, read_links, release_of};
use super::intent::{PlannedArchive, PromotionIntent};
use super::metadata::{BaselineRef, FileEntry, Metadata, FORMAT, GENERATED_BY};
use super::name::PromotionName;
use super::paths::{read_certificate, relative_in_workspace};
use super::{verdict, PromoteError};
use crate::domain::{AttemptId, Sha256};
use crate::fsx::{Dir, FileKind, FsError};
use crate::pyjson::Value;
use crate::storage::records::IntentKind;
use serde::Deserialize;
use serde_json::json;

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

fn report_value(bytes: &[u8]) -> Result<Value, String> {
    let text = crate::pyjson::decode_utf8(bytes).map_err(|e| e.to_string())?;
    crate::pyjson::parse_with(
        text,
        crate::pyjson::ParseOptions {
            skip: crate::report::SKIPPED_PATHS,
            ..Default::default()
        },
    )
    .map_err(|e| e.to_string())
}

fn text_at(v: &Value, path: &[&str]) -> Option<String> {
    v.pointer(path).and_then(Value::as_str).map(str::to_string)
}

impl super::Promoter {
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

    /// The attempt's report.json, read by handle below runs/; a refused file is `not_pass`.
    async fn read_report(&self, rid: &str) -> Result<Vec<u8>, PromoteError> {
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
    async fn stored_metadata(
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

    /// Records the intent, creates each archive, then appends their audit entries and closes
    /// the intent in one transaction. On any error, what this call created is removed before
    /// the error is returned. Returns the archives created.
    async fn create_archives(
        &self,
        plan: Vec<ToCreate>,
        intent: &PromotionIntent,
    ) -> Result<Vec<PlannedArchive>, PromoteError> {
        if plan.is_empty() {
            return Ok(Vec::new());
        }
        // An intent a crash left open (and a start on a full disk could not close) is finished
        // before this request acts, so its archives get their audit entries first.
        super::intent::recover(&self.records, &self.workspace.reports)
            .await
            .map_err(|e| {
                PromoteError::Internal(format!("finishing an interrupted promotion: {e}"))
            })?;
        let intent_id = self
            .records
            .open_intent(IntentKind::Promotion, intent)
            .await?;
        let mut created: Vec<PlannedArchive> = Vec::new();
        let root = self.workspace.root.clone();
        let mut result = Self::blocking(move || {
            // A refused .gitignore (symlink, FIFO, too large) is left alone, never written
            // through; it does not stop the promotion.
            match super::gitignore::ensure(&root) {
                Err(e) if e.is_refusal() => {
                    tracing::warn!(error = %e, "workspace .gitignore left alone");
                    Ok(())
                }
                r => r.map_err(|e| PromoteError::Internal(format!("workspace .gitignore: {e}"))),
            }
        })
        .await;
        for ((n, files, meta, _, _), planned) in plan.into_iter().zip(&intent.archives) {
            if result.is_err() {
                break;
            }
            match self.write(n, files, meta).await {
                Ok(Written::Created) => created.push(planned.clone()),
                // Someone made the identical archive meanwhile: not ours to audit.
                Ok(Written::AlreadyIdentical) => {}
                Err(e) => result = Err(e),
            }
        }
        test_hooks::before_audit().await;
        if result.is_ok() {
            let entries: Vec<_> = created.iter().map(|a| a.audit(intent, false)).collect();
            match self.records.complete_intent(intent_id, &entries).await {
                Ok(_) => return Ok(created),
                Err(e) => result = Err(e.into()),
            }
        }
        let reports = self.workspace.reports.clone();
        let undo = created.clone();
        let undone = tokio::task::spawn_blocking(move || {
            undo.iter()
                .try_for_each(|a| super::intent::remove_ours(&reports, a))
        })
        .await;
        match undone {
            Ok(Ok(())) => {
                if let Err(e) = self.records.roll_back_intent(intent_id).await {
                    // Left open: the next start finds nothing of it and closes it.
                    tracing::warn!(error = %e, intent = intent_id, "closing a rolled-back intent failed");
                }
            }
            // Left open: the next start audits what is still there.
            Ok(Err(e)) => tracing::error!(error = %e, "rolling back a failed promotion failed"),
            Err(e) => tracing::error!(error = %e, "rolling back a failed promotion failed"),
        }
        result.map(|()| Vec::new())
    }

    /// Records the commit owed for these archives when `[reports] git` is on.
    fn owe_commit(
        &self,
        archives: &[PlannedArchive],
    ) -> Result<Option<crate::gitlog::pending::Ticket>, PromoteError> {
        let Some(git) = &self.git else {
            return Ok(None);
        };
        let planned = archives
            .iter()
            .map(|a| crate::gitlog::pending::PlannedDir {
                name: a.name.clone(),
                metadata_sha256: a.metadata_sha256.clone(),
            })
            .collect();
        git.expect(planned)
            .map_err(|e| PromoteError::Internal(format!("recording the owed git commit: {e}")))
    }

    /// Archive writes fsync and rename: blocking work, kept off the async workers.
    async fn write(
        &self,
        name: PromotionName,
        files: Vec<EvidenceFile>,
        metadata: Vec<u8>,
    ) -> Result<Written, PromoteError> {
        let (reports, limits) = (self.workspace.reports.clone(), self.limits);
        tokio::task::spawn_blocking(move || {
            write_archive(&reports, &name, &files, &metadata, &limits)
        })
        .await
        .map_err(|e| PromoteError::Internal(e.to_string()))?
        .map_err(PromoteError::from)
    }

    async fn resolve_attempt(&self, req: &PromoteRequest) -> Result<AttemptId, PromoteError> {
        if let Some(a) = &req.attempt {
            let id =
                AttemptId::parse(a).map_err(|e| PromoteError::bad("attempt", e.to_string()))?;
            if let Some(n) = &req.nickname {
                if n != id.nickname.as_str() {
                    return Err(PromoteError::bad(
                        "nickname",
                        "does not match the attempt's nickname",
                    ));
                }
            }
            return Ok(id);
        }
        let nick = req.nickname.as_deref().ok_or_else(|| {
            PromoteError::bad("attempt", "give `attempt` (<nickname>/<ts>) or `nickname`")
        })?;
        crate::domain::Nickname::parse(nick)
            .map_err(|e| PromoteError::bad_name("nickname", e.to_string()))?;
        let latest = self.store.latest_pass(nick).await?.ok_or_else(|| {
            PromoteError::refused("not_pass", format!("nickname {nick:?} has no pass attempt"))
        })?;
        AttemptId::parse(&latest).map_err(|e| PromoteError::Internal(e.to_string()))
    }

    /// `Some(true)`: the name holds these exact evidence bytes; `Some(false)`: something else;
    /// `None`: free.
    async fn existing_evidence(
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
            super::archive::same_evidence(&dir, &name, &files, &limits)
                .map_err(|e| PromoteError::Internal(e.to_string()))
        })
        .await
    }

    /// The default name for an attempt's archive: the nickname, or the dated name when the
    /// nickname's directory holds another attempt's report.
    async fn free_name(
        &self,
        nickname: &str,
        id: &AttemptId,
        report: &[u8],
    ) -> Result<PromotionName, PromoteError> {
        let plain =
            PromotionName::for_nickname(nickname).map_err(|e| PromoteError::bad("nickname", e))?;
        let probe = [EvidenceFile {
            name: "report.json",
            bytes: report.to_vec(),
        }];
        match self.existing_evidence(&plain, &probe).await? {
            None | Some(true) => Ok(plain),
            Some(false) => PromotionName::dated(id, self.tz.to_utc(id.ts.naive()))
                .map_err(|e| PromoteError::bad("nickname", e)),
        }
    }

    fn baseline_metadata(
        &self,
        name: &PromotionName,
        id: &str,
        bytes: &[u8],
        profile: &str,
        token: Option<&str>,
    ) -> Result<Metadata, PromoteError> {
        let report = report_value(bytes).map_err(PromoteError::Internal)?;
        let files = [EvidenceFile {
            name: "report.json",
            bytes: bytes.to_vec(),
        }];
        Ok(describe(
            &report, name, "baseline", id, &files, profile, token,
        ))
    }
}

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

/// The intent recorded before the archives of `plan` are written.
fn intent_of(plan: &[ToCreate], token: Option<&str>, profile: &str) -> PromotionIntent {
    PromotionIntent {
        archives: plan
            .iter()
            .map(|(n, _, meta, k, src)| PlannedArchive {
                name: n.to_string(),
                kind: k.clone(),
                attempt: src.clone(),
                metadata_sha256: Sha256::of(meta).hex(),
            })
            .collect(),
        actor: token.map(str::to_string),
        profile: profile.to_string(),
    }
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

fn report_bytes_for_name(files: &[EvidenceFile]) -> Vec<u8> {
    files
        .iter()
        .find(|f| f.name == "report.json")
        .map(|f| f.bytes.clone())
        .unwrap_or_default()
}

/// The metadata.json fields every archive has, read from its report; subject-only fields
/// (baseline, certificate, verdict, annotations) start empty.
fn describe(
    report: &Value,
    name: &PromotionName,
    kind: &str,
    source_attempt: &str,
    files: &[EvidenceFile],
    profile: &str,
    token: Option<&str>,
) -> Metadata {
    Metadata {
        generated_by: GENERATED_BY.into(),
        format: FORMAT.into(),
        name: name.to_string(),
        kind: kind.into(),
        source_attempt: source_attempt.to_string(),
        files: files
            .iter()
            .map(|f| FileEntry {
                name: f.name.to_string(),
                sha256: Sha256::of(&f.bytes).hex(),
                size: f.bytes.len() as u64,
            })
            .collect(),
        report_hash: crate::report::report_hash(report),
        run_id: crate::report::run_id(report).unwrap_or_default(),
        baseline: None,
        certificate_run_id: None,
        seeds: report
            .pointer(&["meta", "seeds"])
            .map(Value::to_serde)
            .unwrap_or_default(),
        dataset_hash: text_at(report, &["data", "dataset_hash"]),
        preview_hash: text_at(report, &["data", "preview_hash"]),
        final_hash: text_at(report, &["data", "final_hash"]),
        tokenizer_hash: text_at(report, &["meta", "tokenizer_hash"])
            .or_else(|| text_at(report, &["data", "tokenizer_hash"])),
        ids_sha256: text_at(report, &["provenance", "provider_digest", "ids_sha256"]),
        policy_digest: None,
        profile: Some(profile.to_string()),
        verify: None,
        promoted_at: chrono::Utc::now(),
        token_name: token.map(str::to_string),
        annotations: serde_json::Value::Null,
    }
}

/// A pause after the archives are written and before they are audited, to put a SIGKILL
/// there in the crash suite. Read from `INVARLOCKD_TEST_PROMOTE_AUDIT_DELAY_MS`; absent in
/// production.
mod test_hooks {
    pub async fn before_audit() {
        if let Some(ms) = std::env::var("INVARLOCKD_TEST_PROMOTE_AUDIT_DELAY_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
        {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
    }
}
