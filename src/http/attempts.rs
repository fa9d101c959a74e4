//! `GET /v1/attempts`, `/v1/attempts/{nickname}/{ts}`, `…/report` (ETag) and `…/events`: the
//! listing here, one attempt's path and detail in `item`, its raw files in `files`.

use super::auth::Read;
use super::extract::Params;
use super::pagination::Pagination;
use super::types::AttemptPage;
#[cfg(doc)]
use super::types::AttemptSummary;
use super::{ApiError, AppState};
use crate::domain::{AttemptTs, Nickname};
use crate::report::AttemptStatus;
use crate::storage::attempts::{AttemptFilter, AttemptKey, AttemptPageJson};
use crate::storage::encode_token;
use crate::timezone::TimeZone;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use serde::Deserialize;

mod files;
mod item;

pub(super) use files::{__path_events, __path_raw_report};
pub(super) use item::__path_detail;
use item::get_attempt_resource;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/attempts", get(list_attempts))
        .route("/v1/attempts/{*rest}", get(get_attempt_resource))
}

/// The query of `GET /v1/attempts`: filters and paging.
#[derive(Deserialize, Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AttemptsQuery {
    #[param(example = "rel_quant8")]
    nickname: Option<String>,
    #[param(value_type = Option<super::types::AttemptStatus>)]
    status: Option<String>,
    model_id: Option<String>,
    /// The edit's name.
    edit: Option<String>,
    /// Hex digest.
    #[param(pattern = "^[0-9a-fA-F]+$")]
    dataset_hash: Option<String>,
    tokenizer_hash: Option<String>,
    /// Hex digest.
    #[param(pattern = "^[0-9a-fA-F]+$")]
    ids_sha256: Option<String>,
    /// RFC 3339 or YYYYMMDD_HHMMSS (inclusive).
    #[param(example = "2026-11-28T20:41:41Z")]
    since: Option<String>,
    /// RFC 3339 or YYYYMMDD_HHMMSS (inclusive).
    #[param(example = "20261128_230000")]
    until: Option<String>,
    /// Items per page.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000, default = 100)]
    limit: Option<String>,
    /// The `next_page_token` of the previous page (opaque).
    page_token: Option<String>,
    /// Only this workspace's attempts (default: every workspace of the database).
    #[param(example = "gpu-01-ws", pattern = "^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$")]
    workspace: Option<String>,
}

fn hex_field(value: &Option<String>, field: &str) -> Result<Option<String>, ApiError> {
    match value {
        None => Ok(None),
        Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Some(v.to_ascii_lowercase()))
        }
        Some(v) => Err(ApiError::bad_field(
            field,
            format!("{field} must be a hex digest, got {v:?}"),
        )),
    }
}

fn utc_to_local_ts(tz: TimeZone, t: DateTime<Utc>) -> String {
    let naive = match tz {
        TimeZone::Local => t.with_timezone(&chrono::Local).naive_local(),
        TimeZone::Fixed(off) => t.with_timezone(&off).naive_local(),
    };
    naive.format(AttemptTs::FORMAT).to_string()
}

/// `since`/`until`: RFC 3339 (converted to the directory-name clock) or `YYYYMMDD_HHMMSS`.
fn time_field(
    value: &Option<String>,
    field: &str,
    tz: TimeZone,
) -> Result<Option<String>, ApiError> {
    let Some(v) = value else {
        return Ok(None);
    };
    if let Ok(ts) = AttemptTs::parse(v) {
        return Ok(Some(ts.to_string()));
    }
    match DateTime::parse_from_rfc3339(v) {
        Ok(t) => Ok(Some(utc_to_local_ts(tz, t.with_timezone(&Utc)))),
        Err(_) => Err(ApiError::bad_field(
            field,
            format!(
                "{field} must be RFC 3339 (2026-11-28T20:41:41Z) or YYYYMMDD_HHMMSS, got {v:?}"
            ),
        )),
    }
}

pub(crate) fn parse_filter(q: &AttemptsQuery, tz: TimeZone) -> Result<AttemptFilter, ApiError> {
    let nickname = match &q.nickname {
        None => None,
        Some(n) => Some(Nickname::parse(n).map_err(ApiError::from)?.to_string()),
    };
    let status = match &q.status {
        None => None,
        Some(s) => Some(
            AttemptStatus::parse(s)
                .ok_or_else(|| {
                    ApiError::bad_field(
                        "status",
                        format!(
                            "status must be one of pass, fail, error, invalid, running; got {s:?}"
                        ),
                    )
                })?
                .as_str()
                .to_string(),
        ),
    };
    let f = AttemptFilter {
        workspace: super::scope::list_scope(&q.workspace)?,
        nickname,
        status,
        model_id: q.model_id.clone(),
        edit: q.edit.clone(),
        dataset_hash: hex_field(&q.dataset_hash, "dataset_hash")?,
        tokenizer_hash: q.tokenizer_hash.clone(),
        ids_sha256: hex_field(&q.ids_sha256, "ids_sha256")?,
        since_ts: time_field(&q.since, "since", tz)?,
        until_ts: time_field(&q.until, "until", tz)?,
    };
    if let (Some(s), Some(u)) = (&f.since_ts, &f.until_ts) {
        if s > u {
            return Err(ApiError::bad_field("until", "until is before since"));
        }
    }
    Ok(f)
}

/// The answer of a page of attempts: `head` (an object opened, with any members before the
/// page's, e.g. `{` or a run's members and a comma), then `items` spliced as storage wrote them
/// and `next_page_token`. The schema is [`AttemptPage`] (or `RunDetail`); a test checks that
/// the objects are what serialising [`AttemptSummary`] gives.
pub(crate) fn page_response(mut head: Vec<u8>, page: &AttemptPageJson) -> Response {
    head.reserve(page.items.len() + 64);
    head.extend_from_slice(br#""items":["#);
    head.extend_from_slice(page.items.as_bytes());
    head.extend_from_slice(br#"],"next_page_token":"#);
    match &page.next {
        // base64url: nothing to escape.
        Some(k) => {
            head.push(b'"');
            head.extend_from_slice(encode_token(k).as_bytes());
            head.push(b'"');
        }
        None => head.extend_from_slice(b"null"),
    }
    head.push(b'}');
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        head,
    )
        .into_response()
}

/// Attempts, filtered and paged (newest first).
#[utoipa::path(get, path = "/v1/attempts", operation_id = "list_attempts", tag = "index", params(AttemptsQuery),
    responses((status = 200, description = "page", body = AttemptPage),
        (status = 400, description = "`bad_request` naming the bad filter or parameter; `invalid_name` for a nickname that cannot be one")))]
#[tracing::instrument(skip_all)]
pub(super) async fn list_attempts(
    _: Read,
    State(state): State<AppState>,
    Params(q): Params<AttemptsQuery>,
) -> Result<Response, ApiError> {
    let filter = parse_filter(&q, state.indexer.timezone())?;
    let page = Pagination::<AttemptKey>::parse(q.limit.as_deref(), q.page_token.as_deref())?;
    let page = state
        .store
        .attempts_page_json(&filter, page.after.as_ref(), page.limit)
        .await?;
    Ok(page_response(b"{".to_vec(), &page))
}

#[cfg(test)]
mod tests;
