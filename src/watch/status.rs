//! What the watcher tells `/v1/status` and `/readyz`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::Mutex;
use utoipa::ToSchema;

/// How the watcher learns of changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = WatchMode)]
pub enum Mode {
    Starting,
    Inotify,
    Poll,
}

/// Everything the watcher reports. Its parts are what `/v1/status` serves as `watcher`,
/// `initial_scan` and `scan` (their schemas are these types'), so the answer is read off as it
/// is, never copied field by field.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub watcher: WatcherStatus,
    pub initial_scan: InitialScan,
    pub scan: ScanHealth,
    /// No event source could be started: `healthy` stays false whatever the scans do.
    pub source_failed: bool,
}

// The watcher itself: how it is told of changes and how its event loop and reconcile scans
// fare. (No doc comment: the schema has no description.)
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WatcherStatus {
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
    /// Paths waiting for a file to settle.
    pub pending_rechecks: usize,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct InitialScan {
    pub done: bool,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Whether the last scan could read the workspace.
// A scan that met a filesystem error other than "not found" (EMFILE, EIO, ...) was aborted
// with the index kept as it was: the daemon is then degraded until a scan succeeds again.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[schema(as = ScanStatus)]
pub struct ScanHealth {
    pub degraded: bool,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// Scans aborted by a filesystem error since start.
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
                watcher: WatcherStatus {
                    mode: Mode::Starting,
                    mode_reason: None,
                    healthy: true,
                    last_error: None,
                    last_event_at: None,
                    events_seen: 0,
                    last_reconcile_at: None,
                    last_reconcile_ms: None,
                    reconciles: 0,
                    pending_rechecks: 0,
                },
                initial_scan: InitialScan::default(),
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
        self.snapshot().initial_scan.done
    }
}
