//! Retention endpoints: plan (nothing changes), apply and restore (admin).

use super::auth::{Admin, Read, Write};
use super::extract::{Body, JsonBytes, NoParams, Params};
use super::types::{PlanRef, RetentionOverrides, RetentionPlan, RetentionPlanRecord};
use super::{ApiResult, AppState};
use crate::retention::Overrides;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::collections::BTreeMap;
use utoipa::openapi::{RefOr, Response};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/retention/plan", post(create_plan))
        .route("/v1/retention/plans/{id}", get(show_plan))
        .route("/v1/retention/apply", post(apply_plan))
        .route("/v1/retention/restore", post(restore_plan))
}

/// The body is optional: no body (or `{}`) plans with the configured policy. A body is JSON
/// by the one rule for every POST (`JsonBytes`).
/// Plan deletions (nothing changes); the body overrides the configured policy.
#[utoipa::path(post, path = "/v1/retention/plan", operation_id = "plan_retention", tag = "retention", security(("bearer" = [])),
    request_body(content = Option<RetentionOverrides>, description = "optional policy overrides"),
    responses((status = 200, description = "plan", body = RetentionPlan),
        (status = 400, description = "`bad_request` naming the bad override"),
        (status = 401, description = "`unauthorized`"),
        (status = 403, description = "`forbidden`: the token lacks the write scope"),
        (status = 415, description = "`unsupported_media_type`")))]
pub(super) async fn create_plan(
    _: Write,
    _: Params<NoParams>,
    State(state): State<AppState>,
    JsonBytes(body): JsonBytes,
) -> ApiResult<Json<RetentionPlan>> {
    let overrides: Overrides = if body.iter().all(u8::is_ascii_whitespace) {
        Overrides::default()
    } else {
        super::extract::decode_object(&body, "retention policy overrides")?
    };
    let policy = overrides.apply(state.retention.policy)?;
    Ok(Json(state.retention.plan(policy).await?.into()))
}

/// A plan, its state and its moves.
#[utoipa::path(get, path = "/v1/retention/plans/{id}", operation_id = "get_retention_plan", tag = "retention",
    params(("id" = String, Path, example = "rp-eee01ccc96b0fff1")),
    responses((status = 200, description = "plan", body = RetentionPlanRecord),
        (status = 404, description = "`not_found`: no such plan"),
        (status = 500, description = "`record_corrupt`: the stored plan does not parse (`internal` for other failures)")))]
pub(super) async fn show_plan(
    _: Read,
    _: Params<NoParams>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<RetentionPlanRecord>> {
    Ok(Json(state.retention.show(&id).await?.into()))
}

/// Execute exactly one plan (admin): its directories move to `<state>/trash/<plan-id>/`.
#[utoipa::path(post, path = "/v1/retention/apply", operation_id = "apply_retention_plan", tag = "retention", security(("bearer" = [])),
    request_body = PlanRef,
    responses((status = 200, description = "applied", body = RetentionPlanRecord),
        (status = 409, description = "`plan_stale` (something it covers changed since planning), `plan_expired`, `plan_not_pending`, `restore_conflict`, `move_refused`"),
        PlanActionErrors))]
pub(super) async fn apply_plan(
    caller: Admin,
    _: Params<NoParams>,
    State(state): State<AppState>,
    Body(p): Body<PlanRef>,
) -> ApiResult<Json<RetentionPlanRecord>> {
    act_on_own_plan(&state, caller, &p, Action::Apply).await
}

/// Put a not-yet-purged plan's directories back (admin).
#[utoipa::path(post, path = "/v1/retention/restore", operation_id = "restore_retention_plan", tag = "retention", security(("bearer" = [])),
    request_body = PlanRef,
    responses((status = 200, description = "restored", body = RetentionPlanRecord),
        (status = 409, description = "`plan_not_restorable`, `restore_conflict`, `move_refused`"),
        PlanActionErrors))]
pub(super) async fn restore_plan(
    caller: Admin,
    _: Params<NoParams>,
    State(state): State<AppState>,
    Body(p): Body<PlanRef>,
) -> ApiResult<Json<RetentionPlanRecord>> {
    act_on_own_plan(&state, caller, &p, Action::Restore).await
}

/// What an admin does to one plan.
#[derive(Clone, Copy)]
enum Action {
    Apply,
    Restore,
}

/// Apply and restore alike act only on this workspace's plans (421 names the owner otherwise),
/// recorded under the calling token's name.
async fn act_on_own_plan(
    state: &AppState,
    caller: Admin,
    p: &PlanRef,
    action: Action,
) -> ApiResult<Json<RetentionPlanRecord>> {
    crate::fleet::owner::require_own_plan(state, &p.plan_id).await?;
    let (service, token) = (&state.retention, caller.token_name());
    let record = match action {
        Action::Apply => service.apply(&p.plan_id, token).await?,
        Action::Restore => service.restore(&p.plan_id, token).await?,
    };
    Ok(Json(record.into()))
}

/// The answers apply and restore share besides their own 200 and 409.
struct PlanActionErrors;

impl utoipa::IntoResponses for PlanActionErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        [
            ("400", "`bad_request`: the body is not a plan reference"),
            ("401", "`unauthorized`"),
            ("403", "`forbidden`: the token lacks the admin scope"),
            ("404", "`not_found`: no such plan"),
            ("415", "`unsupported_media_type`"),
            ("421", "`misdirected`: the plan is another workspace's; `workspace` and `public_url` name the daemon to ask"),
        ]
        .into_iter()
        .map(|(status, description)| (status.to_string(), Response::new(description).into()))
        .collect()
    }
}
