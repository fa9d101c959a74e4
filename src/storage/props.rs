//! Properties of the index on both backends, through the storage API as the indexer uses it.
//! A full rebuild must agree with a plain model of the pairing rules, and incremental
//! re-derivation with a full rebuild, after every step of any history of arrivals, changes and
//! removals; the trigger-kept counters must equal a count of the rows. Values come from tiny domains so that fingerprints, dataset
//! hashes and timestamps collide often (the cases where choice and counts are decided).

use crate::storage::attempts::{self, AttemptFilter, AttemptWrite};
use crate::storage::testing::TestDb;
use crate::storage::Storage;
use proptest::prelude::*;
use proptest::test_runner::{TestError, TestRunner};
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

async fn snapshot(store: &Storage) -> Snapshot {
    // Scoped: on PostgreSQL earlier cases are other workspaces of the same database.
    let own = Some(store.workspace().as_str());
    let (rows, _) = store.mappings_page(own, None, 10_000).await.unwrap();
    rows.into_iter()
        .map(|m| {
            (
                m.subject,
                m.baseline_attempt,
                m.how,
                m.confidence,
                m.candidates,
            )
        })
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Where each case's fresh, empty index is made.
#[derive(Clone, Copy)]
enum Backend<'a> {
    Sqlite,
    /// A database shared by the cases of one run: each case is a workspace of its own (its own
    /// schema), which is what a fresh index is there.
    Postgres(&'a str),
}

async fn fresh_store(backend: Backend<'_>) -> (Option<tempfile::TempDir>, Storage) {
    static CASE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let store = Storage::open_test(&dir.path().join("index.db")).await;
            (Some(dir), store)
        }
        Backend::Postgres(url) => {
            let n = CASE.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let id = crate::domain::WorkspaceId::parse(&format!("case-{n}")).unwrap();
            let store = Storage::open_postgres(url, &id, None).await.unwrap();
            store.register_workspace().await.unwrap();
            (None, store)
        }
    }
}

fn files_of(r: &attempts::AttemptRow) -> Vec<attempts::FileRow> {
    r.report_size
        .map(|size| attempts::FileRow {
            name: "report.json".into(),
            size,
            mtime_ns: 0,
            sha256: None,
        })
        .into_iter()
        .collect()
}

/// Applies one operation the way `Indexer::refresh_paths` does: ask, write, ask, re-derive.
async fn apply_incrementally(store: &Storage, op: &Op) {
    match op {
        Op::Put(r) => {
            let files = files_of(r);
            let ids = std::slice::from_ref(&r.id);
            let batch = [AttemptWrite {
                row: r,
                files: &files,
                event: None,
            }];
            let before = store.write_attempts(&batch, Some(ids)).await.unwrap();
            store.rederive_mappings(&before, ids).await.unwrap();
        }
        Op::Remove(n) => {
            let ids = [id_of(*n).0];
            let (_, before) = store.remove_attempts(&ids, true).await.unwrap();
            store.rederive_mappings(&before, &[]).await.unwrap();
        }
    }
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

fn check(history: Vec<Op>, backend: Backend<'_>) -> Result<(), TestCaseError> {
    runtime().block_on(async {
        let (_dir, store) = fresh_store(backend).await;
        let mut rows = BTreeMap::new();
        for (step, op) in history.iter().enumerate() {
            apply_incrementally(&store, op).await;
            match op {
                Op::Put(r) => rows.insert(r.id.clone(), (**r).clone()),
                Op::Remove(n) => rows.remove(&id_of(*n).0),
            };
            let incremental = snapshot(&store).await;
            store.rebuild_mappings().await.unwrap();
            let full = snapshot(&store).await;
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
        store.close().await;
        Ok(())
    })
}

/// The trigger-kept counts and bytes behind `/v1/status` equal a count of the rows after every
/// step.
fn check_counts(history: Vec<Op>, backend: Backend<'_>) -> Result<(), TestCaseError> {
    runtime().block_on(async {
        let (_dir, store) = fresh_store(backend).await;
        let mut rows = BTreeMap::new();
        for op in &history {
            apply_incrementally(&store, op).await;
            match op {
                Op::Put(r) => rows.insert(r.id.clone(), (**r).clone()),
                Op::Remove(n) => rows.remove(&id_of(*n).0),
            };
            let mut kept = store.attempt_counts().await.unwrap();
            kept.sort();
            let mut counted = BTreeMap::new();
            for r in rows.values() {
                *counted.entry(r.status.clone()).or_insert(0i64) += 1;
            }
            prop_assert_eq!(kept, counted.into_iter().collect::<Vec<_>>());
            let own = AttemptFilter {
                workspace: Some(store.workspace().to_string()),
                ..Default::default()
            };
            let (listed, _) = store.attempts_page(&own, None, 1000).await.unwrap();
            prop_assert_eq!(listed.len(), rows.len());
            let nicks: std::collections::BTreeSet<_> = rows.values().map(|r| &r.nickname).collect();
            let counts = store
                .status_counts(Some(store.workspace().as_str()))
                .await
                .unwrap();
            prop_assert_eq!(counts.nicknames, nicks.len() as i64);
            let bytes: i64 = rows.values().filter_map(|r| r.report_size).sum();
            prop_assert_eq!(store.runs_bytes().await.unwrap(), bytes);
        }
        store.close().await;
        Ok(())
    })
}

type Check = fn(Vec<Op>, Backend<'_>) -> Result<(), TestCaseError>;

/// Runs `check` over `cases` random histories of up to `max_len` operations on `backend`.
fn run(check: Check, cases: u32, max_len: usize, backend: Backend<'_>) {
    let mut runner = TestRunner::new(ProptestConfig::with_cases(cases));
    let histories = prop::collection::vec(op(), 1..max_len);
    if let Err(e) = runner.run(&histories, |h| check(h, backend)) {
        match e {
            TestError::Fail(why, history) => panic!("{why}\nminimal history: {history:#?}"),
            TestError::Abort(why) => panic!("aborted: {why}"),
        }
    }
}

/// Runs a property on SQLite (96 cases) and on PostgreSQL (24: each case is a new schema on a
/// server), the latter skipped without a server outside CI.
macro_rules! on_both_backends {
    ($($name:ident: $check:ident, $max_len:expr;)*) => {$(
        mod $name {
            use super::*;

            #[test]
            fn on_sqlite() {
                run($check, 96, $max_len, Backend::Sqlite);
            }

            #[test]
            fn on_postgres() {
                let Some(db) = runtime().block_on(TestDb::create()) else {
                    return;
                };
                run($check, 24, $max_len, Backend::Postgres(&db.url));
            }
        }
    )*};
}

on_both_backends! {
    incremental_mappings_always_equal_a_full_rebuild: check, 40;
    status_counts_and_bytes_always_match_the_rows: check_counts, 30;
}
