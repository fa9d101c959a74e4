//! Retention against a hostile workspace (issue 10), on the real daemon binary: apply moves an
//! attempt directory into `<state>/trash/` and restore moves it back, both by handle. A symlink
//! swapped in for a condemned attempt (before apply, or while it runs), a symlink planted in
//! trash, and a FIFO inside a condemned attempt: nothing outside the workspace is moved or read,
//! reports/ does not change, the refused operation answers 409, the daemon stays ready, a new
//! attempt is indexed and SIGTERM exits 0 within 10 s.

#[path = "support/daemon.rs"]
mod daemon;

use daemon::*;
use serde_json::{json, Value};
use std::os::unix::fs::{symlink, FileTypeExt};
use std::path::Path;
use std::time::{Duration, Instant};

/// examples/workspace's one failed attempt: the only one an old-failures policy condemns
/// (un-archived PASS attempts are protected).
const CONDEMNED: &str = "ci_quant8/20261128_204253";
const POLICY: &str = r#"{"keep_last": 1, "keep_within": "0s", "failed_keep_within": "0s"}"#;

fn plan(d: &Daemon) -> String {
    let (s, b) = d.post("/v1/retention/plan", serde_json::from_str(POLICY).unwrap());
    assert_eq!(s, 200, "{b}");
    let p: Value = serde_json::from_str(&b).unwrap();
    let delete: Vec<&str> = p["delete"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["attempt"].as_str())
        .collect();
    assert_eq!(delete, [CONDEMNED], "{p:#}");
    p["id"].as_str().unwrap().to_string()
}

fn code(body: &str) -> String {
    serde_json::from_str::<Value>(body).map_or_else(
        |_| String::new(),
        |v| v["code"].as_str().unwrap_or_default().to_string(),
    )
}

/// A directory outside the workspace shaped like the condemned attempt's nickname, with a
/// victim file in the attempt's place.
fn outside_nickname(outside: &Path) -> std::path::PathBuf {
    let nick = outside.join("ci_quant8");
    std::fs::create_dir_all(nick.join("20261128_204253")).unwrap();
    std::fs::write(nick.join("20261128_204253/victim"), "do not move").unwrap();
    nick
}

/// Replaces `runs/ci_quant8` with a symlink to `target` (the real one is moved aside, inside
/// the workspace, so nothing is left to move).
fn swap_nickname(root: &Path, target: &Path) {
    std::fs::rename(root.join("runs/ci_quant8"), root.join("aside")).unwrap();
    symlink(target, root.join("runs/ci_quant8")).unwrap();
}

fn trash_of(root: &Path, plan: &str) -> std::path::PathBuf {
    root.join(".invarlockd/trash").join(plan)
}

#[test]
fn a_condemned_nickname_swapped_for_a_symlink_before_apply_is_refused_and_nothing_outside_moves() {
    let (ws, outside) = setup();
    let root = ws.path();
    let d = Daemon::start(root);
    let id = plan(&d);
    let target = outside_nickname(outside.path());
    let (reports_before, outside_before) = (tree(&root.join("reports")), tree(outside.path()));
    swap_nickname(root, &target);
    let (s, b) = d.post("/v1/retention/apply", json!({ "plan_id": id }));
    assert_eq!(s, 409, "{b}");
    assert!(!b.contains(outside.path().to_str().unwrap()), "{b}");
    assert_outside_unchanged(outside.path(), &outside_before);
    assert_reports_unchanged(root, &reports_before);
    assert!(!trash_of(root, &id).join(CONDEMNED).exists());
    d.finish(root);
}

#[test]
fn a_condemned_nickname_swapped_for_a_symlink_while_apply_runs_is_refused_by_handle() {
    let (ws, outside) = setup();
    let root = ws.path().to_path_buf();
    // Each move waits 1.5 s after the plan was checked and the intent recorded: the swap
    // lands after every check, so only the by-handle move stands in its way.
    let d = Daemon::start_with(&root, &[("INVARLOCKD_TEST_RETENTION_DELAY_MS", "1500")]);
    let id = plan(&d);
    let target = outside_nickname(outside.path());
    let (reports_before, outside_before) = (tree(&root.join("reports")), tree(outside.path()));
    let (url, token, plan_id) = (d.url.clone(), d.token.clone(), id.clone());
    let applying = std::thread::spawn(move || {
        let r = reqwest::blocking::Client::new()
            .post(format!("{url}/v1/retention/apply"))
            .bearer_auth(token)
            .json(&json!({ "plan_id": plan_id }))
            .timeout(Duration::from_secs(30))
            .send()
            .unwrap();
        (r.status().as_u16(), r.text().unwrap())
    });
    assert!(
        eventually(Duration::from_secs(10), || d
            .json(&format!("/v1/retention/plans/{id}"))["state"]
            == "applying"),
        "apply recorded its intent"
    );
    swap_nickname(&root, &target);
    let (s, b) = applying.join().unwrap();
    assert_eq!((s, code(&b).as_str()), (409, "move_refused"), "{b}");
    assert!(!b.contains(outside.path().to_str().unwrap()), "{b}");
    assert_outside_unchanged(outside.path(), &outside_before);
    assert_reports_unchanged(&root, &reports_before);
    assert!(!trash_of(&root, &id).join(CONDEMNED).exists());
    // The plan keeps its intent (nothing was recorded as moved), and a restart is not stopped
    // by the refusal.
    let shown = d.json(&format!("/v1/retention/plans/{id}"));
    assert_eq!(shown["state"], "applying", "{shown:#}");
    assert_eq!(shown["moves"][0]["state"], "pending", "{shown:#}");
    d.finish(&root);
    let d = Daemon::start(&root);
    assert_outside_unchanged(outside.path(), &outside_before);
    d.finish(&root);
}

#[test]
fn a_symlink_planted_in_trash_is_never_followed_by_restore() {
    let (ws, outside) = setup();
    let root = ws.path();
    let d = Daemon::start(root);
    let id = plan(&d);
    let (s, b) = d.post("/v1/retention/apply", json!({ "plan_id": id }));
    assert_eq!(s, 200, "{b}");
    let moved = trash_of(root, &id).join(CONDEMNED);
    assert!(
        moved.join("events.jsonl").is_file(),
        "the attempt is in trash"
    );
    // The trashed attempt is replaced by a link to a directory outside.
    let target = outside_nickname(outside.path()).join("20261128_204253");
    std::fs::remove_dir_all(&moved).unwrap();
    symlink(&target, &moved).unwrap();
    let (reports_before, outside_before) = (tree(&root.join("reports")), tree(outside.path()));
    let (s, b) = d.post("/v1/retention/restore", json!({ "plan_id": id }));
    assert_eq!((s, code(&b).as_str()), (409, "move_refused"), "{b}");
    assert!(!b.contains(outside.path().to_str().unwrap()), "{b}");
    assert!(
        std::fs::symlink_metadata(root.join("runs").join(CONDEMNED)).is_err(),
        "nothing was put back in runs/"
    );
    assert_outside_unchanged(outside.path(), &outside_before);
    assert_reports_unchanged(root, &reports_before);
    assert!(std::fs::symlink_metadata(&moved)
        .unwrap()
        .file_type()
        .is_symlink());
    d.finish(root);
}

#[test]
fn a_fifo_inside_a_condemned_attempt_does_not_hang_apply_or_restore() {
    let (ws, _outside) = setup();
    let root = ws.path();
    let attempt = root.join("runs").join(CONDEMNED);
    mkfifo(&attempt.join("pipe"));
    let d = Daemon::start(root);
    let id = plan(&d);
    let reports_before = tree(&root.join("reports"));
    let started = Instant::now();
    let (s, b) = d.post("/v1/retention/apply", json!({ "plan_id": id }));
    assert_eq!(s, 200, "{b}");
    let moved = trash_of(root, &id).join(CONDEMNED);
    assert!(std::fs::symlink_metadata(moved.join("pipe"))
        .unwrap()
        .file_type()
        .is_fifo());
    assert!(std::fs::symlink_metadata(&attempt).is_err());
    let (s, b) = d.post("/v1/retention/restore", json!({ "plan_id": id }));
    assert_eq!(s, 200, "{b}");
    assert!(attempt.join("events.jsonl").is_file(), "restored");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_reports_unchanged(root, &reports_before);
    d.finish(root);
}
