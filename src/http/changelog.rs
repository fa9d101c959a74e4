//! `GET /v1/changelog`: the promotion commits under `reports/`, read back from git.

use super::auth::Read;
use super::extract::Params;
use super::{ApiError, ApiResult, AppState};
use crate::gitlog::log::{self, Cursor, LogError};
use crate::gitlog::GitError;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/changelog", get(changelog))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    limit: Option<u32>,
    page_token: Option<String>,
}

async fn changelog(
    _: Read,
    State(state): State<AppState>,
    Params(p): Params<ListParams>,
) -> ApiResult<Json<Value>> {
    let limit = super::page_limit(p.limit)?;
    let cursor: Option<Cursor> = match &p.page_token {
        Some(t) => Some(
            crate::storage::decode_token(t)
                .ok_or_else(|| ApiError::bad_field("page_token", "not a token from this API"))?,
        ),
        None => None,
    };
    match log::read(&state.workspace.reports, cursor, limit).await {
        Ok(page) => Ok(Json(json!({
            "items": page.items,
            "next_page_token": page.next.as_ref().map(crate::storage::encode_token),
            "repository": true,
            "reason": null,
        }))),
        Err(LogError::StaleCursor) => Err(ApiError::bad_field(
            "page_token",
            LogError::StaleCursor.to_string(),
        )),
        // No repository (or no git) is an empty change log that says why, not a failure.
        Err(LogError::Git(
            e @ (GitError::NotARepository { .. }
            | GitError::Unavailable(_)
            | GitError::NotInWorkTree(_)),
        )) => Ok(Json(json!({
            "items": [],
            "next_page_token": null,
            "repository": false,
            "reason": e.to_string(),
        }))),
        Err(LogError::Git(e)) => Err(ApiError::Internal(format!("reading the change log: {e}"))),
    }
}
