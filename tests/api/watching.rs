//! Real filesystem events on a real temp workspace reach the API.

use crate::helpers::*;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

fn write_attempt(root: &Path, id: &str, report: Option<&[u8]>) {
    let dir = root.join("runs").join(id);
    std::fs::create_dir_all(&dir).unwrap();
    let (_, events) = template_attempt();
    std::fs::write(dir.join("events.jsonl"), events).unwrap();
    if let Some(r) = report {
        std::fs::write(dir.join("report.json"), r).unwrap();
    }
}

async fn status_of(app: &TestApp, id: &str) -> Option<String> {
    app.attempt(id)
        .await
        .and_then(|a| a["status"].as_str().map(str::to_string))
}

async fn wait_status(app: &TestApp, id: &str, want: &str) {
    let got = eventually(DEADLINE, || async {
        (status_of(app, id).await.as_deref() == Some(want)).then_some(())
    })
    .await;
    assert!(
        got.is_some(),
        "{id} never became {want}; last: {:?}",
        app.attempt(id).await
    );
}

#[tokio::test]
async fn a_report_written_slowly_in_chunks_appears_and_is_never_invalid_in_between() {
    let ws = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(ws.path()).await;
    let (report, events) = template_attempt();
    let dir = ws.path().join("runs/slow/20261128_230000");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("events.jsonl"), &events).unwrap();
    let mut f = std::fs::File::create(dir.join("report.json")).unwrap();
    let mut seen = Vec::new();
    for chunk in report.chunks(report.len() / 8 + 1) {
        f.write_all(chunk).unwrap();
        f.flush().unwrap();
        // The writer is slow on purpose (this is the scenario, not synchronisation); meanwhile
        // every answer must be running or absent, never invalid.
        for _ in 0..5 {
            if let Some(s) = status_of(&app, "slow/20261128_230000").await {
                seen.push(s);
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    }
    drop(f);
    wait_status(&app, "slow/20261128_230000", "pass").await;
    assert!(
        seen.iter().all(|s| s == "running" || s == "pass"),
        "statuses seen: {seen:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_deleted_attempt_disappears() {
    let ws = tempfile::tempdir().unwrap();
    let (report, _) = template_attempt();
    write_attempt(ws.path(), "gone/20261128_230000", Some(&report));
    let app = TestApp::spawn(ws.path()).await;
    wait_status(&app, "gone/20261128_230000", "pass").await;
    std::fs::remove_dir_all(ws.path().join("runs/gone/20261128_230000")).unwrap();
    let gone = eventually(DEADLINE, || async {
        app.attempt("gone/20261128_230000")
            .await
            .is_none()
            .then_some(())
    })
    .await;
    assert!(gone.is_some(), "deleted attempt still listed");
    app.stop().await;
}

#[tokio::test]
async fn broken_reports_become_invalid_once_settled_and_nan_reports_pass() {
    let ws = tempfile::tempdir().unwrap();
    let mut cfg = test_config(ws.path());
    cfg.index.settle = Duration::from_millis(300);
    let app = TestApp::spawn_with(cfg).await;
    let (report, _) = template_attempt();
    write_attempt(ws.path(), "broken/20261128_230001", Some(b""));
    write_attempt(
        ws.path(),
        "broken/20261128_230002",
        Some(&report[..report.len() / 2]),
    );
    write_attempt(
        ws.path(),
        "broken/20261128_230003",
        Some(b"this is not json"),
    );
    write_attempt(ws.path(), "broken/20261128_230004", Some(b"{\"meta\": {}}"));
    // Baseline reports carry a bare NaN ratio; they are valid.
    let baseline =
        std::fs::read(sample_workspace().join("runs/baseline/20261128_204128/report.json"))
            .unwrap();
    assert!(String::from_utf8_lossy(&baseline).contains("NaN"));
    write_attempt(ws.path(), "nan/20261128_230005", Some(&baseline));
    for n in 1..=4 {
        wait_status(&app, &format!("broken/20261128_23000{n}"), "invalid").await;
    }
    wait_status(&app, "nan/20261128_230005", "pass").await;
    let a = app.attempt("nan/20261128_230005").await.unwrap();
    assert_eq!(a["primary_metric"]["ratio_vs_baseline"], "NaN", "{a:#}");
    app.stop().await;
}

#[tokio::test]
async fn a_50_mb_report_is_indexed() {
    let ws = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(ws.path()).await;
    let (report, _) = template_attempt();
    let text = String::from_utf8(report).unwrap();
    // Grow the token id arrays, the part that makes real reports large.
    let at = text.find("\"input_ids\": [").unwrap() + "\"input_ids\": [".len();
    let row = format!("[{}], ", vec!["123"; 64].join(", "));
    let mut big = String::with_capacity(52 << 20);
    big.push_str(&text[..at]);
    while big.len() < 50 << 20 {
        big.push_str(&row);
    }
    big.push_str(&text[at..]);
    write_attempt(ws.path(), "big/20261128_230000", Some(big.as_bytes()));
    wait_status(&app, "big/20261128_230000", "pass").await;
    let a = app.attempt("big/20261128_230000").await.unwrap();
    let size = a["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "report.json")
        .unwrap()["size"]
        .as_u64()
        .unwrap();
    assert!(size >= 50 << 20);
    app.stop().await;
}

#[tokio::test]
async fn an_attempt_dir_symlinked_out_of_the_workspace_is_ignored() {
    let ws = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let (report, _) = template_attempt();
    write_attempt(outside.path(), "evil/20261128_230000", Some(&report));
    std::fs::create_dir_all(ws.path().join("runs/evil")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("runs/evil/20261128_230000"),
        ws.path().join("runs/evil/20261128_230000"),
    )
    .unwrap();
    write_attempt(ws.path(), "good/20261128_230000", Some(&report));
    let app = TestApp::spawn(ws.path()).await;
    wait_status(&app, "good/20261128_230000", "pass").await;
    assert!(app.attempt("evil/20261128_230000").await.is_none());
    app.stop().await;
}

#[tokio::test]
async fn a_nickname_with_a_slash_is_indexed_under_its_full_path() {
    let ws = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(ws.path()).await;
    let (report, _) = template_attempt();
    write_attempt(ws.path(), "team/quant8/20261128_230000", Some(&report));
    wait_status(&app, "team/quant8/20261128_230000", "pass").await;
    let (status, run) = app.get("/v1/runs/team/quant8").await;
    assert_eq!(status, reqwest::StatusCode::OK, "{run:#}");
    assert_eq!(run["nickname"], "team/quant8");
    app.stop().await;
}

#[tokio::test]
async fn ten_thousand_generated_attempts_are_all_indexed() {
    let ws = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(ws.path()).await;
    for n in 0..10_000u32 {
        let k = n / 100;
        let dir = ws.path().join(format!(
            "runs/gen{}/20261128_23{:02}{:02}",
            n % 100,
            k / 60,
            k % 60
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let (report, events) = small_attempt(n);
        std::fs::write(dir.join("events.jsonl"), events).unwrap();
        std::fs::write(dir.join("report.json"), report).unwrap();
    }
    let all = eventually(Duration::from_secs(300), || async {
        let (_, s) = app.get("/v1/status").await;
        (s["index"]["attempts"]["pass"].as_u64() == Some(10_000)).then_some(())
    })
    .await;
    let (_, s) = app.get("/v1/status").await;
    assert!(all.is_some(), "not all indexed: {s:#}");
    app.stop().await;
}

#[tokio::test]
async fn polling_mode_indexes_new_attempts_and_says_so_in_status() {
    let ws = tempfile::tempdir().unwrap();
    let mut cfg = test_config(ws.path());
    cfg.watch.mode = invarlockd::config::WatchMode::Poll;
    cfg.watch.poll_interval = Duration::from_millis(100);
    let app = TestApp::spawn_with(cfg).await;
    let (_, s) = app.get("/v1/status").await;
    assert_eq!(s["watcher"]["mode"], "poll", "{s:#}");
    let (report, _) = template_attempt();
    write_attempt(ws.path(), "polled/20261128_230000", Some(&report));
    wait_status(&app, "polled/20261128_230000", "pass").await;
    app.stop().await;
}

async fn unrecognized_paths(app: &TestApp) -> Vec<String> {
    let (_, page) = app.get("/v1/unrecognized").await;
    page["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["path"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

async fn wait_unrecognized(app: &TestApp, want: &[&str]) {
    let got = eventually(DEADLINE, || async {
        (unrecognized_paths(app).await == want).then_some(())
    })
    .await;
    assert!(
        got.is_some(),
        "unrecognized never became {want:?}; last: {:?}",
        unrecognized_paths(app).await
    );
}

#[tokio::test]
async fn stray_entries_in_runs_are_reported_and_cleared_without_waiting_for_a_reconcile() {
    let ws = tempfile::tempdir().unwrap();
    let (report, _) = template_attempt();
    write_attempt(ws.path(), "good/20261128_230000", Some(&report));
    let app = TestApp::spawn(ws.path()).await;
    wait_status(&app, "good/20261128_230000", "pass").await;
    assert_eq!(unrecognized_paths(&app).await, Vec::<String>::new());

    std::fs::write(ws.path().join("runs/notes.txt"), "x").unwrap();
    std::fs::create_dir_all(ws.path().join("runs/scratch")).unwrap();
    wait_unrecognized(&app, &["notes.txt", "scratch"]).await;

    // An attempt below the empty directory makes it a nickname.
    write_attempt(ws.path(), "scratch/20261128_230100", Some(&report));
    wait_status(&app, "scratch/20261128_230100", "pass").await;
    wait_unrecognized(&app, &["notes.txt"]).await;

    std::fs::remove_file(ws.path().join("runs/notes.txt")).unwrap();
    wait_unrecognized(&app, &[]).await;
    app.stop().await;
}
