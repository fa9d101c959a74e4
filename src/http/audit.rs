//! The audit log and its chain check.

use super::auth::Read;
use super::extract::Params;
use super::pagination::Pagination;
use super::scope::{list_scope, ItemQuery, ScopedPageQuery};
use super::types::{AuditChainCheck, AuditEntry, AuditPage};
use super::{ApiResult, AppState};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/audit", get(list_audit))
        .route("/v1/audit/verify", get(check_audit))
}

/// The append-only, hash-chained log of every mutation, oldest first.
#[utoipa::path(get, path = "/v1/audit", operation_id = "list_audit", tag = "audit", params(ScopedPageQuery),
    description = "Every workspace's entries in the order they were appended (default), or one workspace's chain with `workspace=`. Each entry names its `workspace`; `seq` and the hashes chain within that workspace.",
    responses((status = 200, description = "page", body = AuditPage),
        (status = 400, description = "`bad_request` naming the bad parameter")))]
pub(super) async fn list_audit(
    _: Read,
    State(state): State<AppState>,
    Params(p): Params<ScopedPageQuery>,
) -> ApiResult<Json<AuditPage>> {
    let page: Pagination<i64> = Pagination::parse(p.limit.as_deref(), p.page_token.as_deref())?;
    let (limit, after) = (page.limit, page.after.unwrap_or(0));
    let scope = list_scope(&p.workspace)?;
    let rows = state
        .records
        .audit_page(scope.as_deref(), after, limit + 1)
        .await?;
    let (rows, next) =
        crate::storage::split_page(rows, limit, |r| crate::storage::encode_token(&r.position));
    let items = rows
        .iter()
        .map(|r| AuditEntry {
            workspace: r.workspace.clone(),
            position: r.position,
            seq: r.seq,
            at: r.at.clone(),
            action: r.action.clone(),
            subject: r.subject.clone(),
            actor: r.actor.clone(),
            // Recorded as JSON; a detail that is not is served as the string it is.
            detail: serde_json::from_str(&r.detail).unwrap_or(Value::String(r.detail.clone())),
            prev_hash: r.prev_hash.clone(),
            hash: r.hash.clone(),
        })
        .collect();
    Ok(Json(AuditPage {
        items,
        next_page_token: next,
    }))
}

/// Walk one workspace's hash chain; name the first broken entry.
#[utoipa::path(get, path = "/v1/audit/verify", operation_id = "verify_audit_chain", tag = "audit",
    params(("workspace" = Option<String>, Query, description = "whose chain (default: this daemon's); each workspace has its own", example = "gpu-01-ws", pattern = "^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$")),
    responses((status = 200, description = "chain check", body = AuditChainCheck),
        (status = 400, description = "`bad_request`: an unknown parameter or a bad `workspace`")))]
pub(super) async fn check_audit(
    _: Read,
    Params(q): Params<ItemQuery>,
    State(state): State<AppState>,
) -> ApiResult<Json<AuditChainCheck>> {
    let own = state.records.workspace().to_string();
    let ws = list_scope(&q.workspace)?.unwrap_or(own);
    let mut check: AuditChainCheck = state.records.check_chain(&ws).await?.into();
    check.workspace = Some(ws);
    Ok(Json(check))
}
