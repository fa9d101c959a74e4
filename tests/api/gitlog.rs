//! `[reports] git`: promotions committed to a real git repository (and pushed to a real bare
//! remote), the user's own work left exactly as it was, the change log read back from git.

use crate::helpers::*;
use crate::promote::post;
use crate::retention::plan_and_apply;
use invarlockd::config::{Config, GitMode};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

#[path = "../support/git.rs"]
mod git_cli;
use git_cli::git;

const REL_CERT: &str = "reports/rel_quant8_balanced/evaluation.cert.json";

/// The corpus workspace as a git work tree on `main` with one commit, plus a user's work in
/// progress: a staged change, an unstaged change, a staged new file and an untracked file.
fn repo_workspace() -> tempfile::TempDir {
    let ws = corpus_copy();
    let p = ws.path();
    git(p, &["init", "-q", "-b", "main"]);
    for (k, v) in [
        ("user.name", "Test User"),
        ("user.email", "user@example.com"),
        ("commit.gpgsign", "false"),
    ] {
        git(p, &["config", k, v]);
    }
    std::fs::write(p.join(".gitignore"), "runs/\nreports_*/\n.invarlockd/\n").unwrap();
    std::fs::write(p.join("notes.md"), "notes v1\n").unwrap();
    std::fs::write(p.join("todo.md"), "todo v1\n").unwrap();
    git(p, &["add", ".gitignore", "notes.md", "todo.md", "reports"]);
    git(p, &["commit", "-q", "-m", "initial evidence"]);
    std::fs::write(p.join("notes.md"), "notes v2, staged\n").unwrap();
    git(p, &["add", "notes.md"]);
    std::fs::write(p.join("notes.md"), "notes v3, not staged\n").unwrap();
    std::fs::write(p.join("todo.md"), "todo v2, not staged\n").unwrap();
    std::fs::write(p.join("staged_new.md"), "new and staged\n").unwrap();
    git(p, &["add", "staged_new.md"]);
    std::fs::write(p.join("scratch.md"), "untracked\n").unwrap();
    ws
}

fn git_config(root: &Path, mode: GitMode) -> Config {
    let mut cfg = test_config(root);
    cfg.reports.git = mode;
    cfg.reports.retry_min = Duration::from_millis(100);
    cfg.reports.retry_max = Duration::from_millis(400);
    cfg
}

/// What the user sees of their own work: status, staged diff and unstaged diff.
fn user_view(p: &Path) -> (String, String, String) {
    (
        git(p, &["status", "--porcelain", "--untracked-files=all"]),
        git(p, &["diff", "--cached"]),
        git(p, &["diff"]),
    )
}

async fn promote(app: &TestApp, body: Value) -> Value {
    let (s, b) = post(app, "/v1/promotions", body, Some(&app.admin_token())).await;
    assert!(s.is_success(), "{s}: {b:#}");
    b
}

fn head(p: &Path) -> String {
    git(p, &["rev-parse", "HEAD"]).trim().to_string()
}

fn added_paths(p: &Path, commit: &str) -> Vec<String> {
    git(
        p,
        &["diff-tree", "--no-commit-id", "-r", "--name-status", commit],
    )
    .lines()
    .map(str::to_string)
    .collect()
}

fn trailers(p: &Path, commit: &str) -> Vec<(String, String)> {
    let msg = git(p, &["log", "-1", "--format=%B", commit]);
    let out = Command::new("git")
        .current_dir(p)
        .args(["interpret-trailers", "--parse"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(msg.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn metadata(p: &Path, name: &str) -> Value {
    serde_json::from_slice(
        &std::fs::read(p.join("reports").join(name).join("metadata.json")).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn each_promotion_is_one_commit_of_exactly_its_new_directories_and_the_users_work_is_untouched(
) {
    let ws = repo_workspace();
    let p = ws.path();
    let before = user_view(p);
    let start = head(p);
    let app = TestApp::spawn_with(git_config(p, GitMode::Commit)).await;

    promote(&app, json!({ "attempt": "rel_quant8/20261128_204341", "certificate": REL_CERT, "profile": "release" })).await;
    let first = head(p);
    assert_eq!(
        git(p, &["rev-parse", "HEAD~1"]).trim(),
        start,
        "exactly one commit"
    );
    assert_eq!(
        added_paths(p, &first),
        [
            "A\treports/rel_baseline/metadata.json",
            "A\treports/rel_baseline/report.json",
            "A\treports/rel_quant8/evaluation.cert.json",
            "A\treports/rel_quant8/metadata.json",
            "A\treports/rel_quant8/report.json",
        ]
    );
    assert_eq!(user_view(p), before, "staged and unstaged work unchanged");
    assert_eq!(
        git(p, &["log", "-1", "--format=%s", &first]).trim(),
        "promote rel_quant8: rel_quant8/20261128_204341 → rel_baseline/20261128_204321 (release, PASS)"
    );
    assert_eq!(
        git(p, &["log", "-1", "--format=%an <%ae>|%cn <%ce>", &first]).trim(),
        "invarlockd <invarlockd@localhost>|invarlockd <invarlockd@localhost>"
    );
    let meta = metadata(p, "rel_quant8");
    let t = trailers(p, &first);
    let get = |k: &str| t.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    assert_eq!(get("Invarlock-Run-Id").as_deref(), meta["run_id"].as_str());
    assert_eq!(
        get("Invarlock-Report-Hash").as_deref(),
        meta["report_hash"].as_str()
    );
    assert_eq!(
        get("Invarlock-Baseline-Report-Hash").as_deref(),
        meta["baseline"]["report_hash"].as_str()
    );
    let cert_sha = meta["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "evaluation.cert.json")
        .unwrap()["sha256"]
        .clone();
    assert_eq!(
        get("Invarlock-Certificate-Sha256").as_deref(),
        cert_sha.as_str()
    );
    assert_eq!(get("Invarlock-Profile").as_deref(), Some("release"));
    assert_eq!(
        get("Invarlock-Baseline-Archived").as_deref(),
        Some("rel_baseline")
    );

    // A second promotion: one more commit, the user's work still as it was.
    promote(&app, json!({ "attempt": "ci_baseline/20261128_204228" })).await;
    let second = head(p);
    assert_eq!(
        git(p, &["rev-parse", "HEAD~1"]).trim(),
        first,
        "{}",
        git(p, &["log", "--stat", "-4"])
    );
    assert_eq!(
        added_paths(p, &second),
        [
            "A\treports/ci_baseline/metadata.json",
            "A\treports/ci_baseline/report.json"
        ]
    );
    assert_eq!(user_view(p), before);
    // The identical promotion again changes nothing.
    promote(&app, json!({ "attempt": "ci_baseline/20261128_204228" })).await;
    assert_eq!(head(p), second);

    let (s, log) = app.get("/v1/changelog").await;
    assert_eq!(s, StatusCode::OK, "{log:#}");
    let items = log["items"].as_array().unwrap();
    let commits: Vec<&str> = items
        .iter()
        .map(|i| i["commit"].as_str().unwrap())
        .collect();
    assert_eq!(commits, [second.as_str(), first.as_str()], "newest first");
    assert_eq!(items[1]["name"], "rel_quant8");
    assert_eq!(items[1]["baseline"]["name"], "rel_baseline");
    assert_eq!(
        items[1]["baseline"]["attempt"],
        "rel_baseline/20261128_204321"
    );
    assert_eq!(items[1]["run_id"], meta["run_id"]);
    assert_eq!(items[0]["kind"], "baseline");
    let (_, status) = app.get("/v1/status").await;
    assert_eq!(status["git"]["last_commit"]["id"], second.as_str());
    assert_eq!(status["git"]["pending_commits"], 0);
    assert!(status["git"]["last_error"].is_null(), "{status:#}");
    app.stop().await;
}

#[tokio::test]
async fn a_held_index_lock_delays_the_commit_but_never_loses_or_repeats_it() {
    let ws = repo_workspace();
    let p = ws.path();
    let before = user_view(p);
    let app = TestApp::spawn_with(git_config(p, GitMode::Commit)).await;
    let start = head(p);
    // The user's own git is mid-operation: the promotion succeeds, the commit waits.
    let lock = p.join(".git/index.lock");
    std::fs::write(&lock, "").unwrap();
    promote(&app, json!({ "attempt": "rel_baseline/20261128_204321" })).await;
    assert!(p.join("reports/rel_baseline/metadata.json").is_file());
    assert_eq!(head(p), start);
    let (_, status) = app.get("/v1/status").await;
    assert_eq!(status["git"]["pending_commits"], 1, "{status:#}");
    assert!(status["git"]["last_error"]["message"]
        .as_str()
        .unwrap()
        .contains("index.lock"));
    std::fs::remove_file(&lock).unwrap();
    // Worked off: the commit is in, the user's index knows it, the error is gone.
    let cleared = eventually(Duration::from_secs(30), || async {
        let (_, s) = app.get("/v1/status").await;
        (s["git"]["pending_commits"] == 0 && s["git"]["last_error"].is_null()).then_some(())
    })
    .await;
    assert!(
        cleared.is_some(),
        "the owed commit landed after the lock went"
    );
    assert_eq!(git(p, &["rev-parse", "HEAD~1"]).trim(), start);
    assert_eq!(user_view(p), before);
    let actions = app.audit_actions().await;
    assert!(
        actions.iter().any(|a| a == "git.commit_failed"),
        "{actions:?}"
    );
    assert_eq!(actions.iter().filter(|a| **a == "git.committed").count(), 1);
    app.stop().await;
}

#[tokio::test]
async fn outside_a_repository_promotions_succeed_and_status_and_changelog_say_why() {
    let ws = corpus_copy();
    let app = TestApp::spawn_with(git_config(ws.path(), GitMode::Commit)).await;
    promote(&app, json!({ "attempt": "rel_baseline/20261128_204321" })).await;
    let (_, status) = app.get("/v1/status").await;
    assert!(
        status["git"]["last_error"]["message"]
            .as_str()
            .unwrap()
            .contains("not inside a git work tree"),
        "{status:#}"
    );
    let (s, log) = app.get("/v1/changelog").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(log["repository"], false);
    assert_eq!(log["items"], json!([]));
    app.stop().await;
}

fn bare_remote(p: &Path) -> tempfile::TempDir {
    let remote = tempfile::tempdir().unwrap();
    git(remote.path(), &["init", "-q", "--bare", "-b", "main"]);
    git(
        p,
        &["remote", "add", "origin", remote.path().to_str().unwrap()],
    );
    remote
}

fn remote_main(remote: &Path) -> Option<String> {
    Command::new("git")
        .current_dir(remote)
        .args(["rev-parse", "-q", "--verify", "refs/heads/main"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

#[tokio::test]
async fn push_lands_the_commit_on_a_bare_remote() {
    let ws = repo_workspace();
    let p = ws.path();
    let remote = bare_remote(p);
    let app = TestApp::spawn_with(git_config(p, GitMode::Push)).await;
    promote(&app, json!({ "attempt": "rel_baseline/20261128_204321" })).await;
    let local = head(p);
    let pushed = eventually(Duration::from_secs(30), || async {
        (remote_main(remote.path()).as_deref() == Some(local.as_str())).then_some(())
    })
    .await;
    assert!(pushed.is_some(), "remote main is the promotion commit");
    let done = eventually(Duration::from_secs(10), || async {
        let (_, s) = app.get("/v1/status").await;
        (s["git"]["pending_push"] == false && s["git"]["last_push"]["commit"] == local.as_str())
            .then_some(())
    })
    .await;
    assert!(done.is_some());
    app.stop().await;
}

#[tokio::test]
async fn a_rejected_push_keeps_the_archive_shows_the_failure_and_a_later_retry_pushes() {
    let ws = repo_workspace();
    let p = ws.path();
    let remote = bare_remote(p);
    let hook = remote.path().join("hooks/pre-receive");
    std::fs::write(&hook, "#!/bin/sh\necho 'refused by policy' >&2\nexit 1\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let app = TestApp::spawn_with(git_config(p, GitMode::Push)).await;
    promote(&app, json!({ "attempt": "rel_baseline/20261128_204321" })).await;
    let local = head(p);
    let failing = eventually(Duration::from_secs(30), || async {
        let (_, s) = app.get("/v1/status").await;
        (s["git"]["last_error"]["op"] == "push").then_some(s)
    })
    .await
    .expect("the failed push shows in /v1/status");
    assert_eq!(failing["git"]["pending_push"], true);
    assert!(failing["git"]["last_error"]["message"]
        .as_str()
        .unwrap()
        .contains("refused by policy"));
    assert!(
        p.join("reports/rel_baseline/report.json").is_file(),
        "archive kept"
    );
    assert_eq!(remote_main(remote.path()), None);
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("invarlockd_git_pushes_failed_total") && !l.ends_with(" 0")),
        "{metrics}"
    );
    assert!(app
        .audit_actions()
        .await
        .iter()
        .any(|a| a == "git.push_failed"));

    std::fs::remove_file(&hook).unwrap();
    let pushed = eventually(Duration::from_secs(30), || async {
        (remote_main(remote.path()).as_deref() == Some(local.as_str())).then_some(())
    })
    .await;
    assert!(pushed.is_some(), "a retry pushed once the remote accepted");
    let clear = eventually(Duration::from_secs(10), || async {
        let (_, s) = app.get("/v1/status").await;
        (s["git"]["pending_push"] == false && s["git"]["last_error"].is_null()).then_some(())
    })
    .await;
    assert!(clear.is_some());
    app.stop().await;
}

/// Every attempt of the corpus that can be promoted: baselines, then subjects with the
/// certificate archived by hand next to them.
async fn promote_corpus(app: &TestApp) -> usize {
    let mut promoted = 0;
    let runs = app.root.join("runs");
    let nicknames = names_in(&runs);
    let token = app.admin_token();
    for pass in ["baseline", "subject"] {
        for nick in &nicknames {
            let cert = format!("reports/{nick}_balanced/evaluation.cert.json");
            let body = if pass == "subject" && app.root.join(&cert).is_file() {
                json!({ "nickname": nick, "certificate": cert, "profile": "dev" })
            } else if pass == "baseline" && nick.ends_with("baseline") {
                json!({ "nickname": nick })
            } else {
                continue;
            };
            let (s, _) = post(app, "/v1/promotions", body, Some(&token)).await;
            if s == StatusCode::CREATED {
                promoted += 1;
            }
        }
    }
    promoted
}

#[tokio::test]
async fn git_log_of_the_promoted_corpus_shows_every_mapping_and_the_changelog_gives_the_same_entries(
) {
    let ws = repo_workspace();
    let p = ws.path();
    let app = TestApp::spawn_with(git_config(p, GitMode::Commit)).await;
    let promoted = promote_corpus(&app).await;
    assert!(promoted >= 3, "corpus promotions: {promoted}");
    let bodies = git(p, &["log", "--format=%H%x1f%B%x1e", "--", "reports/"]);
    let ours: Vec<(String, String)> = bodies
        .split('\x1e')
        .map(|r| r.trim())
        .filter(|r| r.contains("Invarlock-Archive: "))
        .map(|r| {
            let (h, b) = r.split_once('\x1f').unwrap();
            (h.to_string(), b.to_string())
        })
        .collect();
    assert_eq!(ours.len(), promoted, "one commit per promotion");
    // Every promotion's mapping is in the log: subject → baseline with both hashes.
    let (_, list) = app.get("/v1/promotions?origin=invarlockd&limit=1000").await;
    for item in list["items"].as_array().unwrap() {
        let meta = &item["metadata"];
        if meta["kind"] != "subject" {
            continue;
        }
        let entry = ours
            .iter()
            .find(|(_, b)| {
                b.contains(&format!(
                    "Invarlock-Archive: {}\n",
                    item["name"].as_str().unwrap()
                ))
            })
            .unwrap_or_else(|| panic!("no commit for {}", item["name"]));
        assert!(entry.1.contains(&format!(
            "Invarlock-Baseline: {}",
            meta["baseline"]["name"].as_str().unwrap()
        )));
        assert!(entry.1.contains(&format!(
            "Invarlock-Baseline-Report-Hash: {}",
            meta["baseline"]["report_hash"].as_str().unwrap()
        )));
    }
    // The change log, one entry per page, is the same list in the same order.
    let mut from_api = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let path = match &token {
            Some(t) => format!("/v1/changelog?limit=1&page_token={t}"),
            None => "/v1/changelog?limit=1".to_string(),
        };
        let (s, page) = app.get(&path).await;
        assert_eq!(s, StatusCode::OK, "{page:#}");
        for i in page["items"].as_array().unwrap() {
            from_api.push(i["commit"].as_str().unwrap().to_string());
        }
        match page["next_page_token"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    let from_git: Vec<String> = ours.iter().map(|(h, _)| h.clone()).collect();
    assert_eq!(from_api, from_git);
    // Retention never commits.
    let before = head(p);
    let body = json!({ "keep_last": 1, "keep_within": "0s", "failed_keep_within": "0s" });
    plan_and_apply(&app, body).await;
    assert_eq!(head(p), before);
    app.stop().await;
}
