//! A full rebuild must agree with a plain model of the pairing rules, and incremental
//! re-derivation with a full rebuild, after every step of any history of arrivals, changes and
//! removals. Values come from tiny domains so that fingerprints, dataset
//! hashes and timestamps collide often (the cases where choice and counts are decided).

use super::*;
use crate::storage::sqlite::{attempts as sql, retention as sql_retention};
use crate::storage::{attempts, Storage};
use proptest::prelude::*;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
enum Op {
    /// Writes (inserts or rewrites) the attempt.
    Put(Box<attempts::AttemptRow>),
    /// Removes attempt number `n` of the id space, if present.
    Remove(usize),
}

const NICKS: [&str; 3] = ["baseline", "quant8", "team/q4"];
const TIMES: [&str; 5] = [
    "20260101_000000",
    "20260101_000100",
    "20260101_000200",
    "20260101_000300",
    "20260101_000400",
];

fn id_of(n: usize) -> (String, String, String) {
    let (nick, ts) = (NICKS[n % NICKS.len()], TIMES[n / NICKS.len() % TIMES.len()]);
    (format!("{nick}/{ts}"), nick.to_string(), ts.to_string())
}

fn pick(values: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop::sample::select(values).prop_map(str::to_string))
}

prop_compose! {
    fn row()(
        n in 0..NICKS.len() * TIMES.len(),
        final_logloss_fp in pick(&["A", "B"]),
        baseline_fp in pick(&["A", "B"]),
        dataset_hash in pick(&["d1", "d2"]),
        events_dataset_hash in pick(&["d1", "d2"]),
        ids_sha256 in pick(&["i1"]),
        tokenizer_hash in pick(&["t1"]),
        paired in any::<bool>(),
        report_valid in prop::bool::weighted(0.8),
        status in prop::sample::select(&["pass", "fail", "running"][..]),
        report_size in prop::option::of(0i64..1000),
    ) -> attempts::AttemptRow {
        let (id, nickname, ts) = id_of(n);
        attempts::AttemptRow {
            dir: format!("/w/runs/{id}"),
            id, nickname, ts,
            status: status.into(),
            listing_digest: "x".into(),
            final_logloss_fp, baseline_fp, dataset_hash, events_dataset_hash,
            ids_sha256, tokenizer_hash, paired, report_valid, report_size,
            ..Default::default()
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => row().prop_map(|r| Op::Put(Box::new(r))),
        1 => (0..NICKS.len() * TIMES.len()).prop_map(Op::Remove),
    ]
}

type Snapshot = Vec<(String, Option<String>, String, String, i64)>;

async fn snapshot(tx: &mut Tx<'_>) -> Snapshot {
    sqlx::query_as(
        "select subject, baseline_attempt, how, confidence, candidates from mappings order by subject",
    )
    .fetch_all(&mut **tx)
    .await
    .unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A migrated index in a temp dir (kept alive by the returned guard).
async fn fresh_store() -> (tempfile::TempDir, Storage) {
    let dir = tempfile::tempdir().unwrap();
    let store = Storage::open_test(&dir.path().join("index.db")).await;
    (dir, store)
}

/// Applies one operation the way `Indexer::refresh_paths` does: ask, write, ask, re-derive.
async fn apply_incrementally(tx: &mut Tx<'_>, op: &Op) {
    let id = match op {
        Op::Put(r) => r.id.clone(),
        Op::Remove(n) => id_of(*n).0,
    };
    let ids = std::slice::from_ref(&id);
    let mut affected = subjects_before_change(tx, ids).await.unwrap();
    match op {
        Op::Put(r) => {
            let files: Vec<attempts::FileRow> = r
                .report_size
                .map(|size| attempts::FileRow {
                    name: "report.json".into(),
                    size,
                    mtime_ns: 0,
                    sha256: None,
                })
                .into_iter()
                .collect();
            sql::upsert(tx, r, &files, None).await.unwrap();
            affected.extend(subjects_after_change(tx, ids).await.unwrap());
        }
        Op::Remove(_) => {
            sql::remove(tx, &id).await.unwrap();
        }
    }
    affected.sort();
    affected.dedup();
    rebuild_subjects(tx, &affected).await.unwrap();
}

type Fits<'a> = Box<dyn Fn(&attempts::AttemptRow) -> bool + 'a>;

/// The pairing-evidence rules of `derive.rs`, written plainly over the rows in memory.
fn model(rows: &BTreeMap<String, attempts::AttemptRow>) -> Snapshot {
    let mut out = Snapshot::new();
    for s in rows.values() {
        let (fits, kind_confidence): (Fits, [&str; 2]) = if let Some(fp) = &s.baseline_fp {
            let dh = s.dataset_hash.clone().or(s.events_dataset_hash.clone());
            let fits = move |b: &attempts::AttemptRow| {
                b.final_logloss_fp.as_ref() == Some(fp)
                    && (dh.is_none() || b.dataset_hash.is_none() || b.dataset_hash == dh)
            };
            (Box::new(fits), ["high", "medium"])
        } else if s.paired && s.report_valid && s.dataset_hash.is_some() {
            let fits = |b: &attempts::AttemptRow| {
                b.dataset_hash == s.dataset_hash
                    && b.ids_sha256 == s.ids_sha256
                    && b.tokenizer_hash == s.tokenizer_hash
                    && !b.paired
                    && b.report_valid
            };
            (Box::new(fits), ["medium", "low"])
        } else {
            continue;
        };
        let fitting: Vec<&attempts::AttemptRow> =
            rows.values().filter(|b| b.id != s.id && fits(b)).collect();
        let key = |b: &&&attempts::AttemptRow| (b.ts.clone(), b.id.clone());
        let chosen = fitting
            .iter()
            .filter(|b| b.ts <= s.ts)
            .max_by_key(key)
            .or_else(|| fitting.iter().filter(|b| b.ts > s.ts).min_by_key(key));
        if let Some(b) = chosen {
            let n = fitting.len().min(2);
            out.push((
                s.id.clone(),
                Some(b.id.clone()),
                "pairing_evidence".into(),
                kind_confidence[n - 1].into(),
                n as i64,
            ));
        }
    }
    out
}

fn check(history: Vec<Op>) -> Result<(), TestCaseError> {
    runtime().block_on(async {
        let (_dir, store) = fresh_store().await;
        let live = store.sqlite();
        let mut tx = live.index().begin().await.unwrap();
        let mut rows = BTreeMap::new();
        for (step, op) in history.iter().enumerate() {
            apply_incrementally(&mut tx, op).await;
            match op {
                Op::Put(r) => rows.insert(r.id.clone(), (**r).clone()),
                Op::Remove(n) => rows.remove(&id_of(*n).0),
            };
            let incremental = snapshot(&mut tx).await;
            rebuild(&mut tx).await.unwrap();
            let full = snapshot(&mut tx).await;
            prop_assert_eq!(
                &full,
                &model(&rows),
                "full rebuild after step {} ({:?})",
                step,
                op
            );
            prop_assert_eq!(
                incremental,
                full,
                "incremental after step {} ({:?})",
                step,
                op
            );
        }
        Ok(())
    })
}

/// The trigger-kept counts and bytes behind `/v1/status` equal a count of the rows after every
/// step.
fn check_counts(history: Vec<Op>) -> Result<(), TestCaseError> {
    runtime().block_on(async {
        let (_dir, store) = fresh_store().await;
        let live = store.sqlite();
        for op in &history {
            let mut tx = live.index().begin().await.unwrap();
            apply_incrementally(&mut tx, op).await;
            tx.commit().await.unwrap();
            let pool = live.index().reader();
            let mut kept = sql::count_by_status(pool).await.unwrap();
            kept.sort();
            let counted: Vec<(String, i64)> =
                sqlx::query_as("select status, count(*) from attempts group by status order by 1")
                    .fetch_all(pool)
                    .await
                    .unwrap();
            prop_assert_eq!(kept, counted);
            let (nicks,): (i64,) = sqlx::query_as("select count(distinct nickname) from attempts")
                .fetch_one(pool)
                .await
                .unwrap();
            prop_assert_eq!(sql::nickname_count(pool).await.unwrap(), nicks);
            let (bytes,): (i64,) =
                sqlx::query_as("select coalesce(sum(size), 0) from attempt_files")
                    .fetch_one(pool)
                    .await
                    .unwrap();
            let runs = sql_retention::runs_bytes(pool).await.unwrap();
            prop_assert_eq!(runs, bytes);
        }
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn incremental_mappings_always_equal_a_full_rebuild(history in prop::collection::vec(op(), 1..40)) {
        check(history)?;
    }

    #[test]
    fn status_counts_and_bytes_always_match_the_rows(history in prop::collection::vec(op(), 1..30)) {
        check_counts(history)?;
    }
}
