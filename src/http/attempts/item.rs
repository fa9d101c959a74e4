//! One attempt's resources under `/v1/attempts/{nickname}/{ts}`: the path parsed into the id and
//! what is asked for, the attempt resolved to its workspace, and its detail.

use super::super::auth::Read;
use super::super::extract::parse_query;
use super::super::types::{
    AttemptDetail, AttemptFile, AttemptHistory, Mapping, ReportFacts, ReportState, RunnerState,
    SubjectDigests,
};
use super::super::{ApiError, AppState};
use super::files::{events, raw_report, EventsQuery};
use crate::domain::AttemptId;
use crate::storage::attempts::AttemptRow;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;

pub(super) enum Resource {
    Detail,
    Report,
    Events,
}

pub(super) fn parse_rest(rest: &str) -> Result<(AttemptId, Resource), ApiError> {
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
    let ws = crate::http::scope::attempt_workspace(state, workspace, &id).await?;
    state
        .store
        .attempt(&ws, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("attempt {id} is not indexed in {ws}")))
}

#[tracing::instrument(skip(state, headers, query, _r))]
pub(super) async fn get_attempt_resource(
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
            parse_query::<crate::http::scope::ItemQuery>(query.as_deref())?.workspace,
        ),
    };
    let a = load(&state, &workspace, &id).await?;
    // The raw files are on the owner's host: another workspace's are served by its daemon.
    if !matches!(what, Resource::Detail) {
        crate::http::scope::require_own(&state, &a.workspace, &format!("attempt {}", a.id)).await?;
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
        ("ts" = String, Path, pattern = "^[0-9]{8}_[0-9]{6}$", example = "20261128_204341"), crate::http::scope::ItemQuery),
    responses((status = 200, description = "attempt", body = AttemptDetail),
        (status = 400, description = "`bad_request`: an unknown parameter or a bad `workspace`"),
        (status = 404, description = "`not_found`: no such attempt indexed (in that workspace)"),
        (status = 409, description = "`ambiguous`: several other workspaces hold this id; `candidates` lists them, `?workspace=` picks one")))]
pub(super) async fn detail(state: &AppState, a: &AttemptRow) -> Result<AttemptDetail, ApiError> {
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
        status: crate::http::types::AttemptStatus::from_stored(&a.status),
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
