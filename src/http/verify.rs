//! `POST /v1/verify`: the body is a certificate; any bytes get a verdict, never a 500.
//!
//! What one upload may cost is bounded: the body by `server.body_limit_bytes`, the work by
//! `verify.max_concurrent` slots (503 + `Retry-After` beyond, before the body is read), and the
//! parsed tree by `verify.max_values` (413 beyond, counted without building it).
//!
//! The InvarLock release followed is `invarlock_version` when given, else the one recorded by
//! the indexed run the certificate links to (if supported), else 0.3.6; the answer says which.

use super::auth::Read;
use super::extract::{JsonBytes, Params};
use super::types::{
    release_schema, CertificateVerdict, Profile, ReleaseSource, VerifyInvarlockd, VerifyResponse,
};
use super::{ApiError, ApiResult, AppState};
use crate::verify::{tree_values, verify_documents, Input, Options, Release, SUPPORTED_RANGE};
use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::OwnedSemaphorePermit;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/verify", post(verify_body))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct VerifyParams {
    /// Default `dev`.
    #[param(value_type = Option<Profile>)]
    profile: Option<String>,
    /// Recompute tolerance (default 1e-9).
    #[param(value_type = Option<f64>)]
    tolerance: Option<String>,
    /// The certificate's id in the envelope (default certificate.json).
    id: Option<String>,
    /// The InvarLock release whose `invarlock verify` to reproduce (exit code, messages,
    /// envelope keys). Default: the release recorded by the indexed run the certificate links
    /// to (`artifacts.events_path`), when supported, else 0.3.6. Any other value, or a
    /// certificate linked to a 0.5.0+ run, is refused with 422 `unsupported_invarlock_version`.
    /// The answer's `invarlockd.invarlock_version` says which release was followed.
    #[param(schema_with = release_schema)]
    invarlock_version: Option<String>,
}

/// 422 `unsupported_invarlock_version`, naming the supported range.
pub(crate) fn unsupported(detail: String) -> ApiError {
    ApiError::Unprocessable {
        code: "unsupported_invarlock_version",
        detail: format!("{detail}; supported releases: {SUPPORTED_RANGE}"),
    }
}

/// Where the release followed came from.
/// The release the run linked from the certificate recorded: `Ok(None)` when unknown, an
/// error when it is a release whose contract invarlockd does not follow (0.5.0 and later).
async fn linked_release(state: &AppState, body: &Bytes) -> Result<Option<Release>, ApiError> {
    // Only the two link fields are needed; the parse runs off the runtime and only for a tree
    // within verify.max_values (a larger body is refused by the verify step anyway).
    let max_values = state.config.verify.max_values;
    let body = body.clone();
    let (recorded, run_dir) = tokio::task::spawn_blocking(move || {
        if tree_values(&body).is_some_and(|n| n > max_values) {
            return (None, None);
        }
        let Some(cert) = std::str::from_utf8(&body)
            .ok()
            .and_then(|t| crate::pyjson::parse(t).ok())
        else {
            return (None, None);
        };
        (
            crate::verify::recorded_version(&cert).map(str::to_string),
            crate::verify::subject_run_dir(&cert),
        )
    })
    .await
    .map_err(ApiError::internal)?;
    let version = match (
        recorded,
        run_dir.and_then(|d| d.strip_prefix("runs/").map(str::to_string)),
    ) {
        (Some(v), _) => Some(v),
        (None, Some(id)) => state
            .store
            .attempt(state.store.workspace().as_str(), &id)
            .await?
            .and_then(|row| row.detail)
            .and_then(|d| serde_json::from_str::<Value>(&d).ok())
            .and_then(|d| d["invarlock_version"].as_str().map(str::to_string)),
        (None, None) => None,
    };
    let Some(version) = version else {
        return Ok(None);
    };
    match version.parse::<Release>() {
        Ok(r) => Ok(Some(r)),
        Err(_) if crate::verify::is_later_contract(&version) => Err(unsupported(format!(
            "the certificate comes from InvarLock {version}, whose verify contract invarlockd does not reproduce"
        ))),
        Err(_) => Ok(None),
    }
}

/// One of `verify.max_concurrent` verification slots, held until the verdict is made. Taken
/// before the body extractor runs, so a refused request costs no body memory.
pub(super) struct Slot(#[allow(dead_code)] OwnedSemaphorePermit);

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
/// Verify one certificate (any bytes give a verdict, not a 400).
#[utoipa::path(post, path = "/v1/verify", operation_id = "verify_certificate", tag = "verify", params(VerifyParams),
    request_body(content = Vec<u8>, content_type = "application/json", description = "one certificate JSON; any bytes (a bad body is a verdict)"),
    responses((status = 200, description = "the invarlock verify --json envelope plus an invarlockd object", body = VerifyResponse),
        (status = 400, description = "`bad_request` naming the bad parameter"),
        (status = 413, description = "`payload_too_large` (body over server.body_limit_bytes) or `certificate_too_complex` (an object root holding more than verify.max_values JSON values, counted before any tree is built). A root that is not an object gets its verdict at any size."),
        (status = 415, description = "`unsupported_media_type`"),
        (status = 422, description = "`unsupported_invarlock_version`"),
        (status = 503, description = "`overloaded`: verify.max_concurrent verifications are running; refused before the body is read (`unavailable` after request_timeout)",
            headers(("Retry-After" = u64, description = "seconds to wait")))))]
pub(super) async fn verify_body(
    _: Read,
    slot: Slot,
    State(state): State<AppState>,
    Params(p): Params<VerifyParams>,
    JsonBytes(body): JsonBytes,
) -> ApiResult<Json<VerifyResponse>> {
    let (release, source) = match p.invarlock_version.as_deref() {
        Some(v) => (
            v.parse::<Release>().map_err(|e| {
                unsupported(format!(
                    "invarlock_version {:?} is not a supported release",
                    e.0
                ))
            })?,
            ReleaseSource::Requested,
        ),
        None => match linked_release(&state, &body).await? {
            Some(r) => (r, ReleaseSource::LinkedReport),
            None => (Release::DEFAULT, ReleaseSource::Default),
        },
    };
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
                release,
            },
        ))
    })
    .await
    .map_err(ApiError::internal)??;
    // The envelope is Python JSON (it may hold NaN); clients get strict JSON with "NaN" strings.
    let mut envelope = match out
        .envelope_json
        .as_deref()
        .and_then(|e| crate::pyjson::parse(e).ok())
        .map(|v| v.to_serde())
    {
        Some(Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    // The real tool's envelope has no `invarlockd` key; ours is the one served.
    envelope.remove("invarlockd");
    crate::metrics::verification(crate::metrics::VerifySource::Api, out.exit_code == 0);
    Ok(Json(VerifyResponse {
        envelope,
        invarlockd: VerifyInvarlockd {
            exit_code: out.exit_code,
            certificates: out
                .per_cert
                .into_iter()
                .map(CertificateVerdict::from)
                .collect(),
            invarlock_version: release,
            invarlock_version_source: source,
        },
    }))
}
