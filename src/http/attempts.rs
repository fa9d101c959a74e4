//! `GET /v1/attempts`, `/v1/attempts/{nickname}/{ts}`, `…/report` (ETag) and `…/events`.

use super::auth::Read;
use super::extract::{parse_query, Params};
use super::pagination::Pagination;
#[cfg(doc)]
use super::types::AttemptSummary;
use super::types::{
    AttemptDetail, AttemptFile, AttemptHistory, AttemptPage, EventLine, EventPage, Mapping,
    ReportFacts, ReportState, RunnerState, SubjectDigests,
};
use super::{ApiError, AppState};
use crate::domain::{AttemptId, AttemptTs, Nickname};
use crate::fsx::{Dir, FileKind, FsError};
use crate::report::{read_events_page, AttemptStatus};
use crate::storage::attempts::{AttemptFilter, AttemptKey, AttemptPageJson, AttemptRow};
use crate::storage::encode_token;
use crate::timezone::TimeZone;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;

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

/// The query of `…/events`: paging by line number.
#[derive(Deserialize, Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct EventsQuery {
    /// Start after this line number (overrides `page_token`).
    #[param(value_type = Option<u64>, minimum = 0)]
    after: Option<String>,
    /// Lines per page.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000, default = 100)]
    limit: Option<String>,
    page_token: Option<String>,
    /// The workspace holding the attempt (default: this daemon's, else the only one).
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

enum Resource {
    Detail,
    Report,
    Events,
}

fn parse_rest(rest: &str) -> Result<(AttemptId, Resource), ApiError> {
    let rest = rest.trim_end_matches('/');
    let not_found = || {
        ApiError::NotFound(format!(
            "no attempt {rest:?}; ids are <nickname>/<YYYYMMDD_HHMMSS>"
        ))
    };
    if let Ok(id) = AttemptId::parse(rest) {
        return Ok((id, Resource::Detail));
    }
    for (suffix, r) in [("/report", Resource::Report), ("/events", Resource::Events)] {
        if let Some(base) = rest.strip_suffix(suffix) {
            if let Ok(id) = AttemptId::parse(base) {
                return Ok((id, r));
            }
        }
    }
    Err(not_found())
}

/// The attempt `id` of the workspace it resolves to (own first, then the only holder).
async fn load(
    state: &AppState,
    workspace: &Option<String>,
    id: &AttemptId,
) -> Result<AttemptRow, ApiError> {
    let id = id.to_string();
    let ws = super::scope::attempt_workspace(state, workspace, &id).await?;
    state
        .store
        .attempt(&ws, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("attempt {id} is not indexed in {ws}")))
}

#[tracing::instrument(skip(state, headers, query, _r))]
async fn get_attempt_resource(
    _r: Read,
    State(state): State<AppState>,
    Path(rest): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (id, what) = parse_rest(&rest)?;
    // Which parameters apply depends on the resource the path names.
    let (events_query, workspace) = match what {
        Resource::Events => {
            let q = parse_query::<EventsQuery>(query.as_deref())?;
            let ws = q.workspace.clone();
            (Some(q), ws)
        }
        _ => (
            None,
            parse_query::<super::scope::ItemQuery>(query.as_deref())?.workspace,
        ),
    };
    let a = load(&state, &workspace, &id).await?;
    // The raw files are on the owner's host: another workspace's are served by its daemon.
    if !matches!(what, Resource::Detail) {
        super::scope::require_own(&state, &a.workspace, &format!("attempt {}", a.id)).await?;
    }
    match (what, events_query) {
        (Resource::Events, Some(q)) => Ok(Json(events(&state, &a, &q).await?).into_response()),
        (Resource::Report, _) => raw_report(&state, &a, &headers).await,
        _ => Ok(Json(detail(&state, &a).await?).into_response()),
    }
}

/// Everything indexed for one attempt.
#[utoipa::path(get, path = "/v1/attempts/{nickname}/{ts}", operation_id = "get_attempt", tag = "index",
    params(("nickname" = String, Path, example = "rel_quant8"),
        ("ts" = String, Path, pattern = "^[0-9]{8}_[0-9]{6}$", example = "20261128_204341"), super::scope::ItemQuery),
    responses((status = 200, description = "attempt", body = AttemptDetail),
        (status = 400, description = "`bad_request`: an unknown parameter or a bad `workspace`"),
        (status = 404, description = "`not_found`: no such attempt indexed (in that workspace)"),
        (status = 409, description = "`ambiguous`: several other workspaces hold this id; `candidates` lists them, `?workspace=` picks one")))]
async fn detail(state: &AppState, a: &AttemptRow) -> Result<AttemptDetail, ApiError> {
    let ws = a.workspace.as_str();
    let files = state.store.attempt_files(ws, &a.id).await?;
    let mapping = state.store.mapping(ws, &a.id).await?;
    let history = state.store.attempt_history(ws, &a.id).await?;
    let archived = match &a.report_sha256 {
        Some(sha) => state.store.archived_copies(sha).await?,
        None => Vec::new(),
    };
    let facts: ReportFacts = a
        .detail
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or_default();
    Ok(AttemptDetail {
        facts,
        workspace: a.workspace.clone(),
        id: a.id.clone(),
        nickname: a.nickname.clone(),
        ts: a.ts.clone(),
        started_at: a.started_at.clone(),
        path: a.dir.clone(),
        status: super::types::AttemptStatus::from_stored(&a.status),
        reason: a.reason.clone(),
        run_id: a.run_id.clone(),
        report_hash: a.report_hash.clone(),
        subject_digests: SubjectDigests {
            run_id: a.subject_run_id.clone(),
            report_hash: a.subject_report_hash.clone(),
        },
        report: ReportState {
            present: a.report_size.is_some(),
            valid: a.report_valid,
            error: a.report_error.clone(),
            size: a.report_size,
            sha256: a.report_sha256.clone(),
        },
        runner: RunnerState {
            status: a.runner_status.clone(),
            error: a.runner_error.clone(),
            sessions: a.sessions,
            session_open: a.session_open,
        },
        events: a
            .events_summary
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok()),
        files: files.iter().map(AttemptFile::from).collect(),
        baseline: mapping.as_ref().map(Mapping::from),
        archived_copies: archived,
        promotions: Vec::new(),
        history: history.iter().map(AttemptHistory::from).collect(),
    })
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
        ("If-None-Match" = Option<String>, Header, description = "a `\"sha256:<hex>\"` ETag of this file (or `*`)"), super::scope::ItemQuery),
    responses((status = 200, description = "raw bytes (may contain NaN)", content_type = "application/json", body = Vec<u8>,
            headers(("ETag" = String, description = "`\"sha256:<hex>\"` of the bytes"))),
        (status = 304, description = "not modified", headers(("ETag" = String))),
        (status = 400, description = "`bad_request`: an unknown parameter or a bad `workspace`"),
        (status = 404, description = "`not_found`: no such attempt, or it has no report.json"),
        (status = 409, description = "`ambiguous`: several other workspaces hold this id; `?workspace=` picks one"),
        (status = 421, description = "`misdirected`: the attempt is another workspace's, whose files only its daemon serves; `workspace` and `public_url` name it"),
        (status = 422, description = "`file_refused`: report.json is a symlink, FIFO, socket or device, or over limits.report_bytes; it is never followed or read")))]
async fn raw_report(
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
async fn events(state: &AppState, a: &AttemptRow, q: &EventsQuery) -> Result<EventPage, ApiError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> AttemptsQuery {
        let text = serde_urlencoded::to_string(pairs).unwrap();
        parse_query(Some(&text)).unwrap()
    }

    /// The summary columns of a stored row (what the typed listing read before issue 16).
    fn summary(a: &AttemptRow) -> crate::storage::attempts::AttemptSummaryRow {
        crate::storage::attempts::AttemptSummaryRow {
            workspace: "test".into(),
            id: a.id.clone(),
            nickname: a.nickname.clone(),
            ts: a.ts.clone(),
            started_at: a.started_at.clone(),
            status: a.status.clone(),
            reason: a.reason.clone(),
            model_id: a.model_id.clone(),
            edit_name: a.edit_name.clone(),
            profile: a.profile.clone(),
            dataset_hash: a.dataset_hash.clone(),
            tokenizer_hash: a.tokenizer_hash.clone(),
            ids_sha256: a.ids_sha256.clone(),
            pm_kind: a.pm_kind.clone(),
            run_id: a.run_id.clone(),
            report_hash: a.report_hash.clone(),
            report_sha256: a.report_sha256.clone(),
        }
    }

    #[tokio::test]
    async fn a_spliced_page_is_byte_for_byte_what_serialising_the_typed_page_gives() {
        use super::super::types::{AttemptPage, AttemptSummary};
        let dir = tempfile::tempdir().unwrap();
        let store = crate::storage::Storage::open_test(&dir.path().join("index.db")).await;
        let odd = "quote \" backslash \\ slash / newline \n tab \t nul-ish \u{1} del \u{7f} é ✓ 𝄞";
        let rows: Vec<AttemptRow> = ["pass", "fail", "error", "invalid", "running", "pass"]
            .iter()
            .enumerate()
            .map(|(i, status)| {
                let nickname = format!("team/{}", ["a", "b\"c"][i % 2]);
                let ts = format!("2026112{i}_0{i}0000");
                let some = |v: &str| (i % 3 != 0).then(|| format!("{v}{i}"));
                AttemptRow {
                    id: format!("{nickname}/{ts}"),
                    dir: format!("runs/{nickname}/{ts}"),
                    nickname,
                    ts,
                    started_at: some("2026-11-20T00:00:0"),
                    status: status.to_string(),
                    reason: (i > 0).then(|| format!("{odd} {i}")),
                    model_id: some(odd),
                    edit_name: some("quant_rtn"),
                    profile: some("release"),
                    dataset_hash: some("a065509f"),
                    tokenizer_hash: some("8ad3e32b"),
                    ids_sha256: some("19ab55d8"),
                    pm_kind: some("ppl_causal"),
                    run_id: some("8025f8a2"),
                    report_hash: some("7242a85e"),
                    report_sha256: some("97821277"),
                    detail: Some("{\"not\": \"listed\"}".into()),
                    listing_digest: "x".into(),
                    ..Default::default()
                }
            })
            .collect();
        crate::storage::testing::write_indexed(&store, &rows).await;
        let newest_first: Vec<&AttemptRow> = rows.iter().rev().collect();
        let mut after = None;
        for chunk in newest_first.chunks(4) {
            let page = store
                .attempts_page_json(&AttemptFilter::default(), after.as_ref(), 4)
                .await
                .unwrap();
            let resp = page_response(b"{".to_vec(), &page);
            let spliced = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap();
            let typed = AttemptPage {
                items: chunk
                    .iter()
                    .map(|r| AttemptSummary::from(&summary(r)))
                    .collect(),
                next_page_token: page.next.as_ref().map(encode_token),
            };
            assert_eq!(
                std::str::from_utf8(&spliced).unwrap(),
                serde_json::to_string(&typed).unwrap()
            );
            assert_eq!(page.len, chunk.len());
            after = page.next;
        }
        assert!(after.is_none(), "the last page says there is no more");
    }

    #[test]
    fn bad_filters_name_their_field() {
        let tz = TimeZone::parse("UTC").unwrap();
        for (k, v) in [
            ("status", "passed"),
            ("since", "yesterday"),
            ("until", "2026-13-01"),
            ("dataset_hash", "xyz"),
            ("nickname", "/abs"),
        ] {
            match parse_filter(&q(&[(k, v)]), tz) {
                Err(ApiError::BadRequest { field, .. }) => assert_eq!(field.as_deref(), Some(k)),
                Err(ApiError::InvalidName { field, .. }) => assert_eq!(field, k),
                other => panic!("{k}={v}: {other:?}"),
            }
        }
    }

    #[test]
    fn since_accepts_rfc3339_and_directory_timestamps() {
        let tz = TimeZone::parse("+02:00").unwrap();
        let f = parse_filter(
            &q(&[
                ("since", "2026-11-28T18:41:41Z"),
                ("until", "20261128_230000"),
            ]),
            tz,
        )
        .unwrap();
        assert_eq!(f.since_ts.as_deref(), Some("20261128_204141"));
        assert_eq!(f.until_ts.as_deref(), Some("20261128_230000"));
    }

    #[test]
    fn nested_nicknames_and_resource_suffixes_are_split_at_the_timestamp() {
        let (id, r) = parse_rest("team/quant8/20261128_204141/report").unwrap();
        assert_eq!(id.nickname.as_str(), "team/quant8");
        assert!(matches!(r, Resource::Report));
        assert!(matches!(
            parse_rest("a/20261128_204141").unwrap().1,
            Resource::Detail
        ));
        assert!(parse_rest("a/b").is_err());
    }
}
