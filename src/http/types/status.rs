//! `GET /v1/status`: the dashboard summary. The handler (src/http/status.rs) fills it.

use crate::watch::status::{ScanHealth, Snapshot};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// The workspace the daemon serves: its id in the database, its advertised URL and its paths.
#[derive(Serialize, ToSchema, Debug)]
pub struct WorkspacePaths {
    /// `workspace.id`: the name of this workspace in the (possibly shared) database.
    #[schema(example = "gpu-01-ws")]
    pub id: String,
    /// `server.public_url`: where this workspace's mutations are sent.
    #[schema(example = "http://gpu-01:8765")]
    pub public_url: String,
    #[schema(value_type = String, example = "/srv/ws")]
    pub root: std::path::PathBuf,
    #[schema(value_type = String, example = "/srv/ws/runs")]
    pub runs: std::path::PathBuf,
    #[schema(value_type = String, example = "/srv/ws/reports")]
    pub reports: std::path::PathBuf,
    #[schema(value_type = String, example = "/srv/ws/.invarlockd")]
    pub state: std::path::PathBuf,
}

/// How the watcher learns of changes.
#[derive(Serialize, ToSchema, Debug, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum WatchMode {
    Starting,
    Inotify,
    Poll,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct WatcherStatus {
    pub mode: WatchMode,
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

/// Whether the last scan could read the workspace.
#[derive(Serialize, ToSchema, Debug)]
pub struct ScanStatus {
    pub degraded: bool,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// Scans aborted by a filesystem error since start.
    pub aborted: u64,
    pub last_ok_at: Option<DateTime<Utc>>,
}

impl From<&ScanHealth> for ScanStatus {
    fn from(s: &ScanHealth) -> Self {
        ScanStatus {
            degraded: s.degraded,
            last_error: s.last_error.clone(),
            last_error_at: s.last_error_at,
            aborted: s.aborted,
            last_ok_at: s.last_ok_at,
        }
    }
}

#[derive(Serialize, ToSchema, Debug)]
pub struct InitialScan {
    pub done: bool,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl WatcherStatus {
    pub fn of(w: &Snapshot) -> (WatcherStatus, ScanStatus, InitialScan) {
        use crate::watch::status::Mode;
        (
            WatcherStatus {
                mode: match w.mode {
                    Mode::Starting => WatchMode::Starting,
                    Mode::Inotify => WatchMode::Inotify,
                    Mode::Poll => WatchMode::Poll,
                },
                mode_reason: w.mode_reason.clone(),
                healthy: w.healthy,
                last_error: w.last_error.clone(),
                last_event_at: w.last_event_at,
                events_seen: w.events_seen,
                last_reconcile_at: w.last_reconcile_at,
                last_reconcile_ms: w.last_reconcile_ms,
                reconciles: w.reconciles,
                pending_rechecks: w.pending_rechecks,
            },
            ScanStatus::from(&w.scan),
            InitialScan {
                done: w.initial_scan_done,
                started_at: w.initial_scan_started_at,
                finished_at: w.initial_scan_finished_at,
            },
        )
    }
}

/// Attempts by status.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct StatusCounts {
    pass: i64,
    fail: i64,
    error: i64,
    invalid: i64,
    running: i64,
    total: i64,
}

/// What the index holds.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct IndexStatus {
    attempts: StatusCounts,
    nicknames: i64,
    unrecognized: i64,
    certificates: i64,
    evidence_dirs: i64,
    mappings: i64,
    #[schema(format = DateTime)]
    last_index_event_at: Option<String>,
    db_size_bytes: u64,
}

/// The last retention apply.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct LastApply {
    plan_id: String,
    #[schema(format = DateTime)]
    applied_at: Option<String>,
    bytes_reclaimed: Option<i64>,
    state: super::PlanState,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RetentionStatus {
    /// Bytes in `<state>/trash/`.
    trash_bytes: u64,
    last_apply: Option<LastApply>,
    /// Bytes of every indexed attempt.
    runs_bytes: u64,
}

/// `GET /v1/status`.
#[derive(Serialize, ToSchema, Debug)]
pub struct StatusResponse {
    #[schema(example = "0.1.0")]
    pub version: &'static str,
    pub started_at: DateTime<Utc>,
    pub workspace: WorkspacePaths,
    #[schema(value_type = IndexStatus)]
    pub index: Value,
    pub watcher: WatcherStatus,
    pub scan: ScanStatus,
    pub initial_scan: InitialScan,
    #[schema(value_type = RetentionStatus)]
    pub retention: Value,
    pub git: crate::gitlog::GitStatus,
    /// Whether the database answers (the heartbeat's last finding).
    pub database: crate::fleet::health::DbHealthView,
    /// Every workspace of the database (this one first) with its last contact and its counts,
    /// as the heartbeat last read them (every 2 s). On SQLite, this workspace alone.
    pub workspaces: Vec<crate::fleet::registry::WorkspaceStatus>,
}
