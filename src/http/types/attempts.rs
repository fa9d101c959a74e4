//! `/v1/attempts`, `/v1/attempts/{nickname}/{ts}` and `…/events`.

use super::page;
use super::runs::Mapping;
use crate::storage::attempts::{AttemptSummaryRow, FileRow, HistoryRow};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// Attempt status (spec §1.3): the domain type, read back from the index.
pub use crate::report::AttemptStatus;

/// The list view of an attempt.
#[derive(Serialize, ToSchema, Debug)]
pub struct AttemptSummary {
    /// The workspace that holds it (`workspace.id` of its daemon).
    #[schema(example = "gpu-01-ws")]
    pub workspace: String,
    /// `<nickname>/<YYYYMMDD_HHMMSS>`.
    #[schema(example = "rel_quant8/20261128_204341")]
    pub id: String,
    #[schema(example = "rel_quant8")]
    pub nickname: String,
    /// The directory name (local time of the run).
    #[schema(pattern = "^[0-9]{8}_[0-9]{6}$", example = "20261128_204341")]
    pub ts: String,
    /// `ts` in UTC, with the daemon's configured time zone.
    #[schema(format = DateTime, example = "2026-11-28T20:43:41Z")]
    pub started_at: Option<String>,
    pub status: AttemptStatus,
    /// Why the status is not `pass`.
    pub reason: Option<String>,
    #[schema(example = "../inputs/tiny-lm")]
    pub model_id: Option<String>,
    /// The edit's name.
    #[schema(example = "quant_rtn")]
    pub edit: Option<String>,
    #[schema(example = "release")]
    pub profile: Option<String>,
    #[schema(example = "a065509f970ded34590cd0acb58a398c")]
    pub dataset_hash: Option<String>,
    #[schema(example = "8ad3e32bd327c4395bfb910eb5a4cb74")]
    pub tokenizer_hash: Option<String>,
    #[schema(example = "19ab55d84687504159db5ae0b26c274bbaaa5aa6657ae689f579e576225ea6b9")]
    pub ids_sha256: Option<String>,
    #[schema(example = "ppl_causal")]
    pub primary_metric_kind: Option<String>,
    /// §5.4 digests of the report.
    #[schema(example = "8025f8a2cd584ad0")]
    pub run_id: Option<String>,
    #[schema(example = "7242a85e0f8aa604")]
    pub report_hash: Option<String>,
    /// sha256 of the report.json bytes.
    #[schema(example = "9782127709d5c878f25f8cd5715e35a6cc968d1240bf2a00b611f3f4322f9f6d")]
    pub report_sha256: Option<String>,
}

impl From<&AttemptSummaryRow> for AttemptSummary {
    fn from(a: &AttemptSummaryRow) -> Self {
        AttemptSummary {
            workspace: a.workspace.clone(),
            id: a.id.clone(),
            nickname: a.nickname.clone(),
            ts: a.ts.clone(),
            started_at: a.started_at.clone(),
            status: AttemptStatus::from_stored(&a.status),
            reason: a.reason.clone(),
            model_id: a.model_id.clone(),
            edit: a.edit_name.clone(),
            profile: a.profile.clone(),
            dataset_hash: a.dataset_hash.clone(),
            tokenizer_hash: a.tokenizer_hash.clone(),
            ids_sha256: a.ids_sha256.clone(),
            primary_metric_kind: a.pm_kind.clone(),
            run_id: a.run_id.clone(),
            report_hash: a.report_hash.clone(),
            report_sha256: a.report_sha256.clone(),
        }
    }
}

page!(
    /// A page of attempts, newest first.
    AttemptPage,
    AttemptSummary
);

/// A report's own §5.4 digests for its subject (a paired report names the run it evaluated).
#[derive(Serialize, ToSchema, Debug)]
pub struct SubjectDigests {
    pub run_id: Option<String>,
    pub report_hash: Option<String>,
}

/// What was read of report.json.
#[derive(Serialize, ToSchema, Debug)]
pub struct ReportState {
    pub present: bool,
    /// Passes §2.1.
    pub valid: bool,
    /// Why it is not valid.
    pub error: Option<String>,
    #[schema(minimum = 0)]
    pub size: Option<i64>,
    pub sha256: Option<String>,
}

/// The runner's last outcome, from events.jsonl.
#[derive(Serialize, ToSchema, Debug)]
pub struct RunnerState {
    /// `success` or `rollback`; null after an error or before the end.
    #[schema(example = "success")]
    pub status: Option<String>,
    pub error: Option<String>,
    pub sessions: Option<i64>,
    pub session_open: bool,
}

/// A file of the attempt directory.
#[derive(Serialize, ToSchema, Debug)]
pub struct AttemptFile {
    #[schema(example = "report.json")]
    pub name: String,
    #[schema(minimum = 0)]
    pub size: i64,
    /// Null for files not hashed (e.g. checkpoints).
    pub sha256: Option<String>,
    #[schema(format = DateTime)]
    pub modified_at: String,
}

impl From<&FileRow> for AttemptFile {
    fn from(f: &FileRow) -> Self {
        AttemptFile {
            name: f.name.clone(),
            size: f.size,
            sha256: f.sha256.clone(),
            modified_at: DateTime::<Utc>::from_timestamp_nanos(f.mtime_ns)
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        }
    }
}

/// A change of the attempt seen by the indexer, newest first (at most 50).
#[derive(Serialize, ToSchema, Debug)]
pub struct AttemptHistory {
    pub seq: i64,
    /// `indexed`, `updated`, `removed`.
    #[schema(example = "indexed")]
    pub event: String,
    pub status: Option<AttemptStatus>,
    pub reason: Option<String>,
    pub report_sha256: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&HistoryRow> for AttemptHistory {
    fn from(h: &HistoryRow) -> Self {
        AttemptHistory {
            seq: h.seq,
            event: h.event.clone(),
            status: h.status.as_deref().map(AttemptStatus::from_stored),
            reason: h.reason.clone(),
            report_sha256: h.report_sha256.clone(),
            created_at: h.created_at.clone(),
        }
    }
}

/// Facts read from report.json (spec §2.2), as the report gives them; absent when the report
/// could not be read.
#[derive(Serialize, ToSchema, Debug, Default, serde::Deserialize)]
pub struct ReportFacts {
    /// `meta.model_id`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Value>, nullable = false)]
    pub model_id: Option<Value>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Value>, nullable = false)]
    pub adapter: Option<Value>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Value>, nullable = false)]
    pub device: Option<Value>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Value>, nullable = false)]
    pub commit: Option<Value>,
    /// `meta.ts`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Value>, nullable = false)]
    pub report_ts: Option<Value>,
    /// The InvarLock release that wrote the report.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Value>, nullable = false, example = "0.3.6")]
    pub invarlock_version: Option<Value>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Value>, nullable = false)]
    pub auto: Option<Value>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Value>, nullable = false)]
    pub seed: Option<Value>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Value>, nullable = false)]
    pub seeds: Option<Value>,
    /// `data.*`: dataset, split, seq_len, stride, preview_n, final_n, loss_type and hashes.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Object>, nullable = false)]
    pub data: Option<Value>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Value>, nullable = false)]
    pub provider_digest: Option<Value>,
    /// `context.profile`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Value>, nullable = false, example = "release")]
    pub profile: Option<Value>,
    /// The tokenizer hash (`meta.tokenizer_hash`, else `data.tokenizer_hash`).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, example = "8ad3e32bd327c4395bfb910eb5a4cb74")]
    pub tokenizer_hash: Option<Value>,
    /// `metrics.primary_metric`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Value>, nullable = false)]
    pub primary_metric: Option<Value>,
    /// Window pairing statistics from `metrics`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Object>, nullable = false)]
    pub pairing: Option<Value>,
    /// Guard verdicts: name, passed, action and counts of violations, warnings, errors.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Vec<Object>>, nullable = false)]
    pub guards: Option<Value>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Value>, nullable = false)]
    pub guard_overhead: Option<Value>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Value>, nullable = false)]
    pub flags: Option<Value>,
    /// The edit: name, plan digest, algorithm, deltas.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Object>, nullable = false)]
    pub edit: Option<Value>,
}

/// A fact given as null stays null (`Option<Value>` alone would read null as absent).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    <Value as serde::Deserialize>::deserialize(d).map(Some)
}

/// Everything indexed for one attempt.
#[derive(Serialize, ToSchema, Debug)]
pub struct AttemptDetail {
    #[serde(flatten)]
    pub facts: ReportFacts,
    /// The workspace that holds it (`workspace.id` of its daemon).
    #[schema(example = "gpu-01-ws")]
    pub workspace: String,
    #[schema(example = "rel_quant8/20261128_204341")]
    pub id: String,
    pub nickname: String,
    #[schema(pattern = "^[0-9]{8}_[0-9]{6}$")]
    pub ts: String,
    #[schema(format = DateTime)]
    pub started_at: Option<String>,
    /// The attempt directory.
    pub path: String,
    pub status: AttemptStatus,
    pub reason: Option<String>,
    pub run_id: Option<String>,
    pub report_hash: Option<String>,
    pub subject_digests: SubjectDigests,
    pub report: ReportState,
    pub runner: RunnerState,
    /// What events.jsonl said; null without events.jsonl.
    pub events: Option<EventsSummary>,
    pub files: Vec<AttemptFile>,
    /// The run → baseline mapping of this attempt.
    pub baseline: Option<Mapping>,
    /// Archived report.json copies with the same sha256.
    pub archived_copies: Vec<String>,
    /// Promotions that archived it.
    pub promotions: Vec<String>,
    pub history: Vec<AttemptHistory>,
}

/// events.jsonl as the indexer read it (stored with the attempt, read back here): the
/// domain types, which the schema documents as they are.
pub use crate::report::{EventsSummary, RunnerOutcome};

/// One line of events.jsonl.
#[derive(Serialize, ToSchema, Debug)]
pub struct EventLine {
    /// 1-based line number.
    #[schema(minimum = 1)]
    pub line: u64,
    /// The parsed line, or `{"unparsed": "<first 512 bytes>"}`.
    #[schema(value_type = Object)]
    pub event: Value,
}

impl From<crate::report::EventLine> for EventLine {
    fn from(l: crate::report::EventLine) -> Self {
        EventLine {
            line: l.line,
            event: l.event,
        }
    }
}

/// A page of events.jsonl lines.
#[derive(Serialize, ToSchema, Debug)]
pub struct EventPage {
    pub items: Vec<EventLine>,
    /// Pass as `after` for the next page; null at the end.
    pub next_after: Option<u64>,
    pub next_page_token: Option<String>,
}
