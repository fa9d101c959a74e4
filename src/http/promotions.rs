//! Promotion endpoints: create, list, show, re-verify.

use super::auth::{Read, Write};
use super::extract::{Body, NoParams, Params};
use super::pagination::Pagination;
use super::{ApiError, ApiResult, AppState};
use crate::promote::metadata::Metadata;
use crate::promote::{CheckReport, PromoteRequest};
use crate::storage::encode_token;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/promotions",
            post(create_promotion).get(list_promotions),
        )
        .route("/v1/promotions/{name}", get(show_promotion))
        .route("/v1/promotions/{name}/verify", post(verify_promotion))
}

async fn create_promotion(
    caller: Write,
    _: Params<NoParams>,
    State(state): State<AppState>,
    Body(req): Body<PromoteRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let out = state.promoter.promote(req, caller.token_name()).await?;
    let status = if out.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(serde_json::to_value(out).map_err(ApiError::internal)?),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    limit: Option<String>,
    page_token: Option<String>,
    origin: Option<String>,
}

fn item(path: &str, origin: &str, metadata: Option<&str>) -> Value {
    let name = path.strip_prefix("reports/").unwrap_or(path);
    let meta = metadata.and_then(|m| serde_json::from_str::<Value>(m).ok());
    let ours = metadata
        .and_then(|m| Metadata::from_bytes(m.as_bytes()))
        .is_some();
    json!({ "name": name, "path": path, "origin": origin, "promotion": ours, "metadata": meta })
}

async fn list_promotions(
    _: Read,
    State(state): State<AppState>,
    Params(p): Params<ListParams>,
) -> ApiResult<Json<Value>> {
    let page: Pagination<String> = Pagination::parse(p.limit.as_deref(), p.page_token.as_deref())?;
    let limit = page.limit;
    if let Some(o) = &p.origin {
        if o != "external" && o != "invarlockd" {
            return Err(ApiError::bad_field(
                "origin",
                "expected external or invarlockd",
            ));
        }
    }
    let after = page.after;
    let rows = state
        .store
        .evidence_dirs_page(p.origin.as_deref(), after.as_deref(), limit + 1)
        .await?;
    let (rows, next) = crate::storage::split_page(rows, limit, |r| encode_token(&r.path));
    let items: Vec<Value> = rows
        .iter()
        .map(|r| item(&r.path, &r.origin, r.metadata.as_deref()))
        .collect();
    Ok(Json(json!({ "items": items, "next_page_token": next })))
}

async fn show_promotion(
    _: Read,
    _: Params<NoParams>,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let path = format!("reports/{name}");
    let row = state
        .store
        .evidence_dir(&path)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no archived evidence named {name:?}")))?;
    let mut v = item(&row.path, &row.origin, row.metadata.as_deref());
    let verifications = state.records.verifications_of(&name, 20).await?;
    v["verifications"] = json!(verifications
        .iter()
        .map(|r| json!({ "seq": r.seq, "ok": r.ok, "at": r.created_at, "actor": r.actor, "result": serde_json::from_str::<Value>(&r.result).ok() }))
        .collect::<Vec<_>>());
    Ok(Json(v))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct VerifyParams {
    profile: Option<String>,
}

async fn verify_promotion(
    caller: Write,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Params(p): Params<VerifyParams>,
) -> ApiResult<Json<CheckReport>> {
    Ok(Json(
        state
            .promoter
            .check(&name, p.profile, caller.token_name())
            .await?,
    ))
}
