//! Retention: plan and apply the deletion of stale attempts, never of un-archived evidence.

mod fsmove;
pub mod plan;
mod service;
pub mod stored;

#[cfg(test)]
mod tests;

pub use plan::Policy;
pub use service::{PlanRecord, PlanView};

use crate::config::{RetentionConfig, Workspace};
use crate::events::EventBus;
use crate::index::Indexer;
use crate::storage::records::Records;
use crate::storage::Storage;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    #[error("{1}")]
    BadRequest(&'static str, String),
    #[error("{0}")]
    NotFound(String),
    /// 409 with a stable code: `plan_stale`, `plan_expired`, `plan_not_pending`, ...
    #[error("{1}")]
    Conflict(&'static str, String),
    /// A stored plan or move that does not parse: the operation stops (fail closed).
    #[error("{0}")]
    Corrupt(String),
    #[error("{0}")]
    Internal(String),
}

impl From<crate::storage::StorageError> for RetentionError {
    fn from(e: crate::storage::StorageError) -> Self {
        RetentionError::Internal(e.to_string())
    }
}

/// Per-plan overrides of the configured policy, validated field by field.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    pub keep_last: Option<serde_json::Value>,
    pub keep_within: Option<serde_json::Value>,
    pub failed_keep_within: Option<serde_json::Value>,
}

/// Nothing sensible keeps more than this many attempts per nickname or looks back further.
const MAX_KEEP_LAST: u64 = 1_000_000;
const MAX_WINDOW: Duration = Duration::from_secs(100 * 365 * 86_400);

fn duration_field(field: &'static str, v: &serde_json::Value) -> Result<Duration, RetentionError> {
    let s = v.as_str().ok_or_else(|| {
        RetentionError::BadRequest(
            field,
            format!("{field}: expected a duration string like \"14d\""),
        )
    })?;
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| RetentionError::BadRequest(field, format!("{field}: {s:?}: {e}")))?;
    if d > MAX_WINDOW {
        return Err(RetentionError::BadRequest(
            field,
            format!("{field}: {s:?} is longer than 100 years"),
        ));
    }
    Ok(d)
}

impl Overrides {
    pub fn apply(&self, base: Policy) -> Result<Policy, RetentionError> {
        let mut p = base;
        if let Some(v) = &self.keep_last {
            let n = v.as_u64().filter(|n| *n <= MAX_KEEP_LAST).ok_or_else(|| {
                RetentionError::BadRequest(
                    "keep_last",
                    format!("keep_last: expected an integer from 0 to {MAX_KEEP_LAST}, got {v}"),
                )
            })?;
            p.keep_last = n as u32;
        }
        if let Some(v) = &self.keep_within {
            p.keep_within = duration_field("keep_within", v)?;
        }
        if let Some(v) = &self.failed_keep_within {
            p.failed_keep_within = duration_field("failed_keep_within", v)?;
        }
        Ok(p)
    }
}

#[derive(Clone)]
pub struct Retention {
    pub store: Storage,
    pub records: Records,
    pub indexer: Indexer,
    pub workspace: Workspace,
    pub events: EventBus,
    pub policy: Policy,
    pub trash_grace: Duration,
    pub plan_ttl: Duration,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl Retention {
    pub fn new(
        store: Storage,
        records: Records,
        indexer: Indexer,
        workspace: Workspace,
        events: EventBus,
        cfg: &RetentionConfig,
    ) -> Self {
        Retention {
            store,
            records,
            indexer,
            workspace,
            events,
            policy: Policy {
                keep_last: cfg.keep_last,
                keep_within: cfg.keep_within,
                failed_keep_within: cfg.failed_keep_within,
            },
            trash_grace: cfg.trash_grace,
            plan_ttl: cfg.plan_ttl,
            lock: Arc::default(),
        }
    }
}
