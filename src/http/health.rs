//! Liveness, readiness and Prometheus metrics.

use super::extract::{NoParams, Params};
use super::{ApiError, AppState};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn healthz(_: Params<NoParams>) -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready once the initial scan is done and the index accepts writes; `degraded` (still 200)
/// while the last scan was aborted by a filesystem error.
async fn readyz(
    _: Params<NoParams>,
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let watch = state.watch.snapshot();
    if !watch.initial_scan_done {
        return Err(ApiError::NotReady("initial scan in progress".into()));
    }
    state
        .store
        .check_writable()
        .await
        .map_err(|e| ApiError::NotReady(format!("index not writable: {e}")))?;
    // Still 200 (the index serves what it last knew, per the API contract), but a scan that
    // a filesystem error aborted is said plainly.
    if watch.scan.degraded {
        return Ok(Json(json!({
            "status": "degraded",
            "reason": format!(
                "the last scan was aborted by a filesystem error; the index is kept as it was: {}",
                watch.scan.last_error.as_deref().unwrap_or("unknown")
            ),
        })));
    }
    Ok(Json(json!({ "status": "ready" })))
}

/// The Prometheus text exposition format, version 0.0.4.
pub async fn metrics(_: Params<NoParams>, State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::metrics::render(&state).await,
    )
}
