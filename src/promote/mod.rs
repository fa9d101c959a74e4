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
            lock: Arc::default(),
        }
    }

    pub fn with_git(mut self, git: crate::gitlog::GitLog) -> Self {
        self.git = Some(git);
        self
    }
}
