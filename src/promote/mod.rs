//! Promotion: archiving a PASS attempt's evidence into `reports/` atomically and immutably,
//! fail-closed on pairing.

pub mod archive;
mod baseline;
pub mod certificate;
mod check;
mod error;
pub mod gitignore;
pub mod intent;
pub mod metadata;
pub mod name;
mod paths;
mod service;
mod verdict;

pub use check::{Check, CheckReport};
pub use error::PromoteError;
pub use service::{PromoteOutcome, PromoteRequest};

use crate::config::Workspace;
use crate::events::EventBus;
use crate::index::Indexer;
use crate::storage::records::Records;
use crate::storage::Storage;
use crate::timezone::TimeZone;
use std::sync::Arc;

/// Promotes and re-checks archived evidence. Cheap to clone.
#[derive(Clone)]
pub struct Promoter {
    pub store: Storage,
    pub records: Records,
    pub indexer: Indexer,
    pub workspace: Workspace,
    pub events: EventBus,
    pub tz: TimeZone,
    /// Commits each promotion when `[reports] git` asks for it.
    pub git: Option<crate::gitlog::GitLog>,
    /// Size caps of the files promotion reads.
    pub limits: crate::fsx::Limits,
    /// Serialises promotions within the process (their existence checks and renames).
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl Promoter {
    pub fn new(
        store: Storage,
        records: Records,
        indexer: Indexer,
        workspace: Workspace,
        events: EventBus,
        tz: TimeZone,
    ) -> Self {
        Promoter {
            store,
            records,
            indexer,
            workspace,
            events,
            tz,
            git: None,
            limits: crate::fsx::Limits::default(),
            lock: Arc::default(),
        }
    }

    pub fn with_git(mut self, git: crate::gitlog::GitLog) -> Self {
        self.git = Some(git);
        self
    }

    pub fn with_limits(mut self, limits: crate::fsx::Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Runs blocking filesystem work (and CPU-bound verification) off the async workers.
    pub(crate) async fn blocking<T: Send + 'static>(
        f: impl FnOnce() -> Result<T, PromoteError> + Send + 'static,
    ) -> Result<T, PromoteError> {
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| PromoteError::Internal(e.to_string()))?
    }
}
