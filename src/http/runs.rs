//! `GET /v1/runs`, `GET /v1/runs/{nickname}` (nicknames may contain `/`) and
//! `GET /v1/unrecognized`.

use super::attempts::{attempts_page, mapping_json, Page};
use super::auth::Read;
use super::extract::Params;
use super::pagination::{parse_limit, PageQuery};
use super::{ApiError, AppState};
use crate::domain::Nickname;
use crate::storage::attempts::AttemptFilter;
use crate::storage::encode_token;
use crate::storage::runs::RunRow;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/runs", get(list_runs))
        .route("/v1/runs/{*nickname}", get(get_run))
        .route("/v1/unrecognized", get(list_unrecognized))
}

async fn run_json(state: &AppState, r: &RunRow) -> Result<Value, ApiError> {
    let mapping = state.store.latest_mapping(&r.nickname).await?;
    Ok(json!({
        "nickname": r.nickname,
        "attempts": r.attempts,
        "latest": { "id": r.latest_id, "status": r.latest_status },
        "latest_pass": r.latest_pass,
        "baseline": mapping.as_ref().map(mapping_json),
    }))
}

#[tracing::instrument(skip_all)]
async fn list_runs(
    _: Read,
    State(state): State<AppState>,
    Params(q): Params<PageQuery>,
) -> Result<Json<Page<Value>>, ApiError> {
    let page = q.parse::<String>()?;
    let (rows, next) = state
        .store
        .runs_page(page.after.as_deref(), page.limit)
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        items.push(run_json(&state, r).await?);
    }
    Ok(Json(Page {
        items,
        next_page_token: next.map(|n| encode_token(&n)),
    }))
}

#[tracing::instrument(skip(state, q, _r))]
async fn get_run(
    _r: Read,
    State(state): State<AppState>,
    Path(nickname): Path<String>,
    Params(q): Params<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let page = q.parse()?;
    let nick = Nickname::parse(nickname.trim_end_matches('/'))
        .map_err(|e| ApiError::NotFound(format!("no run {nickname:?}: {e}")))?;
    let row = state
        .store
        .run(nick.as_str())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no attempts for nickname {nick}")))?;
    let mut out = run_json(&state, &row).await?;
    let filter = AttemptFilter {
        nickname: Some(nick.to_string()),
        ..Default::default()
    };
    let page = attempts_page(&state, &filter, page).await?;
    out["items"] = json!(page.items);
    out["next_page_token"] = json!(page.next_page_token);
    Ok(Json(out))
}

/// `/v1/unrecognized` is one page (the list is short by nature): `limit` only.
#[derive(Deserialize)]
struct LimitQuery {
    limit: Option<String>,
}

async fn list_unrecognized(
    _: Read,
    State(state): State<AppState>,
    Params(q): Params<LimitQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = parse_limit(q.limit.as_deref())?;
    let rows = state.store.unrecognized(limit).await?;
    Ok(Json(json!({ "items": rows, "next_page_token": null })))
}
