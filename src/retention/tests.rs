use super::plan::*;
use crate::domain::{AttemptId, AttemptTs, Nickname};
use crate::report::AttemptStatus;
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::time::Duration;

fn id(nick: &str, minutes: u32) -> AttemptId {
    let t = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        + chrono::Duration::minutes(minutes as i64);
    AttemptId {
        nickname: Nickname::parse(nick).unwrap(),
        ts: AttemptTs::parse(&t.format("%Y%m%d_%H%M%S").to_string()).unwrap(),
    }
}

fn status() -> impl Strategy<Value = AttemptStatus> {
    prop::sample::select(AttemptStatus::ALL.to_vec())
}

prop_compose! {
    fn workspace()(
        attempts in prop::collection::vec(
            (0usize..4, 0u32..30 * 24 * 60, status(), any::<bool>(), 0u64..1_000_000), 1..40),
        pair_picks in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 0..10),
    ) -> (Vec<Candidate>, Vec<Pairing>) {
        let nicks = ["baseline", "quant8", "team/q4", "drift"];
        let mut seen = BTreeSet::new();
        let candidates: Vec<Candidate> = attempts
            .into_iter()
            .filter(|(n, m, ..)| seen.insert((*n, *m)))
            .map(|(n, m, status, archived, bytes)| Candidate {
                id: id(nicks[n], m),
                status,
                bytes,
                archived_as: archived.then(|| format!("reports/{}", nicks[n].replace('/', "_"))),
            })
            .collect();
        let pairings = pair_picks
            .into_iter()
            .map(|(s, b)| Pairing {
                subject: s.get(&candidates).id.clone(),
                baseline: b.get(&candidates).id.clone(),
            })
            .collect();
        (candidates, pairings)
    }
}

prop_compose! {
    fn policy()(keep_last in 0u32..5, within in 0u64..20, failed in 0u64..20) -> Policy {
        Policy {
            keep_last,
            keep_within: Duration::from_secs(within * 86_400),
            failed_keep_within: Duration::from_secs(failed * 86_400),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn no_plan_ever_condemns_a_protected_attempt((candidates, pairings) in workspace(), policy in policy()) {
        let plan = plan(&candidates, &pairings, &policy);
        let deleted: BTreeSet<&str> = plan.delete.iter().map(|d| d.attempt.as_str()).collect();
        let kept: BTreeSet<&str> = plan.keep.iter().map(|d| d.attempt.as_str()).collect();
        prop_assert_eq!(deleted.len() + kept.len(), candidates.len());
        prop_assert!(deleted.is_disjoint(&kept));
        for c in &candidates {
            let same: Vec<&Candidate> = candidates.iter().filter(|o| o.id.nickname == c.id.nickname).collect();
            let newest = same.iter().map(|o| o.id.ts).max().unwrap();
            let newest_pass = same.iter().filter(|o| o.status == AttemptStatus::Pass).map(|o| o.id.ts).max();
            let protected = c.id.ts == newest
                || Some(c.id.ts) == newest_pass
                || c.status == AttemptStatus::Running
                || (c.status == AttemptStatus::Pass && c.archived_as.is_none());
            if protected {
                prop_assert!(!deleted.contains(c.id.to_string().as_str()), "condemned protected {}", c.id);
            }
        }
        for p in &pairings {
            let subject = candidates.iter().find(|c| c.id == p.subject).unwrap();
            if kept.contains(p.subject.to_string().as_str()) && subject.archived_as.is_none() {
                prop_assert!(!deleted.contains(p.baseline.to_string().as_str()), "condemned baseline {} of {}", p.baseline, p.subject);
            }
        }
    }
}

#[test]
fn superseded_archived_attempts_and_old_failures_go_and_each_kept_one_says_why() {
    let c = |nick, m, status, archived: bool| Candidate {
        id: id(nick, m),
        status,
        bytes: 10,
        archived_as: archived.then(|| "reports/x".to_string()),
    };
    let candidates = vec![
        c("q8", 0, AttemptStatus::Pass, true),
        c("q8", 10, AttemptStatus::Error, false),
        c("q8", 20, AttemptStatus::Pass, true),
        c("q8", 30, AttemptStatus::Fail, false),
        c("base", 0, AttemptStatus::Pass, true),
        c("base", 5, AttemptStatus::Pass, false),
    ];
    let policy = Policy {
        keep_last: 1,
        keep_within: Duration::ZERO,
        failed_keep_within: Duration::ZERO,
    };
    let p = plan(&candidates, &[], &policy);
    let ids = |v: &[Decision]| v.iter().map(|d| d.attempt.clone()).collect::<Vec<_>>();
    assert_eq!(
        ids(&p.delete),
        vec![
            "base/20260101_000000",
            "q8/20260101_000000",
            "q8/20260101_001000"
        ]
    );
    assert!(
        p.keep.iter().all(|d| d.reason.starts_with("protected")),
        "{:#?}",
        p.keep
    );
    assert!(p.delete[2].reason.starts_with("failed attempt"));
}
