//! `POST /v1/verify`: the body is a certificate; any bytes get a verdict, never a 500.
//!
//! What one upload may cost is bounded: the body by `server.body_limit_bytes`, the work by
//! `verify.max_concurrent` slots (503 + `Retry-After` beyond, before the body is read), and the
//! parsed tree by `verify.max_values` (413 beyond, counted without building it).

use super::auth::Read;
use super::extract::{JsonBytes, Params};
use super::{ApiError, ApiResult, AppState};
use crate::verify::{tree_values, verify_documents, Input, Options};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::OwnedSemaphorePermit;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/verify", post(verify_body))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct VerifyParams {
    profile: Option<String>,
    tolerance: Option<String>,
    /// The id the envelope gives the certificate (default `certificate.json`).
    id: Option<String>,
}

/// One of `verify.max_concurrent` verification slots, held until the verdict is made. Taken
/// before the body extractor runs, so a refused request costs no body memory.
struct Slot(#[allow(dead_code)] OwnedSemaphorePermit);

impl FromRequestParts<AppState> for Slot {
    type Rejection = ApiError;
    async fn from_request_parts(_: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match state.verify_slots.clone().try_acquire_owned() {
            Ok(permit) => Ok(Slot(permit)),
            Err(_) => {
                crate::metrics::verify_rejected(crate::metrics::VerifyRejection::Concurrency);
                Err(ApiError::Overloaded {
                    detail: format!(
                        "{} verifications are already running; retry shortly",
                        state.config.verify.max_concurrent
                    ),
                    retry_after_secs: 1,
                })
            }
        }
    }
}

/// Verification changes nothing, so a read token suffices.
async fn verify_body(
    _: Read,
    slot: Slot,
    State(state): State<AppState>,
    Params(p): Params<VerifyParams>,
    JsonBytes(body): JsonBytes,
) -> ApiResult<Json<Value>> {
    let profile = p.profile.unwrap_or_else(|| "dev".into());
    if !matches!(profile.as_str(), "dev" | "ci" | "release") {
        return Err(ApiError::bad_field(
            "profile",
            "expected dev, ci or release",
        ));
    }
    let tolerance = match p.tolerance.as_deref() {
        None => 1e-9,
        Some(t) => t
            .trim()
            .parse::<f64>()
            .map_err(|_| ApiError::bad_field("tolerance", format!("not a number: {t:?}")))?,
    };
    let id = p.id.unwrap_or_else(|| "certificate.json".into());
    let max_values = state.config.verify.max_values;
    let out = tokio::task::spawn_blocking(move || {
        // The slot is held by the work itself: a request timeout drops the handler, not this.
        let _slot = slot;
        // Counting first holds nothing but the text; only a tree of bounded size is built.
        if let Some(n) = tree_values(&body).filter(|&n| n > max_values) {
            // The tree cap bounds verify's memory.
            crate::metrics::verify_rejected(crate::metrics::VerifyRejection::Memory);
            return Err(ApiError::TooLarge {
                code: "certificate_too_complex",
                detail: format!(
                    "the certificate holds {n} JSON values; at most {max_values} are verified \
                     (verify.max_values; a real certificate holds a few thousand)"
                ),
            });
        }
        // Reuses the body's buffer when it is the only owner (no second copy of 64 MB).
        let bytes = Vec::from(body);
        Ok(verify_documents(
            &[Input {
                id,
                bytes: Ok(bytes),
            }],
            &Options {
                profile,
                tolerance,
                baseline: None,
                json: true,
                ..Default::default()
            },
        ))
    })
    .await
    .map_err(ApiError::internal)??;
    // The envelope is Python JSON (it may hold NaN); clients get strict JSON with "NaN" strings.
    let mut envelope = out
        .envelope_json
        .as_deref()
        .and_then(|e| crate::pyjson::parse(e).ok())
        .map(|v| v.to_serde())
        .unwrap_or_else(|| json!({}));
    envelope["invarlockd"] = json!({
        "exit_code": out.exit_code,
        "certificates": out.per_cert,
    });
    crate::metrics::verification(crate::metrics::VerifySource::Api, out.exit_code == 0);
    Ok(Json(envelope))
}
