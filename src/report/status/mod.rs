//! The derived attempt status (api.md, §1.3). report.json has no status field: the verdict
//! combines report validity, the events.jsonl runner outcome, guard verdicts and file ages.
//!
//! Age rule: an attempt's *idle time* is measured from the newest of its directory-name timestamp
//! (local time) and the mtimes of the files inside it, never from the directory's own mtime
//! (copying a workspace refreshes directory mtimes, which must not revive old failures). An empty
//! directory is additionally `error` as soon as a newer attempt of the same nickname has files:
//! InvarLock leaves an empty directory only when it fails before the runner starts, so a later
//! attempt proves this one is over.

use super::{EventsSummary, ReportFacts};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Attempt status (spec §1.3). Every status but `pass` carries a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AttemptStatus {
    Pass,
    Fail,
    Error,
    Invalid,
    Running,
}

impl AttemptStatus {
    pub const ALL: [AttemptStatus; 5] = [
        Self::Pass,
        Self::Fail,
        Self::Error,
        Self::Invalid,
        Self::Running,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Error => "error",
            Self::Invalid => "invalid",
            Self::Running => "running",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// A status read back from the index, which stores only these five; anything else
    /// (a corrupt row) reads as `invalid` rather than failing the answer.
    pub fn from_stored(s: &str) -> Self {
        Self::parse(s).unwrap_or(Self::Invalid)
    }
}

impl std::fmt::Display for AttemptStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy)]
pub enum ReportState<'a> {
    Absent,
    /// Present but not a valid report; `age` = time since its last modification.
    Unreadable {
        reason: &'a str,
        age: Duration,
    },
    Valid(&'a ReportFacts),
}

#[derive(Debug, Clone, Copy)]
pub struct StatusInputs<'a> {
    pub report: ReportState<'a>,
    pub events: Option<&'a EventsSummary>,
    /// Whether the directory holds any file at all.
    pub has_files: bool,
    /// Time since the newest of the directory-name timestamp and the file mtimes.
    pub idle: Duration,
    /// A newer attempt of the same nickname that has files (see the module docs).
    pub superseded_by: Option<&'a str>,
    pub settle: Duration,
    pub stale_after: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatusVerdict {
    pub status: AttemptStatus,
    pub reason: Option<String>,
    /// When the verdict can change by time alone (settle or stale_after expiring).
    pub recheck_after: Option<Duration>,
}

fn verdict(status: AttemptStatus, reason: impl Into<String>) -> StatusVerdict {
    StatusVerdict {
        status,
        reason: Some(reason.into()),
        recheck_after: None,
    }
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

pub fn derive_status(i: StatusInputs<'_>) -> StatusVerdict {
    use AttemptStatus::*;
    let stale = i.idle >= i.stale_after;
    let until_stale = i.stale_after.saturating_sub(i.idle);
    let last = i.events.and_then(|e| e.last_runner.as_ref());
    let session_open = i.events.is_some_and(|e| e.session_open);
    match i.report {
        ReportState::Valid(f) => {
            if session_open && last.is_none() && !stale {
                return StatusVerdict {
                    status: Running,
                    reason: Some(
                        "a new session is running; report.json is from an earlier one".into(),
                    ),
                    recheck_after: Some(until_stale),
                };
            }
            if let Some(err) = last.and_then(|o| o.error.as_deref()) {
                return verdict(
                    Fail,
                    format!("the last runner session ended in an error: {err}"),
                );
            }
            match last.and_then(|o| o.status.as_deref()) {
                Some("success") => {}
                Some("rollback") => {
                    return verdict(
                        Fail,
                        "runner status rollback (guards failed; the edit was rolled back)",
                    )
                }
                Some(other) => {
                    return verdict(Fail, format!("runner status {other:?}, not success"))
                }
                None if i.events.is_some() => {
                    return verdict(
                        Fail,
                        "events.jsonl records no runner outcome for the last session",
                    )
                }
                // No events.jsonl at all (e.g. copied reports): judge by the report alone.
                None => {}
            }
            if !f.guards_not_passed.is_empty() {
                return verdict(
                    Fail,
                    format!("guard(s) not passed: {}", f.guards_not_passed.join(", ")),
                );
            }
            if f.overhead_gate_failed {
                return verdict(
                    Fail,
                    "guard-overhead gate failed (guard_overhead.evaluated and not passed)",
                );
            }
            if f.pm_invalid {
                return verdict(Fail, "primary metric is marked invalid");
            }
            StatusVerdict {
                status: Pass,
                reason: None,
                recheck_after: None,
            }
        }
        ReportState::Unreadable { reason, age } => {
            if age < i.settle {
                StatusVerdict {
                    status: Running,
                    reason: Some(format!("report.json is being written ({reason})")),
                    recheck_after: Some(i.settle - age),
                }
            } else {
                verdict(Invalid, reason)
            }
        }
        ReportState::Absent => {
            if let Some(err) = last.and_then(|o| o.error.as_deref()) {
                return verdict(Error, format!("runner error: {err}"));
            }
            if !i.has_files {
                if let Some(newer) = i.superseded_by {
                    return verdict(
                        Error,
                        format!("empty attempt directory (the run failed before the runner started); a newer attempt {newer} exists"),
                    );
                }
                // Reasons name the configured threshold, not the idle time: a restart or a
                // rebuilt index derives them again later and must give the same answers.
                if stale {
                    return verdict(
                        Error,
                        format!("empty attempt directory, idle for over {} (the run failed before the runner started)", human(i.stale_after)),
                    );
                }
                return StatusVerdict {
                    status: Running,
                    reason: Some("empty attempt directory: the run is starting".into()),
                    recheck_after: Some(until_stale),
                };
            }
            if stale {
                return match last.and_then(|o| o.status.as_deref()) {
                    Some(st) => verdict(
                        Error,
                        format!("runner finished ({st}) but no report.json was written"),
                    ),
                    None => verdict(
                        Error,
                        format!(
                            "abandoned: no report.json and no activity for over {}",
                            human(i.stale_after)
                        ),
                    ),
                };
            }
            if i.events
                .is_some_and(|e| !e.session_open && e.sessions > 0 && e.last_runner.is_none())
            {
                return verdict(
                    Error,
                    "the last session ended without a runner outcome and no report.json",
                );
            }
            let why = match last.and_then(|o| o.status.as_deref()) {
                Some(st) => format!("runner finished ({st}); waiting for report.json"),
                None => "no report.json yet; the run is in progress".to_string(),
            };
            StatusVerdict {
                status: Running,
                reason: Some(why),
                recheck_after: Some(until_stale),
            }
        }
    }
}

#[cfg(test)]
mod tests;
