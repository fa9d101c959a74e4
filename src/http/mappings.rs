//! `GET /v1/mappings`: run → baseline mappings (certificate, promotion or pairing evidence).

use super::auth::Read;
use super::extract::Params;
use super::pagination::Pagination;
use super::scope::{list_scope, ScopedPageQuery};
use super::types::{Mapping, MappingPage};
use super::{ApiError, AppState};
use crate::storage::encode_token;
use crate::storage::workspace::ListKey;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/mappings", get(list_mappings))
}

/// Run → baseline mappings with how and confidence.
///
/// `how` is certificate (exact §5.4 digests, high), promotion (recorded by invarlockd, high) or
/// pairing_evidence: the baseline logloss quoted in events.jsonl (high with one fitting report,
/// medium with more) or, for paired reports without it, the same dataset, window-id and
/// tokenizer hashes (medium / low). `candidates` counts the fitting reports, capped at 2 ("two
/// or more").
#[utoipa::path(get, path = "/v1/mappings", operation_id = "list_mappings", tag = "index", params(ScopedPageQuery),
    responses((status = 200, description = "page", body = MappingPage),
        (status = 400, description = "`bad_request`: a bad `limit`, `page_token`, `workspace` or an unknown parameter")))]
#[tracing::instrument(skip_all)]
pub(super) async fn list_mappings(
    _: Read,
    State(state): State<AppState>,
    Params(q): Params<ScopedPageQuery>,
) -> Result<Json<MappingPage>, ApiError> {
    let page: Pagination<ListKey> = Pagination::parse(q.limit.as_deref(), q.page_token.as_deref())?;
    let scope = list_scope(&q.workspace)?;
    let (rows, next) = state
        .store
        .mappings_page(scope.as_deref(), page.after.as_ref(), page.limit)
        .await?;
    Ok(Json(MappingPage {
        items: rows.iter().map(Mapping::from).collect(),
        next_page_token: next.map(|k| encode_token(&k)),
    }))
}
