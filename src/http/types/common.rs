//! Shapes every route shares: problems, pages, the small status answers.

use serde::Serialize;
use utoipa::ToSchema;

/// Every stable problem `code` the API answers with (the schema's enum; a debug build asserts
/// that an answered code is listed).
pub const PROBLEM_CODES: &[&str] = &[
    "bad_request",
    "invalid_name",
    "unauthorized",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "timeout",
    "conflict",
    "payload_too_large",
    "certificate_too_complex",
    "unsupported_media_type",
    "unprocessable",
    "not_pass",
    "pairing_evidence_missing",
    "certificate_not_verified",
    "validation_failed",
    "certificate_mismatch",
    "certificate_invalid",
    "unsupported_invarlock_version",
    "file_refused",
    "plan_stale",
    "plan_expired",
    "plan_not_pending",
    "plan_not_restorable",
    "restore_conflict",
    "move_refused",
    "overloaded",
    "not_ready",
    "database_unavailable",
    "misdirected",
    "ambiguous",
    "unavailable",
    "record_corrupt",
    "internal",
    "error",
];

/// An RFC 9457 problem (`application/problem+json`).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "type": "https://invarlockd.dev/problems/not_found", "title": "Not Found", "status": 404,
    "detail": "attempt rel_quant8/20261128_204342 is not indexed", "code": "not_found"}))]
pub struct Problem {
    /// `https://invarlockd.dev/problems/<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    /// The HTTP status code, repeated.
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    /// What was wrong, for people.
    pub detail: String,
    /// Stable machine code (see the enum; the route's responses say which it gives).
    #[schema(schema_with = problem_code)]
    pub code: String,
    /// The offending query parameter, body field or header of a bad request.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub field: Option<String>,
    /// `misdirected`: the workspace that owns what was asked about.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "gpu-02-ws")]
    pub workspace: Option<String>,
    /// `misdirected`: the owner's advertised `server.public_url`, to send the request to
    /// (absent when the owner never registered one).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "http://gpu-02:8765")]
    pub public_url: Option<String>,
    /// `ambiguous`: the workspaces holding the id; repeat with `?workspace=` naming one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub candidates: Option<Vec<String>>,
}

impl Problem {
    /// The problem of `status` with this stable `code`.
    pub fn new(status: axum::http::StatusCode, code: &str, detail: String) -> Problem {
        Problem {
            type_: format!("https://invarlockd.dev/problems/{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail,
            code: code.to_string(),
            field: None,
            workspace: None,
            public_url: None,
            candidates: None,
        }
    }
}

fn problem_code() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(PROBLEM_CODES.iter().copied()))
        .build()
}

/// `/healthz`, `/readyz`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: HealthState,
    /// Why the daemon is degraded.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub reason: Option<String>,
}

#[derive(Serialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum HealthState {
    Ok,
    Ready,
    Degraded,
}

/// `POST /v1/rescan`.
#[derive(Serialize, ToSchema)]
pub struct Queued {
    pub status: QueuedState,
}

#[derive(Serialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum QueuedState {
    Queued,
}

/// A page type per item type (named, so that generated clients get a class per list).
macro_rules! page {
    ($(#[$doc:meta])* $name:ident, $item:ty) => {
        $(#[$doc])*
        #[derive(serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Pass as `page_token` for the next page; null at the end.
            pub next_page_token: Option<String>,
        }
    };
}
pub(crate) use page;
