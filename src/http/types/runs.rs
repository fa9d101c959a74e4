//! `/v1/runs`, `/v1/runs/{nickname}`, `/v1/mappings`, `/v1/unrecognized`.

use super::attempts::{AttemptStatus, AttemptSummary};
use super::page;
use crate::storage::attempts::UnrecognizedRow;
use crate::storage::mappings::MappingRow;
use crate::storage::runs::RunRow;
use serde::Serialize;
use utoipa::ToSchema;

/// How a run → baseline mapping was established.
#[derive(Serialize, ToSchema, Clone, Copy, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum How {
    /// The certificate's §5.4 digests match exactly.
    Certificate,
    /// Recorded by an invarlockd promotion.
    Promotion,
    /// The baseline logloss quoted in events.jsonl, or the same dataset, window-id and
    /// tokenizer hashes.
    PairingEvidence,
}

#[derive(Serialize, ToSchema, Clone, Copy, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    High,
    Medium,
    Low,
}

/// Where the baseline is: an indexed attempt, an archived report, or both.
#[derive(Serialize, ToSchema, Debug)]
pub struct MappingBaseline {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "rel_baseline/20261128_204321")]
    pub attempt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "reports/rel_baseline/report.json")]
    pub archived: Option<String>,
}

/// A run → baseline mapping.
#[derive(Serialize, ToSchema, Debug)]
pub struct Mapping {
    /// The workspace that holds it (`workspace.id` of its daemon).
    #[schema(example = "gpu-01-ws")]
    pub workspace: String,
    #[schema(example = "rel_quant8/20261128_204341")]
    pub subject: String,
    pub baseline: MappingBaseline,
    pub how: How,
    pub confidence: Confidence,
    /// The certificate that established it (`how` = certificate).
    #[schema(example = "reports/rel_quant8_balanced/evaluation.cert.json")]
    pub certificate: Option<String>,
    /// Fitting reports, capped at 2 ("two or more").
    #[schema(minimum = 0, maximum = 2)]
    pub candidates: i64,
    #[schema(
        example = "certificate provenance.edited and baseline digests (run_id, report_hash) match exactly"
    )]
    pub note: Option<String>,
}

impl From<&MappingRow> for Mapping {
    fn from(m: &MappingRow) -> Self {
        Mapping {
            workspace: m.workspace.clone(),
            subject: m.subject.clone(),
            baseline: MappingBaseline {
                attempt: m.baseline_attempt.clone(),
                archived: m.baseline_archived.clone(),
            },
            how: match m.how.as_str() {
                "certificate" => How::Certificate,
                "promotion" => How::Promotion,
                _ => How::PairingEvidence,
            },
            confidence: match m.confidence.as_str() {
                "high" => Confidence::High,
                "medium" => Confidence::Medium,
                _ => Confidence::Low,
            },
            certificate: m.certificate.clone(),
            candidates: m.candidates,
            note: m.note.clone(),
        }
    }
}

page!(
    /// A page of mappings, by subject.
    MappingPage,
    Mapping
);

/// The newest attempt of a nickname.
#[derive(Serialize, ToSchema, Debug)]
pub struct LatestAttempt {
    #[schema(example = "rel_quant8/20261128_204341")]
    pub id: String,
    pub status: AttemptStatus,
}

/// One nickname.
#[derive(Serialize, ToSchema, Debug)]
pub struct Run {
    /// The workspace that holds it (`workspace.id` of its daemon).
    #[schema(example = "gpu-01-ws")]
    pub workspace: String,
    #[schema(example = "rel_quant8")]
    pub nickname: String,
    /// Indexed attempts of this nickname.
    #[schema(minimum = 1, example = 1)]
    pub attempts: i64,
    pub latest: LatestAttempt,
    /// The newest `pass` attempt.
    #[schema(example = "rel_quant8/20261128_204341")]
    pub latest_pass: Option<String>,
    /// The mapping of the newest attempt that has one.
    pub baseline: Option<Mapping>,
}

impl From<&RunRow> for Run {
    fn from(r: &RunRow) -> Self {
        Run {
            workspace: r.workspace.clone(),
            nickname: r.nickname.clone(),
            attempts: r.attempts,
            latest: LatestAttempt {
                id: r.latest_id.clone(),
                status: AttemptStatus::from_stored(&r.latest_status),
            },
            latest_pass: r.latest_pass.clone(),
            baseline: r.mapping().as_ref().map(Mapping::from),
        }
    }
}

page!(
    /// A page of nicknames, in lexical order.
    RunPage,
    Run
);

/// One nickname with a page of its attempts, newest first.
#[derive(Serialize, ToSchema, Debug)]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: Run,
    pub items: Vec<AttemptSummary>,
    pub next_page_token: Option<String>,
}

/// An entry under runs/ that is not an attempt (listed, never touched).
#[derive(Serialize, ToSchema, Debug)]
pub struct Unrecognized {
    /// The workspace that holds it (`workspace.id` of its daemon).
    #[schema(example = "gpu-01-ws")]
    pub workspace: String,
    #[schema(example = "runs/notes.txt")]
    pub path: String,
    #[schema(example = "file")]
    pub kind: String,
    pub reason: String,
}

impl From<&UnrecognizedRow> for Unrecognized {
    fn from(r: &UnrecognizedRow) -> Self {
        Unrecognized {
            workspace: r.workspace.clone(),
            path: r.path.clone(),
            kind: r.kind.clone(),
            reason: r.reason.clone(),
        }
    }
}

page!(
    /// Unrecognized entries: one page (`next_page_token` is always null).
    UnrecognizedPage,
    Unrecognized
);
