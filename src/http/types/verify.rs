//! `POST /v1/verify`: the `invarlock verify --json` envelope plus invarlockd's own verdicts.

use crate::verify::{CertReport, CertStatus, Release};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::openapi::{ObjectBuilder, Type};
use utoipa::ToSchema;

/// A verify profile.
#[derive(Serialize, serde::Deserialize, ToSchema, Debug, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    Dev,
    Ci,
    Release,
}

impl Profile {
    pub fn parse(s: &str) -> Option<Profile> {
        match s {
            "dev" => Some(Profile::Dev),
            "ci" => Some(Profile::Ci),
            "release" => Some(Profile::Release),
            _ => None,
        }
    }
}

/// The supported InvarLock releases, from the code's list.
pub fn release_schema() -> utoipa::openapi::Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(Release::ALL.iter().map(|r| r.as_str())))
        .build()
}

/// The `invarlock verify --json` envelope of the release followed (§4.6): its keys are the
/// real tool's and vary by release (0.3.4 has no `component`, ...).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct VerifyEnvelope {
    #[schema(example = "verify-v1")]
    format_version: Option<String>,
    #[schema(example = "cli")]
    component: Option<String>,
    /// `{ok, reason}`.
    #[schema(value_type = Option<Object>)]
    summary: Option<Value>,
    /// `{exit_code}`.
    #[schema(value_type = Option<Object>)]
    resolution: Option<Value>,
    /// One result per certificate.
    #[schema(value_type = Option<Vec<Object>>)]
    results: Option<Value>,
    #[schema(value_type = Option<Object>)]
    certificate: Option<Value>,
    #[schema(format = DateTime)]
    ts: Option<String>,
}

/// How far a certificate got.
#[derive(Serialize, ToSchema, Debug, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum CertificateStatus {
    Passed,
    Failed,
    Raised,
    NotReached,
}

/// A recorded digest recomputed (beyond the real tool; never affects the verdict).
#[derive(Serialize, ToSchema, Debug)]
pub struct DigestCheck {
    #[schema(example = "auto.policy_digest")]
    pub field: String,
    pub recorded: Option<String>,
    pub computed: Option<String>,
    pub matches: bool,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct Integrity {
    pub checks: Vec<DigestCheck>,
    pub mismatches: Vec<String>,
}

/// invarlockd's verdict on one certificate.
#[derive(Serialize, ToSchema, Debug)]
pub struct CertificateVerdict {
    #[schema(example = "certificate.json")]
    pub id: String,
    /// True only when `status` is `passed`.
    pub ok: bool,
    pub status: CertificateStatus,
    /// The check messages, or the exception text if it raised.
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    /// Null when the document is not a JSON object.
    pub integrity: Option<Integrity>,
}

impl From<CertReport> for CertificateVerdict {
    fn from(c: CertReport) -> Self {
        CertificateVerdict {
            id: c.id,
            ok: c.ok,
            status: match c.status {
                CertStatus::Passed => CertificateStatus::Passed,
                CertStatus::Failed => CertificateStatus::Failed,
                CertStatus::Raised => CertificateStatus::Raised,
                CertStatus::NotReached => CertificateStatus::NotReached,
            },
            errors: c.errors,
            warnings: c.warnings,
            integrity: c.integrity.map(|i| Integrity {
                checks: i
                    .checks
                    .into_iter()
                    .map(|d| DigestCheck {
                        field: d.field,
                        recorded: d.recorded,
                        computed: d.computed,
                        matches: d.matches,
                    })
                    .collect(),
                mismatches: i.mismatches,
            }),
        }
    }
}

/// Where the release followed came from.
#[derive(Serialize, ToSchema, Debug, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseSource {
    /// The `invarlock_version` parameter.
    Requested,
    /// The release recorded by the run the certificate links to.
    LinkedReport,
    Default,
}

/// What invarlockd adds to the envelope.
#[derive(Serialize, ToSchema, Debug)]
pub struct VerifyInvarlockd {
    /// The real tool's exit code (0 = every certificate passed).
    pub exit_code: i32,
    pub certificates: Vec<CertificateVerdict>,
    /// The InvarLock release whose verify was followed.
    #[schema(schema_with = release_schema)]
    pub invarlock_version: Release,
    pub invarlock_version_source: ReleaseSource,
}

/// The envelope plus an `invarlockd` object.
#[derive(Serialize, ToSchema, Debug)]
pub struct VerifyResponse {
    #[serde(flatten)]
    #[schema(value_type = VerifyEnvelope)]
    pub envelope: Map<String, Value>,
    pub invarlockd: VerifyInvarlockd,
}
