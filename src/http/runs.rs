//! `GET /v1/runs`, `GET /v1/runs/{nickname}` (nicknames may contain `/`) and
//! `GET /v1/unrecognized`.

use super::attempts::attempts_page;
use super::auth::Read;
use super::extract::Params;
use super::pagination::{parse_limit, LimitQuery, PageQuery};
use super::types::{Run, RunDetail, RunPage, UnrecognizedPage};
use super::{ApiError, AppState};
use crate::domain::Nickname;
use crate::storage::attempts::AttemptFilter;
use crate::storage::encode_token;

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
#[utoipa::path(get, path = "/v1/runs", operation_id = "list_runs", tag = "index", params(PageQuery),
    responses((status = 200, description = "page", body = RunPage),
        (status = 400, description = "`bad_request`: a bad `limit`, `page_token` or an unknown parameter")))]
#[tracing::instrument(skip_all)]
pub(super) async fn list_runs(
    _: Read,
    State(state): State<AppState>,
    Params(q): Params<PageQuery>,
) -> Result<Json<RunPage>, ApiError> {
    let page = q.parse::<String>()?;
    let own = state.store.workspace().as_str();
    let after = page.after.map(|key| crate::storage::workspace::ListKey {
        key,
        workspace: own.to_string(),
    });
    let (rows, next) = state
        .store
        .runs_page(Some(own), after.as_ref(), page.limit)
        .await?;
    Ok(Json(RunPage {
        items: rows.iter().map(Run::from).collect(),
        next_page_token: next.map(|n| encode_token(&n.key)),
    }))
}

/// One nickname (may contain '/') with its attempts, paged.
#[utoipa::path(get, path = "/v1/runs/{nickname}", operation_id = "get_run", tag = "index",
    params(("nickname" = String, Path, description = "the nickname (may contain '/')", example = "rel_quant8"), PageQuery),
    responses((status = 200, description = "run", body = RunDetail),
        (status = 400, description = "`bad_request`: a bad `limit`, `page_token` or an unknown parameter"),
        (status = 404, description = "`not_found`: no attempts for this nickname")))]
#[tracing::instrument(skip(state, q, _r))]
pub(super) async fn get_run(
    _r: Read,
    State(state): State<AppState>,
    Path(nickname): Path<String>,
    Params(q): Params<PageQuery>,
) -> Result<Json<RunDetail>, ApiError> {
    let page = q.parse()?;
    let nick = Nickname::parse(nickname.trim_end_matches('/'))
        .map_err(|e| ApiError::NotFound(format!("no run {nickname:?}: {e}")))?;
    let row = state
        .store
        .run(state.store.workspace().as_str(), nick.as_str())
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
#[utoipa::path(get, path = "/v1/unrecognized", operation_id = "list_unrecognized", tag = "index", params(LimitQuery),
    responses((status = 200, description = "list", body = UnrecognizedPage),
        (status = 400, description = "`bad_request`: a bad `limit` or an unknown parameter")))]
pub(super) async fn list_unrecognized(
    _: Read,
    State(state): State<AppState>,
    Params(q): Params<LimitQuery>,
) -> Result<Json<UnrecognizedPage>, ApiError> {
    let limit = parse_limit(q.limit.as_deref())?;
    let rows = state
        .store
        .unrecognized(Some(state.store.workspace().as_str()), limit)
        .await?;
    Ok(Json(UnrecognizedPage {
        items: rows.iter().map(Into::into).collect(),
        next_page_token: None,
    }))
}
