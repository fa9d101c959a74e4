//! The audit log and its chain check.

use super::auth::Read;
use super::extract::{NoParams, Params};
use super::pagination::PageQuery;
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
#[utoipa::path(get, path = "/v1/audit", operation_id = "list_audit", tag = "audit", params(PageQuery),
    responses((status = 200, description = "page", body = AuditPage),
        (status = 400, description = "`bad_request` naming the bad parameter")))]
pub(super) async fn list_audit(
    _: Read,
    State(state): State<AppState>,
    Params(p): Params<PageQuery>,
) -> ApiResult<Json<AuditPage>> {
    let page = p.parse::<i64>()?;
    let (limit, after) = (page.limit, page.after.unwrap_or(0));
    let own = Some(state.records.workspace().as_str());
    let rows = state.records.audit_page(own, after, limit + 1).await?;
    let (rows, next) =
        crate::storage::split_page(rows, limit, |r| crate::storage::encode_token(&r.position));
    let items = rows
        .iter()
        .map(|r| AuditEntry {
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

/// Walks the chain and names the first broken entry.
/// Walk the hash chain; name the first broken entry.
#[utoipa::path(get, path = "/v1/audit/verify", operation_id = "verify_audit_chain", tag = "audit",
    responses((status = 200, description = "chain check", body = AuditChainCheck)))]
pub(super) async fn check_audit(
    _: Read,
    _: Params<NoParams>,
    State(state): State<AppState>,
) -> ApiResult<Json<AuditChainCheck>> {
    let own = state.records.workspace().as_str();
    Ok(Json(state.records.check_chain(own).await?.into()))
}
