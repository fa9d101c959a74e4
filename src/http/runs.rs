//! `GET /v1/runs`, `GET /v1/runs/{nickname}` (nicknames may contain `/`) and
//! `GET /v1/unrecognized`.

use super::attempts::attempts_page;
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
) -> Result<Json<RunDetail>, ApiError> {
    let page = Pagination::parse(q.limit.as_deref(), q.page_token.as_deref())?;
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
    let page = attempts_page(&state, &filter, page).await?;
    Ok(Json(RunDetail {
        run: Run::from(&row),
        items: page.items,
        next_page_token: page.next_page_token,
    }))
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
