//! Retention endpoints: plan (nothing changes), apply and restore (admin).

use super::auth::{Admin, Read, Write};
use super::extract::{Body, JsonBytes, NoParams, Params};
use super::{ApiResult, AppState};
use crate::retention::{Overrides, PlanView};
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/retention/plan", post(create_plan))
        .route("/v1/retention/plans/{id}", get(show_plan))
        .route("/v1/retention/apply", post(apply_plan))
        .route("/v1/retention/restore", post(restore_plan))
}

/// The body is optional: no body (or `{}`) plans with the configured policy. A body is JSON
/// by the one rule for every POST (`JsonBytes`).
async fn create_plan(
    _: Write,
    _: Params<NoParams>,
    State(state): State<AppState>,
    JsonBytes(body): JsonBytes,
) -> ApiResult<Json<PlanView>> {
    let overrides: Overrides = if body.iter().all(u8::is_ascii_whitespace) {
        Overrides::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| super::ApiError::BadRequest {
            field: None,
            detail: format!("retention policy overrides: {e}"),
        })?
    };
    let policy = overrides.apply(state.retention.policy)?;
    Ok(Json(state.retention.plan(policy).await?))
}

async fn show_plan(
    _: Read,
    _: Params<NoParams>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(state.retention.show(&id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanRef {
    plan_id: String,
}

async fn apply_plan(
    caller: Admin,
    _: Params<NoParams>,
    State(state): State<AppState>,
    Body(p): Body<PlanRef>,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        state
            .retention
            .apply(&p.plan_id, caller.token_name())
            .await?,
    ))
}

async fn restore_plan(
    caller: Admin,
    _: Params<NoParams>,
    State(state): State<AppState>,
    Body(p): Body<PlanRef>,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        state
            .retention
            .restore(&p.plan_id, caller.token_name())
            .await?,
    ))
}
