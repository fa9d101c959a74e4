//! What the indexer reads from a run: report.json (§2), events.jsonl (§1.4), the derived attempt
//! status (§1.3), the run identity digests (§5.4) and the baseline window check (§2.4 A–B).
//!
//! Everything here is pure (bytes in, facts out) so it can run on a blocking thread and be tested
//! without a filesystem.

mod digest;
mod events;
mod facts;
mod status;
mod windows;

pub use digest::{logloss_fingerprint, report_hash, run_id, subject_digests};
pub use events::{read_events_page, EventLine, EventsScanner, EventsSummary, RunnerOutcome};
pub use facts::{analyze_report, parse_report_value, validate_report, ReportAnalysis, ReportFacts};
pub use status::{derive_status, AttemptStatus, ReportState, StatusInputs, StatusVerdict};
pub use windows::validate_baseline_windows;

/// Object paths holding token arrays: the bulk of a report's bytes, never needed for indexing.
pub const SKIPPED_PATHS: &[&[&str]] = &[
    &["evaluation_windows", "preview", "input_ids"],
    &["evaluation_windows", "preview", "attention_masks"],
    &["evaluation_windows", "preview", "labels"],
    &["evaluation_windows", "final", "input_ids"],
    &["evaluation_windows", "final", "attention_masks"],
    &["evaluation_windows", "final", "labels"],
];
