//! `GET /v1/mappings`: run → baseline mappings (certificate, promotion or pairing evidence).

use super::attempts::{mapping_json, Page};
use super::auth::Read;
use super::extract::Params;
use super::pagination::PageQuery;
use super::{ApiError, AppState};
use crate::storage::encode_token;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/mappings", get(list_mappings))
}

#[tracing::instrument(skip_all)]
async fn list_mappings(
    _: Read,
    State(state): State<AppState>,
    Params(q): Params<PageQuery>,
) -> Result<Json<Page<Value>>, ApiError> {
    let page = q.parse::<String>()?;
    let (rows, next) = state
        .store
        .mappings_page(page.after.as_deref(), page.limit)
        .await?;
    Ok(Json(Page {
        items: rows.iter().map(mapping_json).collect(),
        next_page_token: next.map(|s| encode_token(&s)),
    }))
}
