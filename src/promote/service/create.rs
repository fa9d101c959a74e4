//! Creating the archives: the intent is recorded first, then each archive is written, then
//! their audit entries close the intent; on failure what this call created is removed.

use super::ToCreate;
use crate::domain::Sha256;
use crate::promote::archive::{write_archive, EvidenceFile, Written};
use crate::promote::intent::{PlannedArchive, PromotionIntent};
use crate::promote::name::PromotionName;
use crate::promote::PromoteError;
use crate::storage::records::IntentKind;

/// The intent recorded before the archives of `plan` are written.
pub(super) fn intent_of(plan: &[ToCreate], token: Option<&str>, profile: &str) -> PromotionIntent {
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

impl crate::promote::Promoter {
    /// Records the intent, creates each archive, then appends their audit entries and closes
    /// the intent in one transaction. On any error, what this call created is removed before
    /// the error is returned. Returns the archives created.
    pub(super) async fn create_archives(
        &self,
        plan: Vec<ToCreate>,
        intent: &PromotionIntent,
    ) -> Result<Vec<PlannedArchive>, PromoteError> {
        if plan.is_empty() {
            return Ok(Vec::new());
        }
        // An intent a crash left open (and a start on a full disk could not close) is finished
        // before this request acts, so its archives get their audit entries first.
        crate::promote::intent::recover(&self.records, &self.workspace.reports)
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
            match crate::promote::gitignore::ensure(&root) {
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
                .try_for_each(|a| crate::promote::intent::remove_ours(&reports, a))
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
    pub(super) fn owe_commit(
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
