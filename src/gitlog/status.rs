//! What `/v1/status` says about git, and the failure bookkeeping (metrics, audit on change).

use crate::config::GitMode;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::time::Duration;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = GitCommitInfo)]
pub struct CommitInfo {
    pub id: String,
    pub branch: String,
    pub subject: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = GitPushInfo)]
pub struct PushInfo {
    pub commit: String,
    pub remote: String,
    pub branch: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[schema(as = GitErrorInfo)]
pub struct ErrorInfo {
    /// `commit` or `push`.
    pub op: String,
    pub message: String,
    pub at: DateTime<Utc>,
}

impl ErrorInfo {
    pub fn now(op: &str, message: &str) -> ErrorInfo {
        ErrorInfo {
            op: op.into(),
            message: message.into(),
            at: Utc::now(),
        }
    }
}

/// Git bookkeeping of promotion commits (`[reports] git`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GitStatus {
    pub mode: GitMode,
    /// The work tree holding reports/, once found.
    pub repository: Option<String>,
    pub last_commit: Option<CommitInfo>,
    /// Promotions whose commit has not landed yet.
    pub pending_commits: usize,
    pub pending_push: bool,
    pub last_push: Option<PushInfo>,
    /// The latest failure, cleared once that operation succeeds.
    pub last_error: Option<ErrorInfo>,
    pub next_retry_at: Option<DateTime<Utc>>,
}

impl Default for GitStatus {
    fn default() -> Self {
        GitStatus {
            mode: GitMode::Off,
            repository: None,
            last_commit: None,
            pending_commits: 0,
            pending_push: false,
            last_push: None,
            last_error: None,
            next_retry_at: None,
        }
    }
}

impl super::GitLog {
    pub fn status(&self) -> GitStatus {
        self.0.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub(super) fn update(&self, f: impl FnOnce(&mut GitStatus)) {
        if let Ok(mut s) = self.0.status.lock() {
            f(&mut s);
            self.0
                .status_version
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            crate::metrics::git_pending(s.pending_commits, s.pending_push);
        }
    }

    /// Changes whenever `status()` may answer differently.
    pub fn status_version(&self) -> u64 {
        self.0
            .status_version
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(super) fn push_wanted(&self) -> bool {
        self.status().pending_push
    }

    pub(super) fn set_next_retry(&self, d: Option<Duration>) {
        let at = d.and_then(|d| chrono::Duration::from_std(d).ok().map(|d| Utc::now() + d));
        self.update(|s| s.next_retry_at = at);
    }

    /// Records a failure: status, log, and an audit entry when it differs from the last one
    /// (a failure retried every few seconds is one entry, not thousands).
    pub(super) async fn failed(&self, op: &str, message: &str) {
        let mut changed = false;
        self.update(|s| {
            changed = s
                .last_error
                .as_ref()
                .is_none_or(|e| e.op != op || e.message != message);
            s.last_error = Some(ErrorInfo::now(op, message));
        });
        if changed {
            tracing::warn!(op, error = message, "git operation failed; will retry");
            let action = if op == "push" {
                "git.push_failed"
            } else {
                "git.commit_failed"
            };
            self.audit(action, op, serde_json::json!({ "error": message }))
                .await;
        }
    }
}
