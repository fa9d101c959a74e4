//! `GET /v1/status` for dashboards and `POST /v1/rescan`.

use super::auth::{Read, Write};
use super::extract::{NoParams, Params};
use super::types::{Queued, QueuedState, StatusResponse, WorkspacePaths};
use super::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/status", get(status))
        .route("/v1/rescan", post(rescan))
}

/// Dashboard summary (counts, watcher, reconcile, scan health, retention, git).
#[utoipa::path(get, path = "/v1/status", operation_id = "get_status", tag = "index",
    description = "`scan` says whether the last scan could read the workspace: `degraded`, `last_error`, `last_error_at`, `aborted` (scans aborted by a filesystem error since start), `last_ok_at`.",
    responses((status = 200, description = "status", body = StatusResponse)))]
pub(super) async fn status(
    _: Read,
    _: Params<NoParams>,
    State(state): State<AppState>,
) -> Result<Json<StatusResponse>, ApiError> {
    let watch = state.watch.snapshot();
    // From memory: the publisher recomputes these after each commit (crate::snapshot).
    let counts = state.status.fresh().await;
    Ok(Json(StatusResponse {
        version: env!("CARGO_PKG_VERSION"),
        started_at: state.started_at,
        workspace: WorkspacePaths {
            id: state.fleet.identity.id.clone(),
            public_url: state.fleet.identity.public_url.clone(),
            root: state.workspace.root.clone(),
            runs: state.workspace.runs.clone(),
            reports: state.workspace.reports.clone(),
            state: state.workspace.state.clone(),
        },
        index: counts.index.clone(),
        watcher: watch.watcher,
        scan: watch.scan,
        initial_scan: watch.initial_scan,
        retention: counts.retention.clone(),
        git: state.git.status(),
        database: state.fleet.health.view(),
        workspaces: state
            .fleet
            .workspaces()
            .iter()
            .map(|w| crate::fleet::registry::WorkspaceStatus {
                counts: if w.own {
                    counts.index.clone()
                } else {
                    w.counts.clone()
                },
                ..w.clone()
            })
            .collect(),
    }))
}

/// Queue a full reconcile scan of this daemon's workspace (write scope); answers before it runs.
#[utoipa::path(post, path = "/v1/rescan", operation_id = "rescan", tag = "index", security(("bearer" = [])),
    params(("workspace" = Option<String>, Query, description = "the workspace to rescan (default: this daemon's; another is its own daemon's job)", example = "gpu-01-ws", pattern = "^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$")),
    responses((status = 202, description = "queued", body = Queued),
        (status = 400, description = "`bad_request`: an unknown parameter or a bad `workspace`"),
        (status = 421, description = "`misdirected`: another workspace; `workspace` and `public_url` name the daemon to ask"),
        (status = 401, description = "`unauthorized`: no or an unknown token"),
        (status = 403, description = "`forbidden`: the token lacks the write scope")))]
pub(super) async fn rescan(
    _: Write,
    Params(q): Params<super::scope::ItemQuery>,
    State(state): State<AppState>,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    if let Some(ws) = super::scope::list_scope(&q.workspace)? {
        super::scope::require_own(&state, &ws, &format!("workspace {ws}")).await?;
    }
    // A full queue means a rescan is already pending, which serves this request too.
    let _ = state.rescan.try_send(());
    Ok((
        StatusCode::ACCEPTED,
        Json(Queued {
            status: QueuedState::Queued,
        }),
    ))
}
