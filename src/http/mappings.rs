//! `GET /v1/mappings`: run → baseline mappings (certificate, promotion or pairing evidence).

use super::attempts::{mapping_json, parse_limit, parse_token, Page};
use super::auth::Read;
use super::{ApiError, AppState};
use crate::storage::{encode_token, mappings};
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/mappings", get(list_mappings))
}

#[tracing::instrument(skip_all)]
async fn list_mappings(
    _: Read,
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Page<Value>>, ApiError> {
    let limit = parse_limit(&q)?;
    let after: Option<String> = parse_token(&q)?;
    let (rows, next) = mappings::list(state.store.reader(), after.as_deref(), limit).await?;
    Ok(Json(Page {
        items: rows.iter().map(mapping_json).collect(),
        next_page_token: next.map(|s| encode_token(&s)),
    }))
}
