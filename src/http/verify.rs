//! `POST /v1/verify`: the body is a certificate; any bytes get a verdict, never a 500.

use super::auth::Read;
use super::extract::Params;
use super::{ApiError, ApiResult, AppState};
use crate::verify::{verify_documents, Input, Options};
use axum::body::Bytes;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

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

/// Verification changes nothing, so a read token suffices.
async fn verify_body(
    _: Read,
    Params(p): Params<VerifyParams>,
    body: Bytes,
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
    let out = tokio::task::spawn_blocking(move || {
        verify_documents(
            &[Input {
                id,
                bytes: Ok(body.to_vec()),
            }],
            &Options {
                profile,
                tolerance,
                baseline: None,
                json: true,
            },
        )
    })
    .await
    .map_err(ApiError::internal)?;
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
