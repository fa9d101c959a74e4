//! `git = "push"`: pushing the branch that promotions are committed to. A failure never touches
//! the archive or the local commit; the retry loop pushes again with backoff.

use super::git::{git, GitError, Repo};
use super::status::PushInfo;
use std::time::Duration;

/// A push over a slow network may take a while, but never forever.
const PUSH_TIMEOUT: Duration = Duration::from_secs(300);

impl super::GitLog {
    /// Pushes the checked-out branch to `[reports] remote` / `branch`.
    pub(super) async fn push_now(&self) -> Result<(), ()> {
        let _one_writer = self.0.lock.lock().await;
        match self.push_once().await {
            Ok(info) => {
                crate::metrics::git_push(true);
                if let Some(info) = &info {
                    tracing::info!(commit = %info.commit, remote = %info.remote, "pushed");
                    self.audit(
                        "git.pushed",
                        &info.branch,
                        serde_json::json!({ "commit": info.commit, "remote": info.remote }),
                    )
                    .await;
                }
                self.update(|s| {
                    s.pending_push = false;
                    if info.is_some() {
                        s.last_push = info;
                    }
                    if s.last_error.as_ref().is_some_and(|e| e.op == "push") {
                        s.last_error = None;
                    }
                });
                Ok(())
            }
            Err(e) => {
                crate::metrics::git_push(false);
                self.failed("push", &e.to_string()).await;
                Err(())
            }
        }
    }

    /// `None` when there is nothing to push (an unborn branch).
    async fn push_once(&self) -> Result<Option<PushInfo>, GitError> {
        let repo = Repo::discover(&self.0.workspace.reports).await?;
        let branch = repo.head_branch().await?;
        let Some(head) = repo.head_commit().await? else {
            return Ok(None);
        };
        let short = branch.trim_start_matches("refs/heads/").to_string();
        let target = if self.0.cfg.branch.trim().is_empty() {
            short.clone()
        } else {
            self.0.cfg.branch.trim().to_string()
        };
        let remote = self.0.cfg.remote.clone();
        git(&repo.toplevel, &["push", "--"])
            .arg(remote.clone())
            .arg(format!("{head}:refs/heads/{target}"))
            .timeout(PUSH_TIMEOUT)
            .output()
            .await?;
        Ok(Some(PushInfo {
            commit: head,
            remote,
            branch: target,
            at: chrono::Utc::now(),
        }))
    }
}
