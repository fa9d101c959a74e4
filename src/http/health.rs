//! Liveness, readiness and Prometheus metrics.

use super::extract::{NoParams, Params};
use super::types::{Health, HealthState};
use super::{ApiError, AppState};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// Process is up.
#[utoipa::path(get, path = "/healthz", operation_id = "healthz", tag = "health", security(()),
    responses((status = 200, description = "up", body = Health, example = json!({"status": "ok"}))))]
pub(super) async fn healthz(_: Params<NoParams>) -> Json<Health> {
    Json(Health {
        status: HealthState::Ok,
        reason: None,
    })
}

/// Ready once the initial scan is done; `degraded` (still 200: reads are served from what is
/// known) while the database does not answer or the last scan was aborted by a filesystem error.
#[utoipa::path(get, path = "/readyz", operation_id = "readyz", tag = "health", security(()),
    description = "200 once the initial scan is done: `status` is `ready`, or `degraded` with a `reason` while the database is unreachable or not writable (reads are served from what is in memory and on disk, mutations fail until it is back, then a reconcile catches up) or while the last scan was aborted by a filesystem error such as EMFILE or EIO (the index is kept as it was until a scan succeeds). 503 `not_ready` during the initial scan.",
    responses((status = 200, description = "ready or degraded", body = Health, example = json!({"status": "ready"})),
        (status = 503, description = "`not_ready`: initial scan in progress (`unavailable` after request_timeout)")))]
pub(super) async fn readyz(
    _: Params<NoParams>,
    State(state): State<AppState>,
) -> Result<Json<Health>, ApiError> {
    let watch = state.watch.snapshot();
    if !watch.initial_scan.done {
        return Err(ApiError::NotReady("initial scan in progress".into()));
    }
    // A probe of its own (bounded), so readiness is current even between heartbeats; what it
    // finds is the heartbeat's news too (a loss is logged once, a return starts the catch-up).
    crate::fleet::heartbeat::record(&state, crate::fleet::heartbeat::probe(&state).await);
    let db = state.fleet.health.view();
    if !db.reachable {
        return Ok(Json(Health {
            status: HealthState::Degraded,
            reason: Some(format!(
                "the database is unreachable or not writable ({}); serving what is known, \
                 mutations fail until it is back",
                db.last_error.as_deref().unwrap_or("unknown")
            )),
        }));
    }
    // Still 200 (the index serves what it last knew, per the API contract), but a scan that
    // a filesystem error aborted is said plainly.
    if watch.scan.degraded {
        return Ok(Json(Health {
            status: HealthState::Degraded,
            reason: Some(format!(
                "the last scan was aborted by a filesystem error; the index is kept as it was: {}",
                watch.scan.last_error.as_deref().unwrap_or("unknown")
            )),
        }));
    }
    Ok(Json(Health {
        status: HealthState::Ready,
        reason: None,
    }))
}

/// The Prometheus text exposition format, version 0.0.4.
#[utoipa::path(get, path = "/metrics", operation_id = "metrics", tag = "health", security(()),
    description = "Prometheus text exposition format 0.0.4 (`promtool check metrics` clean): every metric with HELP and TYPE, latencies as histograms, process_* and invarlockd_build_info. Names and labels are listed in src/metrics/catalogue.rs.",
    responses((status = 200, description = "text exposition format", content_type = "text/plain", body = String)))]
pub async fn metrics(_: Params<NoParams>, State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::metrics::render(&state).await,
    )
}
