//! The typed forms of what a plan stores: the plan itself and the snapshot that apply checks.
//! Parsed strictly (unknown fields refused, nothing defaulted): a stored plan that does not
//! parse stops the operation with `RetentionError::Corrupt` instead of reading as "empty".

use super::plan::{Decision, Plan};
use super::RetentionError;
use crate::storage::retention::CandidateRow;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One attempt of a plan, as shown and as applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanItem {
    pub attempt: String,
    /// Its directory relative to the workspace root.
    pub path: Option<String>,
    pub bytes: u64,
    pub status: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Totals {
    pub delete_count: u64,
    pub delete_bytes: u64,
    pub keep_count: u64,
    pub keep_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanBody {
    pub delete: Vec<PlanItem>,
    pub keep: Vec<PlanItem>,
    pub totals: Totals,
}

/// What apply requires unchanged of one attempt: `[listing_digest, status, archived_as]`
/// (a JSON array, the form plans have always been stored in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapAttempt(pub String, pub String, pub Option<String>);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub attempts: BTreeMap<String, SnapAttempt>,
    pub nicknames: BTreeMap<String, Vec<String>>,
}

impl Snapshot {
    pub fn of(rows: &[CandidateRow]) -> Snapshot {
        let mut s = Snapshot {
            attempts: BTreeMap::new(),
            nicknames: BTreeMap::new(),
        };
        for r in rows {
            s.attempts.insert(
                r.id.clone(),
                SnapAttempt(
                    r.listing_digest.clone(),
                    r.status.clone(),
                    r.archived_as.clone(),
                ),
            );
            if let Ok(id) = crate::domain::AttemptId::parse(&r.id) {
                s.nicknames
                    .entry(id.nickname.to_string())
                    .or_default()
                    .push(r.id.clone());
            }
        }
        s
    }
}

impl PlanBody {
    pub fn of(plan: &Plan, dirs: &BTreeMap<String, String>) -> PlanBody {
        let item = |d: &Decision| PlanItem {
            attempt: d.attempt.clone(),
            path: dirs.get(&d.attempt).cloned(),
            bytes: d.bytes,
            status: d.status.as_str().to_string(),
            reason: d.reason.clone(),
        };
        let sum = |v: &[Decision]| v.iter().map(|d| d.bytes).sum::<u64>();
        PlanBody {
            delete: plan.delete.iter().map(item).collect(),
            keep: plan.keep.iter().map(item).collect(),
            totals: Totals {
                delete_count: plan.delete.len() as u64,
                delete_bytes: sum(&plan.delete),
                keep_count: plan.keep.len() as u64,
                keep_bytes: sum(&plan.keep),
            },
        }
    }
}

/// Parses one stored field of plan `id`, failing closed.
pub fn parse<T: serde::de::DeserializeOwned>(
    id: &str,
    what: &str,
    text: &str,
) -> Result<T, RetentionError> {
    serde_json::from_str(text)
        .map_err(|e| RetentionError::Corrupt(format!("plan {id}: stored {what} is corrupt: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_corrupt_snapshot_is_an_error_and_never_reads_as_nothing_changed() {
        for bad in [
            "",
            "{}",
            "null",
            r#"{"attempts":{"a/20260101_000000":"x"},"nicknames":{}}"#,
        ] {
            let r: Result<Snapshot, _> = parse("rp-1", "snapshot", bad);
            assert!(
                matches!(r, Err(RetentionError::Corrupt(_))),
                "{bad:?} parsed"
            );
        }
        let ok = r#"{"attempts":{"a/20260101_000000":["d","pass","reports/a/report.json"]},"nicknames":{"a":["a/20260101_000000"]}}"#;
        let s: Snapshot = parse("rp-1", "snapshot", ok).unwrap();
        assert_eq!(
            s.attempts["a/20260101_000000"].2.as_deref(),
            Some("reports/a/report.json")
        );
    }

    #[test]
    fn a_plan_item_missing_its_path_or_bytes_is_corrupt() {
        let bad = r#"{"delete":[{"attempt":"a/20260101_000000","status":"fail","reason":"r"}],"keep":[],"totals":{"delete_count":1,"delete_bytes":0,"keep_count":0,"keep_bytes":0}}"#;
        let r: Result<PlanBody, _> = parse("rp-1", "plan", bad);
        assert!(matches!(r, Err(RetentionError::Corrupt(_))));
    }
}
