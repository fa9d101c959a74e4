//! Promotion endpoints: create, list, show, re-verify.

use super::auth::{Read, Write};
use super::extract::{Body, NoParams, Params};
use super::pagination::Pagination;
use super::types::{
    ArchivedEvidence, ArchivedEvidenceDetail, ArchivedEvidencePage, CheckReport, Origin,
    PromoteBody, Promotion, RecordedVerification,
};
use super::{ApiError, ApiResult, AppState};
use crate::promote::PromoteRequest;
use crate::storage::encode_token;
use crate::storage::workspace::ListKey;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/promotions",
            post(create_promotion).get(list_promotions),
        )
        .route("/v1/promotions/{name}", get(show_promotion))
        .route("/v1/promotions/{name}/verify", post(verify_promotion))
}

/// Archive a PASS attempt (201 created, 200 identical promotion exists).
#[utoipa::path(post, path = "/v1/promotions", operation_id = "promote", tag = "promote", security(("bearer" = [])),
    request_body = PromoteBody,
    responses((status = 200, description = "already archived", body = Promotion),
        (status = 201, description = "archived", body = Promotion),
        (status = 400, description = "`bad_request` naming the field; `invalid_name` for a nickname or name that cannot be one"),
        (status = 401, description = "`unauthorized`"),
        (status = 403, description = "`forbidden`: the token lacks the write scope"),
        (status = 404, description = "`not_found`: no such attempt, no pass of the nickname, or no such certificate"),
        (status = 409, description = "`conflict`: the name holds different evidence"),
        (status = 415, description = "`unsupported_media_type`"),
        (status = 421, description = "`misdirected`: the attempt (or every attempt of the nickname) is another workspace's; `workspace` and `public_url` name the daemon to ask"),
        (status = 422, description = "`not_pass`, `pairing_evidence_missing`, `certificate_not_verified`, `validation_failed`, `certificate_mismatch`, `certificate_invalid`, `unsupported_invarlock_version`, `file_refused`")))]
pub(super) async fn create_promotion(
    caller: Write,
    _: Params<NoParams>,
    State(state): State<AppState>,
    Body(req): Body<PromoteRequest>,
) -> ApiResult<(StatusCode, Json<Promotion>)> {
    // Annotations are a JSON object (the contract's `metadata`), not any value.
    if req
        .metadata
        .as_ref()
        .is_some_and(|m| !m.is_object() && !m.is_null())
    {
        return Err(ApiError::bad_field(
            "metadata",
            "metadata must be a JSON object of annotations",
        ));
    }
    // Only the daemon holding the files promotes them (421 names the one that does).
    match (&req.attempt, &req.nickname) {
        (Some(id), _) => crate::fleet::owner::require_own_attempt(&state, id).await?,
        (None, Some(nick)) => crate::fleet::owner::require_own_nickname(&state, nick).await?,
        (None, None) => {}
    }
    let out = state.promoter.promote(req, caller.token_name()).await?;
    let status = if out.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(Promotion::from(out))))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct ListParams {
    /// Items per page.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000, default = 100)]
    limit: Option<String>,
    /// The `next_page_token` of the previous page (opaque).
    page_token: Option<String>,
    #[param(value_type = Option<Origin>)]
    origin: Option<String>,
    /// Only this workspace's evidence (default: every workspace of the database).
    #[param(example = "gpu-01-ws", pattern = "^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$")]
    workspace: Option<String>,
}

/// Archived evidence under reports/ (origin invarlockd or external).
#[utoipa::path(get, path = "/v1/promotions", operation_id = "list_promotions", tag = "promote", params(ListParams),
    responses((status = 200, description = "page", body = ArchivedEvidencePage),
        (status = 400, description = "`bad_request` naming the bad parameter")))]
pub(super) async fn list_promotions(
    _: Read,
    State(state): State<AppState>,
    Params(p): Params<ListParams>,
) -> ApiResult<Json<ArchivedEvidencePage>> {
    let page: Pagination<ListKey> = Pagination::parse(p.limit.as_deref(), p.page_token.as_deref())?;
    let limit = page.limit;
    if let Some(o) = &p.origin {
        if o != "external" && o != "invarlockd" {
            return Err(ApiError::bad_field(
                "origin",
                "expected external or invarlockd",
            ));
        }
    }
    let scope = super::scope::list_scope(&p.workspace)?;
    let rows = state
        .store
        .evidence_dirs_page(
            scope.as_deref(),
            p.origin.as_deref(),
            page.after.as_ref(),
            limit + 1,
        )
        .await?;
    let (rows, next) = crate::storage::split_page(rows, limit, |r| {
        encode_token(&ListKey {
            key: r.path.clone(),
            workspace: r.workspace.clone(),
        })
    });
    Ok(Json(ArchivedEvidencePage {
        items: rows.iter().map(ArchivedEvidence::from).collect(),
        next_page_token: next,
    }))
}

/// One archived evidence directory with its recorded verifications.
#[utoipa::path(get, path = "/v1/promotions/{name}", operation_id = "get_promotion", tag = "promote",
    params(("name" = String, Path, example = "rel_quant8"), super::scope::ItemQuery),
    responses((status = 200, description = "record", body = ArchivedEvidenceDetail),
        (status = 400, description = "`bad_request`: an unknown parameter or a bad `workspace`"),
        (status = 404, description = "`not_found`: no archived evidence of that name (in that workspace)"),
        (status = 409, description = "`ambiguous`: several other workspaces hold evidence of this name; `?workspace=` picks one")))]
pub(super) async fn show_promotion(
    _: Read,
    Params(q): Params<super::scope::ItemQuery>,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<ArchivedEvidenceDetail>> {
    let path = format!("reports/{name}");
    let ws = super::scope::promotion_workspace(&state, &q.workspace, &name).await?;
    let row = state
        .store
        .evidence_dir(&ws, &path)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no archived evidence named {name:?}")))?;
    let verifications = state.records.verifications_of(&ws, &name, 20).await?;
    Ok(Json(ArchivedEvidenceDetail {
        evidence: ArchivedEvidence::from(&row),
        verifications: verifications
            .iter()
            .map(|r| RecordedVerification {
                seq: r.seq,
                ok: r.ok,
                at: r.created_at.clone(),
                actor: r.actor.clone(),
                result: serde_json::from_str(&r.result).ok(),
            })
            .collect(),
    }))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct VerifyParams {
    /// Default: the profile recorded at promotion.
    #[param(value_type = Option<super::types::Profile>)]
    profile: Option<String>,
}

/// Re-prove archived evidence (verdict, pairing, sha256 of every file); recorded in the index
/// and the audit log.
#[utoipa::path(post, path = "/v1/promotions/{name}/verify", operation_id = "verify_promotion", tag = "promote", security(("bearer" = [])),
    params(("name" = String, Path, example = "rel_quant8"), VerifyParams),
    responses((status = 200, description = "check report", body = CheckReport),
        (status = 400, description = "`bad_request` naming the bad parameter; `invalid_name` for a name that cannot be one"),
        (status = 401, description = "`unauthorized`"),
        (status = 403, description = "`forbidden`: the token lacks the write scope"),
        (status = 404, description = "`not_found`: not a promotion (no metadata.json written by invarlockd)"),
        (status = 421, description = "`misdirected`: the evidence is another workspace's; `workspace` and `public_url` name the daemon to ask")))]
pub(super) async fn verify_promotion(
    caller: Write,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Params(p): Params<VerifyParams>,
) -> ApiResult<Json<CheckReport>> {
    crate::fleet::owner::require_own_evidence(&state, &name).await?;
    Ok(Json(
        state
            .promoter
            .check(&name, p.profile, caller.token_name())
            .await?
            .into(),
    ))
}
