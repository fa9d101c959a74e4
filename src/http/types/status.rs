//! `GET /v1/status`: the dashboard summary. The handler (src/http/status.rs) fills it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// The watcher's parts of the answer are its own report (`crate::watch::status`), served as
/// they are; re-exported under their schema names.
pub use crate::watch::status::{
    InitialScan, Mode as WatchMode, ScanHealth as ScanStatus, WatcherStatus,
};

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
