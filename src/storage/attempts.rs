//! Rows of the attempts side of the index: attempts, their files and history, unrecognized
//! entries. Backend-neutral (the `FromRow` derives are generic over the database); the SQL is in
//! `storage::sqlite::attempts`.

use serde::{Deserialize, Serialize};

/// The columns of an attempt, listed once. `with_attempt_columns!(m)` calls `m!` with the
/// list; it defines [`AttemptRow`] here and the insert/upsert (column names and binds) of each
/// backend, so a column is added in exactly one place.
macro_rules! with_attempt_columns {
    ($m:ident) => {
        $m! {
            id: String,
            nickname: String,
            ts: String,
            started_at: Option<String>,
            dir: String,
            status: String,
            reason: Option<String>,
            report_size: Option<i64>,
            report_mtime_ns: Option<i64>,
            report_sha256: Option<String>,
            events_size: Option<i64>,
            events_mtime_ns: Option<i64>,
            listing_digest: String,
            newest_mtime_ns: Option<i64>,
            report_valid: bool,
            report_error: Option<String>,
            model_id: Option<String>,
            adapter: Option<String>,
            edit_name: Option<String>,
            profile: Option<String>,
            seed: Option<i64>,
            dataset_hash: Option<String>,
            preview_hash: Option<String>,
            final_hash: Option<String>,
            tokenizer_hash: Option<String>,
            ids_sha256: Option<String>,
            pm_kind: Option<String>,
            paired: bool,
            window_pairing_reason: Option<String>,
            final_logloss_fp: Option<String>,
            run_id: Option<String>,
            report_hash: Option<String>,
            subject_run_id: Option<String>,
            subject_report_hash: Option<String>,
            guards_not_passed: Option<String>,
            overhead_gate_failed: bool,
            pm_invalid: bool,
            detail: Option<String>,
            events_summary: Option<String>,
            runner_status: Option<String>,
            runner_error: Option<String>,
            sessions: Option<i64>,
            session_open: bool,
            baseline_fp: Option<String>,
            events_dataset_hash: Option<String>,
        }
    };
}
pub(crate) use with_attempt_columns;

macro_rules! define_attempt_row {
    ($($col:ident: $ty:ty,)*) => {
        /// One attempt row, as written by the indexer and read by the API.
        #[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
        pub struct AttemptRow {
            $(pub $col: $ty,)*
            /// The workspace that indexed it: not one of the written columns (a write always goes
            /// to the daemon's own workspace), read where the database holds several.
            #[sqlx(default)]
            pub workspace: String,
        }

        impl AttemptRow {
            /// Column names in declaration order (`id` first: the conflict key).
            pub const COLUMNS: &'static [&'static str] = &[$(stringify!($col)),*];
        }
    };
}
with_attempt_columns!(define_attempt_row);

/// An attempt to write in a batch, with its file list and the history event it makes
/// (`indexed` for a new attempt, `updated` for a changed one, none for a rewrite that changed
/// nothing visible).
#[derive(Debug, Clone, Copy)]
pub struct AttemptWrite<'a> {
    pub row: &'a AttemptRow,
    pub files: &'a [FileRow],
    pub event: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct FileRow {
    pub name: String,
    pub size: i64,
    pub mtime_ns: i64,
    pub sha256: Option<String>,
}

/// What the scanner compares to decide whether an attempt must be read again (keyed by id;
/// a full scan holds one per attempt, so nothing else is in it).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Fingerprint {
    pub listing_digest: String,
    pub status: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct HistoryRow {
    pub seq: i64,
    pub event: String,
    pub status: Option<String>,
    pub reason: Option<String>,
    pub report_sha256: Option<String>,
    pub created_at: String,
}

/// What a listing shows of an attempt: the columns of `AttemptRow` that a page needs, without
/// the large ones (`detail`, `events_summary`, ...), which a 100-row page would otherwise read,
/// copy and free for nothing (they were most of the cost of `GET /v1/attempts`, issue 16).
///
/// Read from the JSON objects of [`AttemptPageJson`] (keys in [`AttemptSummaryRow::JSON`]).
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow, Deserialize)]
pub struct AttemptSummaryRow {
    #[sqlx(default)]
    #[serde(default)]
    pub workspace: String,
    pub id: String,
    pub nickname: String,
    pub ts: String,
    pub started_at: Option<String>,
    pub status: String,
    pub reason: Option<String>,
    pub model_id: Option<String>,
    #[serde(rename = "edit")]
    pub edit_name: Option<String>,
    pub profile: Option<String>,
    pub dataset_hash: Option<String>,
    pub tokenizer_hash: Option<String>,
    pub ids_sha256: Option<String>,
    #[serde(rename = "primary_metric_kind")]
    pub pm_kind: Option<String>,
    pub run_id: Option<String>,
    pub report_hash: Option<String>,
    pub report_sha256: Option<String>,
}

impl AttemptSummaryRow {
    /// The select list of the columns above.
    pub const COLUMNS: &'static str = "id, nickname, ts, started_at, status, reason, model_id, \
        edit_name, profile, dataset_hash, tokenizer_hash, ids_sha256, pm_kind, run_id, \
        report_hash, report_sha256";

    /// (JSON key, column) of each member of a listed attempt, in order: the list view of the
    /// API (`http::types::AttemptSummary`, whose test checks that both give the same JSON).
    /// (`status` needs no translation: the table's CHECK constraint holds it to the API's
    /// values.)
    /// `workspace` is a column where the database holds several; SQLite, which holds only the
    /// daemon's own, writes that id in its place.
    pub const JSON: &'static [(&'static str, &'static str)] = &[
        ("workspace", "workspace"),
        ("id", "id"),
        ("nickname", "nickname"),
        ("ts", "ts"),
        ("started_at", "started_at"),
        ("status", "status"),
        ("reason", "reason"),
        ("model_id", "model_id"),
        ("edit", "edit_name"),
        ("profile", "profile"),
        ("dataset_hash", "dataset_hash"),
        ("tokenizer_hash", "tokenizer_hash"),
        ("ids_sha256", "ids_sha256"),
        ("primary_metric_kind", "pm_kind"),
        ("run_id", "run_id"),
        ("report_hash", "report_hash"),
        ("report_sha256", "report_sha256"),
    ];
}

/// A page of attempts already as JSON, built by the database: a listing is served by splicing
/// these bytes, never by parsing and re-serialising rows (issue 16: that was most of the CPU of
/// a page).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttemptPageJson {
    /// The members of the `items` array, without brackets: one object per attempt (keys in
    /// [`AttemptSummaryRow::JSON`]), comma-separated, newest first.
    pub items: String,
    /// How many objects `items` holds.
    pub len: usize,
    /// The key to continue after, if there is more.
    pub next: Option<AttemptKey>,
}

impl AttemptPageJson {
    /// The objects as rows (tests and callers that need fields rather than bytes).
    pub fn rows(&self) -> Result<Vec<AttemptSummaryRow>, serde_json::Error> {
        serde_json::from_str(&format!("[{}]", self.items))
    }
}

/// Filters of `GET /v1/attempts`, already validated by the HTTP layer.
#[derive(Debug, Clone, Default)]
pub struct AttemptFilter {
    /// Only this workspace's attempts (None: every workspace of the database).
    pub workspace: Option<String>,
    pub nickname: Option<String>,
    pub status: Option<String>,
    pub model_id: Option<String>,
    pub edit: Option<String>,
    pub dataset_hash: Option<String>,
    pub tokenizer_hash: Option<String>,
    pub ids_sha256: Option<String>,
    /// Inclusive bounds on the directory timestamp (`YYYYMMDD_HHMMSS`, local time).
    pub since_ts: Option<String>,
    pub until_ts: Option<String>,
}

/// Keyset position: attempts are listed newest first by (ts, id).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AttemptKey {
    pub ts: String,
    pub id: String,
    /// Breaks ties between workspaces that hold the same id (listing order is ts, id,
    /// workspace, all descending). Absent from keys made before workspaces existed.
    #[serde(default)]
    pub workspace: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct UnrecognizedRow {
    #[sqlx(default)]
    pub workspace: String,
    pub path: String,
    pub kind: String,
    pub reason: String,
}
