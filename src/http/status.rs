//! `GET /v1/status` for dashboards and `POST /v1/rescan`.

use super::auth::{Read, Write};
use super::extract::{NoParams, Params};
use super::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/status", get(status))
        .route("/v1/rescan", post(rescan))
}

async fn status(
    _: Read,
    _: Params<NoParams>,
    State(state): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    let watch = state.watch.snapshot();
    // From memory: the publisher recomputes these after each commit (crate::snapshot).
    let counts = state.status.fresh().await;
    let (index, retention) = (&counts.index, &counts.retention);
    Ok(Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "started_at": state.started_at,
        "workspace": {
            "root": state.workspace.root,
            "runs": state.workspace.runs,
            "reports": state.workspace.reports,
            "state": state.workspace.state,
        },
        "index": index,
        "watcher": {
            "mode": watch.mode,
            "mode_reason": watch.mode_reason,
            "healthy": watch.healthy,
            "last_error": watch.last_error,
            "last_event_at": watch.last_event_at,
            "events_seen": watch.events_seen,
            "last_reconcile_at": watch.last_reconcile_at,
            "last_reconcile_ms": watch.last_reconcile_ms,
            "reconciles": watch.reconciles,
            "pending_rechecks": watch.pending_rechecks,
        },
        "scan": watch.scan,
        "initial_scan": {
            "done": watch.initial_scan_done,
            "started_at": watch.initial_scan_started_at,
            "finished_at": watch.initial_scan_finished_at,
        },
        "retention": retention,
        "git": state.git.status(),
    })))
}

/// Queues a full reconcile; answers before it runs.
async fn rescan(
    _: Write,
    _: Params<NoParams>,
    State(state): State<AppState>,
) -> (StatusCode, Json<Value>) {
    // A full queue means a rescan is already pending, which serves this request too.
    let _ = state.rescan.try_send(());
    (StatusCode::ACCEPTED, Json(json!({ "status": "queued" })))
}
