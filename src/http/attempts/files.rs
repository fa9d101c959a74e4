//! An attempt's files as the workspace holds them: the raw report.json (ETag from its sha256)
//! and events.jsonl paged by line number, read below runs/ without following a link.

use super::super::pagination::Pagination;
use super::super::types::{EventLine, EventPage};
use super::super::{ApiError, AppState};
use crate::fsx::{Dir, FileKind, FsError};
use crate::report::read_events_page;
use crate::storage::attempts::AttemptRow;
use crate::storage::encode_token;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// The query of `…/events`: paging by line number.
#[derive(Deserialize, Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct EventsQuery {
    /// Start after this line number (overrides `page_token`).
    #[param(value_type = Option<u64>, minimum = 0)]
    after: Option<String>,
    /// Lines per page.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000, default = 100)]
    limit: Option<String>,
    page_token: Option<String>,
    /// The workspace holding the attempt (default: this daemon's, else the only one).
    #[param(example = "gpu-01-ws", pattern = "^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$")]
    pub(super) workspace: Option<String>,
}

fn etag(sha: &str) -> String {
    format!("\"sha256:{sha}\"")
}

fn matches_etag(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == tag || t == "*")
}

/// A workspace file that could not be served: absent (404), refused because of what it is
/// (symlink, FIFO, over its cap: 422 `file_refused`), or an I/O error (500, logged).
fn file_error(e: FsError, what: &str, id: &str) -> ApiError {
    if e.is_not_found() {
        ApiError::NotFound(format!("attempt {id} has no {what}"))
    } else if e.is_refusal() {
        ApiError::Unprocessable {
            code: "file_refused",
            detail: e.to_string(),
        }
    } else {
        ApiError::internal(e)
    }
}

/// The attempt directory, opened below runs/ by id (never following a symlink).
fn attempt_dir(state: &AppState, id: &str) -> Result<Dir, FsError> {
    Dir::open_root(&state.workspace.runs, "runs")?.open_dir(id)
}

/// The raw report.json bytes, with ETag "sha256:<hex>" (If-None-Match gives 304).
#[utoipa::path(get, path = "/v1/attempts/{nickname}/{ts}/report", operation_id = "get_attempt_report", tag = "index",
    params(("nickname" = String, Path, example = "rel_quant8"),
        ("ts" = String, Path, pattern = "^[0-9]{8}_[0-9]{6}$", example = "20261128_204341"),
        ("If-None-Match" = Option<String>, Header, description = "a `\"sha256:<hex>\"` ETag of this file (or `*`)"), crate::http::scope::ItemQuery),
    responses((status = 200, description = "raw bytes (may contain NaN)", content_type = "application/json", body = Vec<u8>,
            headers(("ETag" = String, description = "`\"sha256:<hex>\"` of the bytes"))),
        (status = 304, description = "not modified", headers(("ETag" = String))),
        (status = 400, description = "`bad_request`: an unknown parameter or a bad `workspace`"),
        (status = 404, description = "`not_found`: no such attempt, or it has no report.json"),
        (status = 409, description = "`ambiguous`: several other workspaces hold this id; `?workspace=` picks one"),
        (status = 421, description = "`misdirected`: the attempt is another workspace's, whose files only its daemon serves; `workspace` and `public_url` name it"),
        (status = 422, description = "`file_refused`: report.json is a symlink, FIFO, socket or device, or over limits.report_bytes; it is never followed or read")))]
pub(super) async fn raw_report(
    state: &AppState,
    a: &AttemptRow,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let (stored, stamp) = (a.report_sha256.clone(), (a.report_size, a.report_mtime_ns));
    let (st, id) = (state.clone(), a.id.clone());
    let read = tokio::task::spawn_blocking(move || -> Result<(Vec<u8>, String), FsError> {
        let f =
            attempt_dir(&st, &id)?.open_file("report.json", FileKind::Report, &st.config.limits)?;
        let (size, mtime) = (f.stat.size as i64, f.stat.mtime_ns);
        let bytes = f.read_all()?;
        let sha = match (&stored, stamp) {
            (Some(s), (Some(sz), Some(m)))
                if sz == size && m == mtime && bytes.len() as i64 == sz =>
            {
                s.clone()
            }
            _ => {
                use sha2::Digest;
                hex::encode(sha2::Sha256::digest(&bytes))
            }
        };
        Ok((bytes, sha))
    })
    .await
    .map_err(ApiError::internal)?;
    let (bytes, sha) = read.map_err(|e| file_error(e, "report.json", &a.id))?;
    let tag = etag(&sha);
    let tag_header = HeaderValue::from_str(&tag).map_err(ApiError::internal)?;
    if matches_etag(headers, &tag) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, tag_header)]).into_response());
    }
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::ETAG, tag_header),
        ],
        bytes,
    )
        .into_response())
}

/// events.jsonl parsed, paged by line number.
#[utoipa::path(get, path = "/v1/attempts/{nickname}/{ts}/events", operation_id = "list_attempt_events", tag = "index",
    params(("nickname" = String, Path, example = "rel_quant8"),
        ("ts" = String, Path, pattern = "^[0-9]{8}_[0-9]{6}$", example = "20261128_204341"), EventsQuery),
    responses((status = 200, description = "page", body = EventPage),
        (status = 400, description = "`bad_request` naming the bad parameter"),
        (status = 404, description = "`not_found`: no such attempt, or it has no events.jsonl"),
        (status = 409, description = "`ambiguous`: several other workspaces hold this id; `?workspace=` picks one"),
        (status = 421, description = "`misdirected`: the attempt is another workspace's, whose files only its daemon serves; `workspace` and `public_url` name it"),
        (status = 422, description = "`file_refused`: events.jsonl is a symlink, FIFO, socket or device, or over limits.events_bytes")))]
pub(super) async fn events(
    state: &AppState,
    a: &AttemptRow,
    q: &EventsQuery,
) -> Result<EventPage, ApiError> {
    let page: Pagination<u64> = Pagination::parse(q.limit.as_deref(), q.page_token.as_deref())?;
    let limit = page.limit;
    let after = match &q.after {
        None => page.after.unwrap_or(0),
        Some(s) => s.parse::<u64>().map_err(|_| {
            ApiError::bad_field("after", format!("after must be a line number, got {s:?}"))
        })?,
    };
    let (st, id) = (state.clone(), a.id.clone());
    let page = tokio::task::spawn_blocking(move || -> Result<_, FsError> {
        let mut f = attempt_dir(&st, &id)?.open_file(
            "events.jsonl",
            FileKind::Events,
            &st.config.limits,
        )?;
        read_events_page(&mut f, after, limit as usize).map_err(|e| f.error(e))
    })
    .await
    .map_err(ApiError::internal)?;
    let (items, more) = page.map_err(|e| file_error(e, "events.jsonl", &a.id))?;
    let last = items.last().map(|l| l.line);
    let next_after = if more { last } else { None };
    Ok(EventPage {
        items: items.into_iter().map(EventLine::from).collect(),
        next_after,
        next_page_token: next_after.map(|n| encode_token(&n)),
    })
}
