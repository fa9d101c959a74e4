//! What the watcher tells `/v1/status` and `/readyz`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Starting,
    Inotify,
    Poll,
}

#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub mode: Mode,
    /// Why polling is used, when it is.
    pub mode_reason: Option<String>,
    pub healthy: bool,
    pub last_error: Option<String>,
    pub last_event_at: Option<DateTime<Utc>>,
    pub events_seen: u64,
    pub last_reconcile_at: Option<DateTime<Utc>>,
    pub last_reconcile_ms: Option<u64>,
    pub reconciles: u64,
    pub initial_scan_done: bool,
    pub initial_scan_started_at: Option<DateTime<Utc>>,
    pub initial_scan_finished_at: Option<DateTime<Utc>>,
    /// Paths waiting for a file to settle before they are indexed again.
    pub pending_rechecks: usize,
    pub scan: ScanHealth,
    /// No event source could be started: `healthy` stays false whatever the scans do.
    #[serde(skip)]
    pub source_failed: bool,
}

/// Whether the last scan could read the workspace. A scan that met a filesystem error other
/// than "not found" (EMFILE, EIO, ...) was aborted with the index kept as it was: the daemon is
/// then degraded until a scan succeeds again.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanHealth {
    pub degraded: bool,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// Scans aborted since start.
    pub aborted: u64,
    pub last_ok_at: Option<DateTime<Utc>>,
}

/// Shared, lock-protected snapshot; writers are the watcher task only.
#[derive(Debug)]
pub struct WatchStatus(Mutex<Snapshot>, std::sync::atomic::AtomicU64);

impl Default for WatchStatus {
    fn default() -> Self {
        WatchStatus(
            Mutex::new(Snapshot {
                mode: Mode::Starting,
                mode_reason: None,
                healthy: true,
                last_error: None,
                last_event_at: None,
                events_seen: 0,
                last_reconcile_at: None,
                last_reconcile_ms: None,
                reconciles: 0,
                initial_scan_done: false,
                initial_scan_started_at: None,
                initial_scan_finished_at: None,
                pending_rechecks: 0,
                scan: ScanHealth::default(),
                source_failed: false,
            }),
            std::sync::atomic::AtomicU64::new(0),
        )
    }
}

impl WatchStatus {
    pub fn snapshot(&self) -> Snapshot {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn update(&self, f: impl FnOnce(&mut Snapshot)) {
        f(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()));
        // After the change: a version read before a snapshot never outlives it.
        self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// Moves after every update (conditional GETs of `/v1/status`).
    pub fn version(&self) -> u64 {
        self.1.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn is_ready(&self) -> bool {
        self.snapshot().initial_scan_done
    }
}
