//! `GET /v1/changelog`: the promotion commits under `reports/`, read back from git.

use super::auth::Read;
use super::extract::Params;
use super::pagination::PageQuery;
use super::{ApiError, ApiResult, AppState};
use crate::gitlog::log::{self, Cursor, LogError};
use crate::gitlog::GitError;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/changelog", get(changelog))
}

async fn changelog(
    _: Read,
    State(state): State<AppState>,
    Params(p): Params<PageQuery>,
) -> ApiResult<Json<Value>> {
    let page = p.parse::<Cursor>()?;
    let (limit, cursor) = (page.limit, page.after);
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
