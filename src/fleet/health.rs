//! Whether the database answers, as the heartbeat last found it.
//!
//! `/readyz` and `/v1/status` read this instead of waiting on a dead connection: with
//! PostgreSQL gone, a query blocks until the pool's acquire timeout, and a probe must not.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// What `/v1/status` shows under `database`.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct DbHealthView {
    /// The last heartbeat reached the database (true until one has failed).
    pub reachable: bool,
    /// Since when `reachable` holds (start, or the last loss or return).
    pub since: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// Times the database was lost since start.
    pub outages: u64,
    /// When the last catch-up (a reconcile queued after the database came back) was asked for.
    pub last_catch_up_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Default)]
pub struct DbHealth {
    view: Mutex<DbHealthView>,
    /// Moves with every change of the view (the status ETag hashes it, so no 304 hides one).
    version: AtomicU64,
}

/// What a heartbeat result changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Steady,
    Lost,
    Back,
}

impl DbHealth {
    pub fn new() -> DbHealth {
        DbHealth {
            view: Mutex::new(DbHealthView {
                reachable: true,
                since: Some(Utc::now()),
                ..Default::default()
            }),
            version: AtomicU64::new(0),
        }
    }

    pub fn view(&self) -> DbHealthView {
        self.view.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn is_reachable(&self) -> bool {
        self.view
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .reachable
    }

    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// Records a heartbeat that reached the database.
    pub fn ok(&self) -> Transition {
        let mut v = self.view.lock().unwrap_or_else(|p| p.into_inner());
        if v.reachable {
            return Transition::Steady;
        }
        v.reachable = true;
        v.since = Some(Utc::now());
        self.version.fetch_add(1, Ordering::AcqRel);
        Transition::Back
    }

    /// Records a heartbeat that did not.
    pub fn failed(&self, error: String) -> Transition {
        let mut v = self.view.lock().unwrap_or_else(|p| p.into_inner());
        v.last_error = Some(error);
        v.last_error_at = Some(Utc::now());
        self.version.fetch_add(1, Ordering::AcqRel);
        if !v.reachable {
            return Transition::Steady;
        }
        v.reachable = false;
        v.since = v.last_error_at;
        v.outages += 1;
        Transition::Lost
    }

    pub fn caught_up(&self) {
        let mut v = self.view.lock().unwrap_or_else(|p| p.into_inner());
        v.last_catch_up_at = Some(Utc::now());
        self.version.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn losing_and_regaining_the_database_are_reported_once_each() {
        let h = DbHealth::new();
        assert_eq!(h.ok(), Transition::Steady);
        let v0 = h.version();
        assert_eq!(h.failed("refused".into()), Transition::Lost);
        assert_eq!(h.failed("refused".into()), Transition::Steady);
        assert!(!h.is_reachable() && h.version() > v0);
        assert_eq!(h.ok(), Transition::Back);
        assert_eq!(h.ok(), Transition::Steady);
        let v = h.view();
        assert!(v.reachable && v.outages == 1 && v.last_error.as_deref() == Some("refused"));
    }
}
