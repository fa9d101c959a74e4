//! `/v1/promotions*` and `/v1/audit`.

use super::page;
use crate::storage::evidence::EvidenceDirRow;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// Who archived a directory under reports/.
#[derive(Serialize, ToSchema, Debug, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// A promotion by invarlockd.
    Invarlockd,
    /// Evidence archived by other means (indexed, never modified).
    External,
}

/// `POST /v1/promotions` body.
#[derive(ToSchema)]
#[schema(example = json!({"attempt": "rel_quant8/20261128_204341",
    "certificate": "reports/rel_quant8_balanced/evaluation.cert.json", "profile": "release"}))]
#[allow(dead_code)]
pub struct PromoteBody {
    /// `<nickname>/<YYYYMMDD_HHMMSS>`; default the latest pass of `nickname`.
    attempt: Option<String>,
    nickname: Option<String>,
    /// Directory under reports/ (default the nickname).
    #[schema(max_length = 200)]
    name: Option<String>,
    /// Path under the workspace; required for a subject run.
    certificate: Option<String>,
    /// Free annotations stored in metadata.json (a JSON object).
    #[schema(value_type = Option<Object>)]
    metadata: Option<Value>,
    profile: Option<super::Profile>,
}

/// A promotion's answer (201 archived, 200 identical promotion already there).
#[derive(Serialize, ToSchema, Debug)]
pub struct Promotion {
    /// False when the identical promotion already existed.
    pub created: bool,
    #[schema(example = "rel_quant8")]
    pub name: String,
    /// The stored metadata.json; null when the directory has none, e.g. identical external
    /// evidence (200).
    #[schema(value_type = Option<Object>)]
    pub metadata: Value,
    /// The baseline archived by this promotion.
    #[schema(example = "rel_baseline")]
    pub baseline_archived: Option<String>,
}

impl From<crate::promote::PromoteOutcome> for Promotion {
    fn from(o: crate::promote::PromoteOutcome) -> Self {
        Promotion {
            created: o.created,
            name: o.name,
            metadata: o.metadata,
            baseline_archived: o.baseline_archived,
        }
    }
}

/// An archived evidence directory under reports/.
#[derive(Serialize, ToSchema, Debug)]
pub struct ArchivedEvidence {
    /// The workspace that holds it (`workspace.id` of its daemon).
    #[schema(example = "gpu-01-ws")]
    pub workspace: String,
    #[schema(example = "rel_quant8")]
    pub name: String,
    #[schema(example = "reports/rel_quant8")]
    pub path: String,
    pub origin: Origin,
    /// Its metadata.json was written by invarlockd.
    pub promotion: bool,
    /// Its metadata.json, when it has one that is JSON.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

impl From<&EvidenceDirRow> for ArchivedEvidence {
    fn from(r: &EvidenceDirRow) -> Self {
        let path = &r.path;
        let meta = r.metadata.as_deref();
        ArchivedEvidence {
            workspace: r.workspace.clone(),
            name: path.strip_prefix("reports/").unwrap_or(path).to_string(),
            path: path.clone(),
            origin: if r.origin == "invarlockd" {
                Origin::Invarlockd
            } else {
                Origin::External
            },
            promotion: meta
                .and_then(|m| crate::promote::metadata::Metadata::from_bytes(m.as_bytes()))
                .is_some(),
            metadata: meta.and_then(|m| serde_json::from_str(m).ok()),
        }
    }
}

page!(
    /// A page of archived evidence, by path.
    ArchivedEvidencePage,
    ArchivedEvidence
);

/// A recorded re-verification of archived evidence.
#[derive(Serialize, ToSchema, Debug)]
pub struct RecordedVerification {
    pub seq: i64,
    pub ok: bool,
    #[schema(format = DateTime)]
    pub at: String,
    /// The token name that asked.
    pub actor: Option<String>,
    /// The check report as recorded.
    #[schema(value_type = Option<CheckReport>)]
    pub result: Option<Value>,
}

/// One archived evidence directory with its recorded verifications (newest first, at most 20).
#[derive(Serialize, ToSchema, Debug)]
pub struct ArchivedEvidenceDetail {
    #[serde(flatten)]
    pub evidence: ArchivedEvidence,
    pub verifications: Vec<RecordedVerification>,
}

/// One entry of the hash-chained audit log.
#[derive(Serialize, ToSchema, Debug)]
pub struct AuditEntry {
    /// The workspace whose daemon recorded it (each workspace has its own chain).
    #[schema(example = "gpu-01-ws")]
    pub workspace: String,
    /// Where it stands among every workspace's entries (the order of a page that spans
    /// workspaces); `seq` is its place in its own workspace's chain.
    pub position: i64,
    pub seq: i64,
    #[schema(format = DateTime)]
    pub at: String,
    /// `promotion.created`, `verification.recorded`, `retention.moved`, `retention.restored`,
    /// `retention.purged`, ...
    #[schema(example = "promotion.created")]
    pub action: String,
    #[schema(example = "rel_quant8")]
    pub subject: String,
    pub actor: Option<String>,
    /// What was done (JSON as recorded).
    #[schema(value_type = Value)]
    pub detail: Value,
    pub prev_hash: String,
    pub hash: String,
}

page!(
    /// A page of the audit log, oldest first.
    AuditPage,
    AuditEntry
);

/// The audit chain walked from the start.
#[derive(Serialize, ToSchema, Debug)]
pub struct AuditChainCheck {
    /// Whose chain was walked.
    #[schema(example = "gpu-01-ws")]
    pub workspace: Option<String>,
    pub ok: bool,
    pub entries: u64,
    /// The first entry whose stored hashes do not match.
    pub first_broken: Option<i64>,
    pub reason: Option<String>,
}

impl From<crate::storage::records::ChainCheck> for AuditChainCheck {
    fn from(c: crate::storage::records::ChainCheck) -> Self {
        AuditChainCheck {
            workspace: None,
            ok: c.ok,
            entries: c.entries,
            first_broken: c.first_broken,
            reason: c.reason,
        }
    }
}

/// One check of `POST /v1/promotions/{name}/verify`.
#[derive(Serialize, ToSchema, Debug)]
pub struct Check {
    /// `sha256`, `certificate_verify`, `subject_link`, `pairing`, ...
    #[schema(example = "pairing")]
    pub check: String,
    pub ok: bool,
    /// The file the check is about.
    pub file: Option<String>,
    pub detail: String,
}

/// Archived evidence re-proved: verdict, pairing, sha256 of every file.
#[derive(Serialize, ToSchema, Debug)]
pub struct CheckReport {
    pub name: String,
    /// True when every check passed.
    pub ok: bool,
    pub profile: super::Profile,
    pub checks: Vec<Check>,
    #[schema(format = DateTime)]
    pub checked_at: chrono::DateTime<chrono::Utc>,
}

impl From<crate::promote::CheckReport> for CheckReport {
    fn from(r: crate::promote::CheckReport) -> Self {
        CheckReport {
            name: r.name,
            ok: r.ok,
            profile: super::Profile::parse(&r.profile).unwrap_or(super::Profile::Dev),
            checks: r
                .checks
                .into_iter()
                .map(|c| Check {
                    check: c.check.to_string(),
                    ok: c.ok,
                    file: c.file,
                    detail: c.detail,
                })
                .collect(),
            checked_at: r.checked_at,
        }
    }
}
