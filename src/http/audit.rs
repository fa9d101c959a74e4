//! The audit log and its chain check.

use super::auth::Read;
use super::extract::{NoParams, Params};
use super::pagination::PageQuery;
use super::{ApiResult, AppState};
use crate::storage::records::ChainCheck;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/audit", get(list_audit))
        .route("/v1/audit/verify", get(check_audit))
}

async fn list_audit(
    _: Read,
    State(state): State<AppState>,
    Params(p): Params<PageQuery>,
) -> ApiResult<Json<Value>> {
    let page = p.parse::<i64>()?;
    let (limit, after) = (page.limit, page.after.unwrap_or(0));
    let rows = state.records.audit_page(after, limit + 1).await?;
    let (rows, next) =
        crate::storage::split_page(rows, limit, |r| crate::storage::encode_token(&r.seq));
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({ "seq": r.seq, "at": r.at, "action": r.action, "subject": r.subject, "actor": r.actor,
                    "detail": serde_json::from_str::<Value>(&r.detail).unwrap_or(Value::String(r.detail.clone())),
                    "prev_hash": r.prev_hash, "hash": r.hash })
        })
        .collect();
    Ok(Json(json!({ "items": items, "next_page_token": next })))
}

/// Walks the chain and names the first broken entry.
async fn check_audit(
    _: Read,
    _: Params<NoParams>,
    State(state): State<AppState>,
) -> ApiResult<Json<ChainCheck>> {
    Ok(Json(state.records.check_chain().await?))
}
