//! The indexer over a copy of the real corpus workspace gives the manifest's answers; a restart
//! re-reads nothing; a deleted index.db is rebuilt to the same answers; 10,000 attempts index.

use invarlockd::config::{Config, Workspace};
use invarlockd::index::{IndexSettings, Indexer};
use invarlockd::storage::{attempts, mappings, Storage};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

#[path = "support/workspace_copy.rs"]
mod workspace_copy;
use workspace_copy::corpus_copy;
#[path = "support/manifest.rs"]
mod manifest;
use manifest::{attempt_id, expected_status, manifest};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// The workspace id every index of these tests writes to.
const OWN: &str = "corpus";

fn workspace(root: &Path) -> Workspace {
    let mut cfg = Config::default();
    cfg.workspace.root = root.to_path_buf();
    cfg.workspace()
}

async fn indexer(root: &Path) -> Indexer {
    let ws = workspace(root);
    let own = invarlockd::domain::WorkspaceId::parse(OWN).unwrap();
    let store = Storage::open(&ws.index_db(), &own, None).await.unwrap();
    let mut index = Config::default().index;
    index.timezone = "UTC".into();
    Indexer::new(
        store,
        IndexSettings {
            workspace: ws,
            index,
            limits: Default::default(),
        },
    )
}

async fn assert_manifest_answers(ix: &Indexer) {
    let m = manifest();
    let store = ix.store();
    for run in m["runs"].as_array().unwrap() {
        let id = attempt_id(run["path"].as_str().unwrap());
        let a = store
            .attempt(OWN, &id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{id} not indexed"));
        assert_eq!(a.status, expected_status(run), "{id}: {:?}", a.reason);
        if a.status != "pass" {
            assert!(
                a.reason.as_deref().is_some_and(|r| !r.is_empty()),
                "{id} has no reason"
            );
        }
    }
    for run in m["runs"].as_array().unwrap() {
        let Some(base) = run["paired_with_baseline"].as_object() else {
            continue;
        };
        let subject = attempt_id(run["path"].as_str().unwrap());
        let baseline = attempt_id(base["path"].as_str().unwrap());
        let got = store.mapping(OWN, &subject).await.unwrap();
        assert_eq!(
            got.as_ref().and_then(|g| g.baseline_attempt.as_deref()),
            Some(baseline.as_str()),
            "mapping of {subject}: {got:?}"
        );
    }
    for cert in m["certificates"].as_array().unwrap() {
        let subject = attempt_id(cert["subject_run"].as_str().unwrap());
        let baseline = attempt_id(cert["baseline_run"].as_str().unwrap());
        let got = store.mapping(OWN, &subject).await.unwrap().unwrap();
        assert_eq!(got.how, "certificate", "{subject}");
        assert_eq!(got.baseline_attempt.as_deref(), Some(baseline.as_str()));
        let cert_path = cert["certificate"]
            .as_str()
            .unwrap()
            .trim_start_matches("workspace/");
        assert_eq!(got.certificate.as_deref(), Some(cert_path));
    }
}

#[tokio::test]
async fn every_manifest_attempt_gets_its_status_and_every_pairing_its_mapping() {
    let ws = corpus_copy();
    let ix = indexer(ws.path()).await;
    let sum = ix.full_scan().await.unwrap();
    assert_eq!(sum.attempts_seen, 17);
    assert_eq!(sum.certificates, 9);
    assert_manifest_answers(&ix).await;
    // The convenience copy is maintained and then recognized, not reported.
    let copy = ws.path().join("runs/baseline/report.json");
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        std::fs::read(ws.path().join("runs/baseline/20261128_204128/report.json")).unwrap()
    );
    let un = ix.store().unrecognized(None, 100).await.unwrap();
    assert!(un.is_empty(), "{un:?}");
    // Hand-archived evidence is external.
    let dirs = ix.store().evidence_dirs().await.unwrap();
    assert!(dirs.iter().all(|d| d.origin == "external"));
    assert_eq!(dirs.len(), 12);
}

#[tokio::test]
async fn certificate_digests_equal_the_digests_computed_from_their_run_reports() {
    let m = manifest();
    let corpus = Path::new(REPO).join("examples");
    let parse = |p: &Path| invarlockd::pyjson::parse(&std::fs::read_to_string(p).unwrap()).unwrap();
    for cert in m["certificates"].as_array().unwrap() {
        let c = parse(&corpus.join(cert["certificate"].as_str().unwrap()));
        let subject = parse(
            &corpus
                .join(cert["subject_run"].as_str().unwrap())
                .join("report.json"),
        );
        let baseline = parse(
            &corpus
                .join(cert["baseline_run"].as_str().unwrap())
                .join("report.json"),
        );
        let s = |v: &invarlockd::pyjson::Value, p: &[&str]| {
            v.pointer(p).and_then(|x| x.as_str()).unwrap().to_string()
        };
        let (sid, shash) = invarlockd::report::subject_digests(&subject).unwrap();
        assert_eq!(sid, s(&c, &["provenance", "edited", "run_id"]));
        assert_eq!(sid, s(&c, &["run_id"]));
        assert_eq!(shash, s(&c, &["provenance", "edited", "report_hash"]));
        assert_eq!(
            invarlockd::report::run_id(&baseline).unwrap(),
            s(&c, &["baseline_ref", "run_id"])
        );
        assert_eq!(
            invarlockd::report::report_hash(&baseline),
            s(&c, &["provenance", "baseline", "report_hash"])
        );
    }
}

#[tokio::test]
async fn a_restart_reads_nothing_and_a_deleted_index_is_rebuilt_to_the_same_answers() {
    let ws = corpus_copy();
    let ix = indexer(ws.path()).await;
    ix.full_scan().await.unwrap();
    let snapshot = |ix: Indexer| async move {
        let f = attempts::AttemptFilter::default();
        let (rows, _) = ix.store().attempts_page(&f, None, 1000).await.unwrap();
        let (maps, _) = ix.store().mappings_page(None, None, 1000).await.unwrap();
        // Whole rows (a page lists only some columns).
        let mut full = Vec::new();
        for r in rows {
            let r = ix
                .store()
                .attempt(OWN, &r.id)
                .await
                .unwrap()
                .expect("listed");
            full.push((r.id, r.status, r.reason, r.run_id, r.report_hash, r.detail));
        }
        let rows = full;
        let maps: Vec<_> = maps
            .into_iter()
            .map(|m| (m.subject, m.baseline_attempt, m.how))
            .collect();
        (rows, maps)
    };
    let before = snapshot(ix.clone()).await;
    drop(ix);

    let ix = indexer(ws.path()).await;
    let again = ix.full_scan().await.unwrap();
    assert_eq!(again.parsed, 0, "{again:?}");
    assert_eq!(again.evidence_files_read, 0, "{again:?}");
    assert_eq!(snapshot(ix.clone()).await, before);
    drop(ix);

    std::fs::remove_file(ws.path().join(".invarlockd/index.db")).unwrap();
    let _ = std::fs::remove_file(ws.path().join(".invarlockd/index.db-wal"));
    let _ = std::fs::remove_file(ws.path().join(".invarlockd/index.db-shm"));
    let ix = indexer(ws.path()).await;
    ix.full_scan().await.unwrap();
    assert_eq!(snapshot(ix.clone()).await, before);
    assert_manifest_answers(&ix).await;
}

#[tokio::test]
async fn an_empty_attempt_is_running_when_fresh_and_error_once_stale() {
    let ws = tempfile::tempdir().unwrap();
    let now = chrono::Utc::now().format("%Y%m%d_%H%M%S").to_string();
    std::fs::create_dir_all(ws.path().join(format!("runs/solo/{now}"))).unwrap();
    let ix = indexer(ws.path()).await;
    ix.full_scan().await.unwrap();
    let id = format!("solo/{now}");
    assert_eq!(
        ix.store().attempt(OWN, &id).await.unwrap().unwrap().status,
        "running"
    );
    let later = ix
        .clone()
        .with_clock(|| SystemTime::now() + Duration::from_secs(7 * 3600));
    later.full_scan().await.unwrap();
    let a = later.store().attempt(OWN, &id).await.unwrap().unwrap();
    assert_eq!(a.status, "error", "{:?}", a.reason);
}

fn write_small_attempt(root: &Path, i: usize) -> PathBuf {
    let dir = root.join(format!(
        "runs/gen{:02}/20260101_{:02}{:02}{:02}",
        i % 50,
        i / 3600,
        i / 60 % 60,
        i % 60
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let report = format!(
        r#"{{"meta": {{"model_id": "tiny", "adapter": "hf_llama", "commit": "", "ts": "2026-01-01T00:00:{i:05}", "seed": {i}}},
 "data": {{"dataset_hash": "0123456789abcdef0123456789abcdef"}}, "edit": {{"name": "noop"}},
 "guards": [{{"name": "invariants", "passed": true}}],
 "metrics": {{"primary_metric": {{"kind": "ppl_causal", "final": 20.5, "ratio_vs_baseline": NaN}}, "window_pairing_reason": "no_baseline_reference"}},
 "artifacts": {{}}, "flags": {{}}}}"#
    );
    std::fs::write(dir.join("report.json"), report).unwrap();
    std::fs::write(
        dir.join("events.jsonl"),
        "{\"component\": \"logger\", \"operation\": \"session_start\"}\n{\"component\": \"runner\", \"operation\": \"complete\", \"data\": {\"status\": \"success\"}}\n{\"component\": \"logger\", \"operation\": \"session_end\"}\n",
    )
    .unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_generated_attempts_are_all_indexed() {
    let ws = tempfile::tempdir().unwrap();
    for i in 0..10_000 {
        write_small_attempt(ws.path(), i);
    }
    let ix = indexer(ws.path()).await;
    let sum = ix.full_scan().await.unwrap();
    assert_eq!((sum.attempts_seen, sum.parsed), (10_000, 10_000), "{sum:?}");
    let counts = ix.store().attempt_counts().await.unwrap();
    assert_eq!(counts, vec![("pass".to_string(), 10_000)]);
    let again = ix.full_scan().await.unwrap();
    assert_eq!((again.parsed, again.unchanged), (0, 10_000));
}

#[tokio::test]
async fn removing_a_baseline_attempt_remaps_its_subjects_incrementally() {
    let ws = corpus_copy();
    let ix = indexer(ws.path()).await;
    ix.full_scan().await.unwrap();
    let r02 = ws.path().join("runs/baseline/20261128_204128");
    std::fs::remove_dir_all(&r02).unwrap();
    ix.refresh_paths(std::slice::from_ref(&r02)).await.unwrap();
    let store = ix.store();
    assert!(store
        .attempt(OWN, "baseline/20261128_204128")
        .await
        .unwrap()
        .is_none());
    // The certificate still links quant8 to R02's report, now only archived in reports/baseline.
    let q8 = store
        .mapping(OWN, "quant8/20261128_204141")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(q8.how, "certificate");
    assert_eq!(q8.baseline_attempt, None);
    assert_eq!(
        q8.baseline_archived.as_deref(),
        Some("reports/baseline/report.json")
    );
    // R09 (no report, no certificate) falls back to the other report with the same losses.
    let r09 = store
        .mapping(OWN, "ci_quant8/20261128_204253")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        r09.baseline_attempt.as_deref(),
        Some("baseline/20261128_204115")
    );
    // The convenience copy follows the latest pass that is left.
    assert_eq!(
        std::fs::read(ws.path().join("runs/baseline/report.json")).unwrap(),
        std::fs::read(ws.path().join("runs/baseline/20261128_204115/report.json")).unwrap()
    );
    // A full scan agrees with the incremental result.
    let (inc, _) = store.mappings_page(None, None, 1000).await.unwrap();
    ix.full_scan().await.unwrap();
    let (full, _) = ix.store().mappings_page(None, None, 1000).await.unwrap();
    let key = |v: &Vec<mappings::MappingRow>| {
        v.iter()
            .map(|m| {
                (
                    m.subject.clone(),
                    m.baseline_attempt.clone(),
                    m.baseline_archived.clone(),
                    m.how.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&inc), key(&full));
}
