//! `reports/` under version control (`[reports] git = "commit" | "push"`): every promotion
//! becomes one commit adding exactly its new `reports/<name>/` directories, whose message is the
//! change-log entry; with `push` the branch is pushed, retried with backoff. The change log is
//! read back from git (`GET /v1/changelog`), so history made on other clones shows too.
//!
//! Git never decides whether a promotion succeeds: its errors are reported in `/v1/status`,
//! `/metrics` and the audit log, and the commit is owed (see `pending`) until it lands.

pub mod commit;
pub mod git;
pub mod human;
pub mod log;
pub mod message;
pub mod pending;
mod push;
mod status;
mod work;

pub use git::{GitError, Repo};
pub use status::GitStatus;

use crate::config::{GitMode, ReportsConfig, Workspace};
use crate::storage::records::{AuditEntry, Records};
use std::sync::Arc;
use std::time::Duration;

/// The git side of promotions. Cheap to clone.
#[derive(Clone)]
pub struct GitLog(Arc<Inner>);

struct Inner {
    cfg: ReportsConfig,
    workspace: Workspace,
    records: Records,
    /// One git writer at a time in this process (commits, index syncs, pushes).
    lock: tokio::sync::Mutex<()>,
    status: std::sync::Mutex<GitStatus>,
    /// Moves with every change of `status` (under its lock): the ETag of `/v1/status` hashes
    /// this instead of the whole status.
    status_version: std::sync::atomic::AtomicU64,
    /// Wakes the retry loop: a commit owed or a push wanted.
    wake: tokio::sync::Notify,
    /// Owed commits of promotions still running: the retry loop leaves them to their request
    /// (their archives may not be written yet).
    in_flight: std::sync::Mutex<std::collections::HashSet<std::path::PathBuf>>,
}

impl GitLog {
    pub fn new(cfg: ReportsConfig, workspace: Workspace, records: Records) -> GitLog {
        let status = GitStatus {
            mode: cfg.git,
            pending_push: cfg.git == GitMode::Push,
            ..GitStatus::default()
        };
        GitLog(Arc::new(Inner {
            cfg,
            workspace,
            records,
            lock: tokio::sync::Mutex::new(()),
            status: std::sync::Mutex::new(status),
            status_version: Default::default(),
            wake: tokio::sync::Notify::new(),
            in_flight: Default::default(),
        }))
    }

    pub fn mode(&self) -> GitMode {
        self.0.cfg.git
    }

    pub fn workspace(&self) -> &Workspace {
        &self.0.workspace
    }

    /// Before a promotion writes anything: records the commit it will owe (nothing when git is
    /// off). An error here must stop the promotion, as nothing would remember the commit.
    pub fn expect(
        &self,
        dirs: Vec<pending::PlannedDir>,
    ) -> std::io::Result<Option<pending::Ticket>> {
        if self.mode() == GitMode::Off || dirs.is_empty() {
            return Ok(None);
        }
        let ticket = pending::record(&self.0.workspace.state, dirs)?;
        if let Ok(mut f) = self.0.in_flight.lock() {
            f.insert(ticket.path.clone());
        }
        Ok(Some(ticket))
    }

    /// Whether a running request owns this owed commit. A request cut off before its commit
    /// (the client went away and its handler was dropped) stops owning it after a while.
    pub(crate) fn is_in_flight(&self, t: &pending::Ticket) -> bool {
        let fresh = chrono::Utc::now() - t.owed.created_at < chrono::Duration::minutes(10);
        fresh && self.0.in_flight.lock().is_ok_and(|f| f.contains(&t.path))
    }

    /// After the promotion wrote what it could: commits it now. Never fails the promotion; a
    /// failure leaves the commit owed, reported and retried.
    pub async fn promoted(&self, ticket: Option<pending::Ticket>) {
        let Some(ticket) = ticket else { return };
        let result = self.work_off(&ticket).await;
        if let Ok(mut f) = self.0.in_flight.lock() {
            f.remove(&ticket.path);
        }
        if result.is_err() {
            self.0.wake.notify_one();
        }
    }

    fn backoff(&self, failures: u32) -> Duration {
        let min = self.0.cfg.retry_min;
        let factor = 1u32.checked_shl(failures.min(16)).unwrap_or(u32::MAX);
        min.saturating_mul(factor)
            .min(self.0.cfg.retry_max.max(min))
    }

    /// The retry loop, run for the daemon's lifetime: works off owed commits at start (those
    /// a crash left) and after failures, and pushes when wanted, with exponential backoff.
    pub async fn run(self, token: tokio_util::sync::CancellationToken) {
        if self.mode() == GitMode::Off {
            return;
        }
        pending::clean_interrupted(&self.0.workspace.state);
        if let Ok(repo) = Repo::discover(&self.0.workspace.reports).await {
            if commit::clear_stale_lock(&repo) {
                tracing::warn!("removed an index.lock left by an interrupted invarlockd commit");
            }
        }
        let mut failures = 0u32;
        loop {
            let commits_ok = self.work_off_all().await.is_ok();
            let push_ok = if self.mode() == GitMode::Push && self.push_wanted() {
                self.push_now().await.is_ok()
            } else {
                true
            };
            // Idle, the loop still looks again now and then: an owed commit whose request was
            // cut off is picked up without waiting for the next promotion.
            let wait = if commits_ok && push_ok {
                failures = 0;
                self.set_next_retry(None);
                self.0.cfg.retry_max
            } else {
                let d = self.backoff(failures);
                failures = failures.saturating_add(1);
                self.set_next_retry(Some(d));
                d
            };
            tokio::select! {
                _ = token.cancelled() => return,
                _ = self.0.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Appends an audit entry; the git work already done stands even if this fails.
    async fn audit(&self, action: &'static str, subject: &str, detail: serde_json::Value) {
        let entry = AuditEntry::new(action, subject, None, detail);
        if let Err(e) = self.0.records.append_audit(&entry).await {
            tracing::error!(error = %e, action, "cannot append the audit entry of a git action");
        }
    }
}

/// Test hooks: delays that widen crash windows in the SIGKILL tests. Absent in production.
mod test_hooks {
    fn delay(var: &str) {
        if let Some(ms) = std::env::var(var).ok().and_then(|v| v.parse::<u64>().ok()) {
            std::thread::sleep(std::time::Duration::from_millis(ms));
        }
    }

    /// Between the archive landing and the commit (`INVARLOCKD_TEST_GIT_COMMIT_DELAY_MS`).
    pub async fn before_commit() {
        if std::env::var_os("INVARLOCKD_TEST_GIT_COMMIT_DELAY_MS").is_some() {
            tokio::task::spawn_blocking(|| delay("INVARLOCKD_TEST_GIT_COMMIT_DELAY_MS"))
                .await
                .ok();
        }
    }

    /// Between the branch update and installing the user's new index
    /// (`INVARLOCKD_TEST_GIT_INDEX_DELAY_MS`).
    pub async fn before_index_install() {
        if let Some(ms) = std::env::var("INVARLOCKD_TEST_GIT_INDEX_DELAY_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
        {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
    }
}
