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
use serde::Serialize;

/// Promotion commits under reports/, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct ChangelogPage {
    items: Vec<log::Entry>,
    next_page_token: Option<String>,
    /// False when reports/ is not inside a git work tree (or git is missing).
    repository: bool,
    /// Why there is no change log.
    reason: Option<String>,
}

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/changelog", get(changelog))
}

/// Promotion commits under reports/, newest first, read back from git.
///
/// The commits that `[reports] git = "commit" | "push"` made (on this or another clone), as
/// `git log -- reports/` lists them, parsed from their Invarlock-* trailers. Outside a git work
/// tree the list is empty, `repository` is false and `reason` says why.
#[utoipa::path(get, path = "/v1/changelog", operation_id = "list_changelog", tag = "changelog", params(PageQuery),
    responses((status = 200, description = "page", body = ChangelogPage),
        (status = 400, description = "`bad_request` naming the bad parameter (a stale `page_token` too)"),
        (status = 401, description = "`unauthorized` when reads need a token")))]
pub(super) async fn changelog(
    _: Read,
    State(state): State<AppState>,
    Params(p): Params<PageQuery>,
) -> ApiResult<Json<ChangelogPage>> {
    let page = p.parse::<Cursor>()?;
    let (limit, cursor) = (page.limit, page.after);
    match log::read(&state.workspace.reports, cursor, limit).await {
        Ok(page) => Ok(Json(ChangelogPage {
            items: page.items,
            next_page_token: page.next.as_ref().map(crate::storage::encode_token),
            repository: true,
            reason: None,
        })),
        Err(LogError::StaleCursor) => Err(ApiError::bad_field(
            "page_token",
            LogError::StaleCursor.to_string(),
        )),
        // No repository (or no git) is an empty change log that says why, not a failure.
        Err(LogError::Git(
            e @ (GitError::NotARepository { .. }
            | GitError::Unavailable(_)
            | GitError::NotInWorkTree(_)),
        )) => Ok(Json(ChangelogPage {
            items: Vec::new(),
            next_page_token: None,
            repository: false,
            reason: Some(e.to_string()),
        })),
        Err(LogError::Git(e)) => Err(ApiError::Internal(format!("reading the change log: {e}"))),
    }
}
