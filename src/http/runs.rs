//! `GET /v1/runs`, `GET /v1/runs/{nickname}` (nicknames may contain `/`) and
//! `GET /v1/unrecognized`.

use super::attempts::page_response;
use super::auth::Read;
use super::extract::Params;
use super::pagination::{parse_limit, Pagination};
use super::scope::{list_scope, ScopedLimitQuery, ScopedPageQuery};
use super::types::{Run, RunDetail, RunPage, UnrecognizedPage};
use super::{ApiError, AppState};
use crate::domain::Nickname;
use crate::storage::attempts::AttemptFilter;
use crate::storage::encode_token;
use crate::storage::workspace::ListKey;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/runs", get(list_runs))
        .route("/v1/runs/{*nickname}", get(get_run))
        .route("/v1/unrecognized", get(list_unrecognized))
}

/// One item per nickname: attempt count, latest attempt, latest pass, baseline mapping.
/// One query per page, whatever the number of nicknames.
#[utoipa::path(get, path = "/v1/runs", operation_id = "list_runs", tag = "index", params(ScopedPageQuery),
    description = "One item per (nickname, workspace): a nickname with attempts in two workspaces is listed twice, each with its `workspace`.",
    responses((status = 200, description = "page", body = RunPage),
        (status = 400, description = "`bad_request`: a bad `limit`, `page_token`, `workspace` or an unknown parameter")))]
#[tracing::instrument(skip_all)]
pub(super) async fn list_runs(
    _: Read,
    State(state): State<AppState>,
    Params(q): Params<ScopedPageQuery>,
) -> Result<Json<RunPage>, ApiError> {
    let page: Pagination<ListKey> = Pagination::parse(q.limit.as_deref(), q.page_token.as_deref())?;
    let scope = list_scope(&q.workspace)?;
    let (rows, next) = state
        .store
        .runs_page(scope.as_deref(), page.after.as_ref(), page.limit)
        .await?;
    Ok(Json(RunPage {
        items: rows.iter().map(Run::from).collect(),
        next_page_token: next.map(|n| encode_token(&n)),
    }))
}

/// One nickname (may contain '/') with its attempts, paged.
#[utoipa::path(get, path = "/v1/runs/{nickname}", operation_id = "get_run", tag = "index",
    params(("nickname" = String, Path, description = "the nickname (may contain '/')", example = "rel_quant8"), ScopedPageQuery),
    description = "`workspace` names whose run (default: this daemon's when it has attempts of the nickname, else the only workspace that has).",
    responses((status = 200, description = "run", body = RunDetail),
        (status = 400, description = "`bad_request`: a bad `limit`, `page_token`, `workspace` or an unknown parameter"),
        (status = 404, description = "`not_found`: no attempts for this nickname (in that workspace)"),
        (status = 409, description = "`ambiguous`: several other workspaces have attempts of this nickname; `?workspace=` picks one")))]
#[tracing::instrument(skip(state, q, _r))]
pub(super) async fn get_run(
    _r: Read,
    State(state): State<AppState>,
    Path(nickname): Path<String>,
    Params(q): Params<ScopedPageQuery>,
) -> Result<Response, ApiError> {
    let page: Pagination<crate::storage::attempts::AttemptKey> =
        Pagination::parse(q.limit.as_deref(), q.page_token.as_deref())?;
    let nick = Nickname::parse(nickname.trim_end_matches('/'))
        .map_err(|e| ApiError::NotFound(format!("no run {nickname:?}: {e}")))?;
    let ws = super::scope::run_workspace(&state, &q.workspace, nick.as_str()).await?;
    let row = state
        .store
        .run(&ws, nick.as_str())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no attempts for nickname {nick}")))?;
    let filter = AttemptFilter {
        workspace: Some(row.workspace.clone()),
        nickname: Some(nick.to_string()),
        ..Default::default()
    };
    let page = state
        .store
        .attempts_page_json(&filter, page.after.as_ref(), page.limit)
        .await?;
    // `RunDetail`: the run's members, then the page's (the object is left open for them).
    let mut head = serde_json::to_vec(&Run::from(&row)).map_err(ApiError::internal)?;
    if head.pop() != Some(b'}') {
        return Err(ApiError::internal("a run did not serialise to an object"));
    }
    head.push(b',');
    Ok(page_response(head, &page))
}

/// Entries under runs/ that are not attempts (listed, never touched). One page (the list is
/// short by nature): `limit` only.
#[utoipa::path(get, path = "/v1/unrecognized", operation_id = "list_unrecognized", tag = "index", params(ScopedLimitQuery),
    responses((status = 200, description = "list", body = UnrecognizedPage),
        (status = 400, description = "`bad_request`: a bad `limit`, `workspace` or an unknown parameter")))]
pub(super) async fn list_unrecognized(
    _: Read,
    State(state): State<AppState>,
    Params(q): Params<ScopedLimitQuery>,
) -> Result<Json<UnrecognizedPage>, ApiError> {
    let limit = parse_limit(q.limit.as_deref())?;
    let scope = list_scope(&q.workspace)?;
    let rows = state.store.unrecognized(scope.as_deref(), limit).await?;
    Ok(Json(UnrecognizedPage {
        items: rows.iter().map(Into::into).collect(),
        next_page_token: None,
    }))
}
