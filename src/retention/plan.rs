//! Pure retention planning: which attempt directories to delete and which to keep, each with the
//! rule that decided it. No I/O here, so the invariants can be property-tested.

use crate::domain::AttemptId;
use crate::report::AttemptStatus;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub keep_last: u32,
    #[serde(with = "secs")]
    pub keep_within: Duration,
    #[serde(with = "secs")]
    pub failed_keep_within: Duration,
}

mod secs {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_str(&humantime::format_duration(*d))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<std::time::Duration, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(d)?;
        humantime::parse_duration(&text).map_err(serde::de::Error::custom)
    }
}

/// One attempt as retention sees it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: AttemptId,
    pub status: AttemptStatus,
    pub bytes: u64,
    /// Its report.json is archived under `reports/` with the same sha256 (and where).
    pub archived_as: Option<String>,
}

/// A subject attempt paired with a baseline attempt (from the mappings).
#[derive(Debug, Clone)]
pub struct Pairing {
    pub subject: AttemptId,
    pub baseline: AttemptId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub attempt: String,
    pub bytes: u64,
    pub status: AttemptStatus,
    /// The rule that decided, e.g. `protected: newest attempt of "quant8"`.
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub delete: Vec<Decision>,
    pub keep: Vec<Decision>,
}

/// Why an attempt can never be deleted, whatever the policy (api.md "Retention policy").
fn protection(
    c: &Candidate,
    newest: &AttemptId,
    newest_pass: Option<&AttemptId>,
) -> Option<String> {
    if &c.id == newest {
        return Some(format!(
            "protected: newest attempt of {:?}",
            c.id.nickname.as_str()
        ));
    }
    if Some(&c.id) == newest_pass {
        return Some(format!(
            "protected: newest pass of {:?}",
            c.id.nickname.as_str()
        ));
    }
    if c.status == AttemptStatus::Running {
        return Some("protected: running".into());
    }
    if c.status == AttemptStatus::Pass && c.archived_as.is_none() {
        return Some(
            "protected: pass whose report.json is not archived in reports/ with the same sha256"
                .into(),
        );
    }
    None
}

fn age(newest: &AttemptId, c: &AttemptId) -> Duration {
    (newest.ts.naive() - c.ts.naive())
        .to_std()
        .unwrap_or_default()
}

/// Plans retention over all attempts. Groups are per nickname; ages are measured back from each
/// nickname's newest attempt (restic-style), so a quiet nickname keeps its history.
pub fn plan(candidates: &[Candidate], pairings: &[Pairing], policy: &Policy) -> Plan {
    let mut groups: BTreeMap<&str, Vec<&Candidate>> = BTreeMap::new();
    for c in candidates {
        groups.entry(c.id.nickname.as_str()).or_default().push(c);
    }
    let mut keep: BTreeMap<AttemptId, String> = BTreeMap::new();
    let mut delete: BTreeMap<AttemptId, String> = BTreeMap::new();
    for list in groups.values_mut() {
        list.sort_by_key(|c| std::cmp::Reverse(c.id.ts));
        let newest = &list[0].id;
        let newest_pass = list
            .iter()
            .find(|c| c.status == AttemptStatus::Pass)
            .map(|c| &c.id);
        for (rank, c) in list.iter().enumerate() {
            let a = age(newest, &c.id);
            let failed = matches!(
                c.status,
                AttemptStatus::Fail | AttemptStatus::Error | AttemptStatus::Invalid
            );
            let window = if failed {
                policy.failed_keep_within
            } else {
                policy.keep_within
            };
            let window_name = if failed {
                "failed_keep_within"
            } else {
                "keep_within"
            };
            let verdict = if let Some(p) = protection(c, newest, newest_pass) {
                Ok(p)
            } else if (rank as u64) < policy.keep_last as u64 {
                Ok(format!(
                    "keep_last: #{} of the {} newest",
                    rank + 1,
                    policy.keep_last
                ))
            } else if a < window {
                Ok(format!(
                    "{window_name}: {} behind the newest attempt",
                    humantime::format_duration(a)
                ))
            } else {
                let archived = c
                    .archived_as
                    .as_deref()
                    .map(|n| format!("; report archived as {n}"))
                    .unwrap_or_default();
                Err(format!(
                    "{}beyond keep_last={} and {} behind the newest attempt (>= {window_name}={}){archived}",
                    if failed { "failed attempt " } else { "superseded: " },
                    policy.keep_last,
                    humantime::format_duration(a),
                    humantime::format_duration(window)
                ))
            };
            match verdict {
                Ok(r) => keep.insert(c.id.clone(), r),
                Err(r) => delete.insert(c.id.clone(), r),
            };
        }
    }
    // A kept, un-archived subject still needs its baseline to be re-certified: rescue baselines
    // until nothing changes (a rescued baseline may itself be such a subject).
    let by_id: BTreeMap<&AttemptId, &Candidate> = candidates.iter().map(|c| (&c.id, c)).collect();
    loop {
        let mut rescued = BTreeSet::new();
        for p in pairings {
            let subject_needs = keep.contains_key(&p.subject)
                && by_id
                    .get(&p.subject)
                    .is_some_and(|c| c.archived_as.is_none());
            if subject_needs && delete.contains_key(&p.baseline) {
                rescued.insert((p.baseline.clone(), p.subject.clone()));
            }
        }
        if rescued.is_empty() {
            break;
        }
        for (baseline, subject) in rescued {
            delete.remove(&baseline);
            keep.insert(
                baseline,
                format!("protected: baseline of kept, un-archived subject {subject}"),
            );
        }
    }
    let decision = |(id, reason): (AttemptId, String)| {
        let c = by_id[&id];
        Decision {
            attempt: id.to_string(),
            bytes: c.bytes,
            status: c.status,
            reason,
        }
    };
    Plan {
        delete: delete.into_iter().map(decision).collect(),
        keep: keep.into_iter().map(decision).collect(),
    }
}
