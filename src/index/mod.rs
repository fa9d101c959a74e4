//! PLACEHOLDER: replaced by the `foundation` branch.

use crate::storage::Storage;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct IndexSettings {
    pub workspace: crate::config::Workspace,
    pub index: crate::config::IndexConfig,
}

#[derive(Clone, Debug)]
pub struct Indexer {
    pub store: Storage,
    pub cfg: IndexSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

#[derive(Debug, Default, serde::Serialize)]
pub struct ScanSummary {
    pub attempts_seen: u64,
}

#[derive(Debug, Default)]
pub struct RefreshOutcome {
    pub recheck_after: Option<Duration>,
}

impl Indexer {
    pub fn new(store: Storage, cfg: IndexSettings) -> Self {
        Indexer { store, cfg }
    }

    pub async fn full_scan(&self) -> Result<ScanSummary, IndexError> {
        Ok(ScanSummary::default())
    }

    pub async fn refresh_paths(&self, _paths: &[PathBuf]) -> Result<RefreshOutcome, IndexError> {
        Ok(RefreshOutcome::default())
    }
}
