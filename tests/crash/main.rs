//! The daemon as a real process, killed with SIGKILL or stopped with SIGTERM at awkward moments.
//! The random suite (`suite.rs`) prints its seed; replay a run with INVARLOCKD_CRASH_SEED=<seed>.

mod suite;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_invarlockd");

#[path = "../support/workspace_copy.rs"]
mod workspace_copy;
pub(crate) use workspace_copy::{copy_dir, sample};
#[path = "../support/git.rs"]
mod git_cli;
use git_cli::git;
#[path = "../support/listening.rs"]
mod listening;
use listening::spawn_listening;

/// A small pseudo-random generator: the tests need variety, not quality.
pub(crate) struct Lcg(pub u64);
impl Lcg {
    pub fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

pub(crate) struct Daemon {
    pub child: Child,
    pub url: String,
    pub token: String,
}

impl Daemon {
    pub fn start(root: &Path, env: &[(&str, &str)]) -> Daemon {
        let mut cmd = Command::new(BIN);
        cmd.args([
            "serve",
            "--workspace",
            root.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .env("INVARLOCKD_LOG__FORMAT", "json")
        .env("RUST_LOG", "info");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let (child, url, token) = spawn_listening(cmd, root);
        let d = Daemon { child, url, token };
        d.wait_ready();
        d
    }

    pub fn client() -> reqwest::blocking::Client {
        reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap()
    }

    pub fn wait_ready(&self) {
        let end = Instant::now() + Duration::from_secs(60);
        while Instant::now() < end {
            if let Ok(r) = Self::client().get(format!("{}/readyz", self.url)).send() {
                if r.status().is_success() {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("daemon not ready");
    }

    pub fn post(&self, path: &str, body: Value) -> Result<(u16, Value), reqwest::Error> {
        let r = Self::client()
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .json(&body)
            .send()?;
        let s = r.status().as_u16();
        Ok((s, r.json().unwrap_or(Value::Null)))
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        let r = Self::client()
            .get(format!("{}{path}", self.url))
            .send()
            .unwrap();
        let s = r.status().as_u16();
        (s, r.json().unwrap_or(Value::Null))
    }

    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

pub(crate) fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

/// Every directory under reports/ is either hand-archived corpus evidence or a complete
/// promotion whose files match its metadata.json.
pub(crate) fn assert_no_partial_archives(root: &Path, external: &[String]) {
    for e in std::fs::read_dir(root.join("reports")).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if external.contains(&name) {
            continue;
        }
        assert!(
            !name.starts_with('.'),
            "temporary directory {name} visible after restart"
        );
        let meta: Value = serde_json::from_slice(
            &std::fs::read(e.path().join("metadata.json"))
                .unwrap_or_else(|_| panic!("{name} has no metadata.json")),
        )
        .unwrap();
        for f in meta["files"].as_array().unwrap() {
            let bytes = std::fs::read(e.path().join(f["name"].as_str().unwrap())).unwrap();
            assert_eq!(
                sha256_hex(&bytes),
                f["sha256"].as_str().unwrap(),
                "{name}: partial file"
            );
        }
    }
}

pub(crate) fn external_names(root: &Path) -> Vec<String> {
    std::fs::read_dir(root.join("reports"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn sigkill_during_apply_leaves_each_directory_wholly_in_runs_or_in_trash_and_reapply_finishes() {
    let ws = tempfile::tempdir().unwrap();
    let root = ws.path();
    let template = sample().join("runs/drift_baseline/20261128_204358");
    let n = 40;
    for m in 0..n {
        let dir = root.join(format!("runs/q/20261101_10{:02}{:02}", m / 60, m % 60));
        copy_dir(&template, &dir);
        // Distinct bytes per attempt, each archived, so that none is protected.
        let mut report = std::fs::read(dir.join("report.json")).unwrap();
        report.extend_from_slice(format!("\n{}", " ".repeat(m)).as_bytes());
        std::fs::write(dir.join("report.json"), &report).unwrap();
        std::fs::create_dir_all(root.join(format!("reports/q{m}"))).unwrap();
        std::fs::write(root.join(format!("reports/q{m}/report.json")), &report).unwrap();
    }
    let env = [("INVARLOCKD_TEST_RETENTION_DELAY_MS", "25")];
    let daemon = Daemon::start(root, &env);
    let end = Instant::now() + Duration::from_secs(60);
    while daemon.get("/v1/status").1["index"]["attempts"]["total"] != n && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    let (s, plan) = daemon
        .post(
            "/v1/retention/plan",
            json!({ "keep_last": 1, "keep_within": "0s" }),
        )
        .unwrap();
    assert_eq!(s, 200, "{plan}");
    let id = plan["id"].as_str().unwrap().to_string();
    assert_eq!(plan["delete"].as_array().unwrap().len(), n - 1);
    let pid = daemon.child.id();
    let trash_dir = root.join(format!(".invarlockd/trash/{id}/q"));
    // Kill once the apply is under way (some directories moved), whatever the machine's speed.
    let killer = std::thread::spawn(move || {
        let end = Instant::now() + Duration::from_secs(60);
        while Instant::now() < end
            && std::fs::read_dir(&trash_dir)
                .map(|d| d.count())
                .unwrap_or(0)
                < 3
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    });
    let r = daemon.post("/v1/retention/apply", json!({ "plan_id": id }));
    assert!(r.is_err(), "apply finished before the kill: {r:?}");
    killer.join().unwrap();
    daemon.kill();

    let trash = root.join(format!(".invarlockd/trash/{id}/q"));
    let mut in_runs = 0;
    let mut in_trash = 0;
    for d in plan["delete"].as_array().unwrap() {
        let attempt = d["attempt"].as_str().unwrap();
        let ts = attempt.rsplit('/').next().unwrap();
        let a = root.join("runs").join(attempt);
        let b = trash.join(ts);
        let whole = |p: &Path| p.join("report.json").is_file() && p.join("events.jsonl").is_file();
        match (a.exists(), b.exists()) {
            (true, false) => {
                assert!(whole(&a));
                in_runs += 1
            }
            (false, true) => {
                assert!(whole(&b));
                in_trash += 1
            }
            other => panic!("{attempt}: in runs/trash = {other:?}"),
        }
    }
    assert!(
        in_trash > 0 && in_runs > 0,
        "kill landed mid-apply: {in_trash} moved, {in_runs} not yet"
    );
    // The restart finishes the interrupted apply before it serves; applying again is refused.
    let daemon = Daemon::start(root, &[]);
    let (_, v) = daemon.get(&format!("/v1/retention/plans/{id}"));
    assert_eq!(v["state"], "applied", "{v}");
    let (s, v) = daemon
        .post("/v1/retention/apply", json!({ "plan_id": id }))
        .unwrap();
    assert_eq!(s, 409, "{v}");
    assert_eq!(std::fs::read_dir(&trash).unwrap().count(), n - 1);
    let (_, audit) = daemon.get("/v1/audit?limit=1000");
    let moved = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "retention.moved")
        .count();
    assert_eq!(moved, n - 1, "each move audited exactly once");
    // What is left of runs/q: the kept attempt (and the convenience copy report.json).
    let dirs = std::fs::read_dir(root.join("runs/q"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count();
    assert_eq!(dirs, 1);
    daemon.kill();
}

#[test]
fn sigterm_during_a_promotion_lets_it_complete_and_exits_0() {
    let ws = tempfile::tempdir().unwrap();
    let root = ws.path();
    copy_dir(
        &sample().join("runs/drift_baseline"),
        &root.join("runs/drift_baseline"),
    );
    let mut daemon = Daemon::start(root, &[("INVARLOCKD_TEST_PROMOTE_DELAY_MS", "800")]);
    let pid = daemon.child.id();
    let reports = root.join("reports");
    // Stop the daemon while the promotion is mid-write (its temporary directory exists).
    let term = std::thread::spawn(move || {
        let end = Instant::now() + Duration::from_secs(60);
        let writing = || {
            std::fs::read_dir(&reports)
                .map(|d| {
                    d.flatten().any(|e| {
                        e.file_name()
                            .to_string_lossy()
                            .starts_with(".invarlockd-tmp-")
                    })
                })
                .unwrap_or(false)
        };
        while Instant::now() < end && !writing() {
            std::thread::sleep(Duration::from_millis(5));
        }
        Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
    });
    let (s, v) = daemon
        .post(
            "/v1/promotions",
            json!({ "attempt": "drift_baseline/20261128_204358" }),
        )
        .unwrap();
    term.join().unwrap();
    assert_eq!(s, 201, "{v}");
    let status = daemon.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(root.join("reports/drift_baseline/metadata.json").is_file());
}

/// The sample workspace as a git work tree with one commit.
fn git_workspace() -> tempfile::TempDir {
    let ws = tempfile::tempdir().unwrap();
    let root = ws.path();
    copy_dir(&sample(), root);
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["config", "user.name", "Test User"]);
    git(root, &["config", "user.email", "user@example.com"]);
    git(root, &["config", "commit.gpgsign", "false"]);
    std::fs::write(root.join(".gitignore"), "runs/\nreports_*/\n.invarlockd/\n").unwrap();
    git(root, &["add", ".gitignore", "reports"]);
    git(root, &["commit", "-q", "-m", "initial"]);
    ws
}

fn commits_archiving(root: &Path, name: &str) -> usize {
    git(
        root,
        &[
            "log",
            "--format=%H",
            &format!("--grep=^Invarlock-Archive: {name}$"),
        ],
    )
    .lines()
    .count()
}

fn poll(what: &str, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(60);
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts a promotion of rel_baseline in the background (its answer never comes: the daemon
/// is killed while it waits in a test delay).
fn promote_in_background(d: &Daemon) -> std::thread::JoinHandle<()> {
    let (url, token) = (d.url.clone(), d.token.clone());
    std::thread::spawn(move || {
        let _ = Daemon::client()
            .post(format!("{url}/v1/promotions"))
            .bearer_auth(token)
            .json(&json!({ "attempt": "rel_baseline/20261128_204321" }))
            .send();
    })
}

/// A committing daemon that waits in the test delay `delay` promotes rel_baseline in the
/// background and is killed once `what` has happened.
fn kill_a_promotion_once(root: &Path, delay: &str, what: &str, happened: impl FnMut() -> bool) {
    let d = Daemon::start(
        root,
        &[("INVARLOCKD_REPORTS__GIT", "commit"), (delay, "60000")],
    );
    let request = promote_in_background(&d);
    poll(what, happened);
    d.kill();
    let _ = request.join();
}

/// Once the owed commit is worked off: one commit, the user's index knows its files, no lock.
fn assert_committed_once_and_clean(root: &Path) {
    let d = Daemon::start(root, &[("INVARLOCKD_REPORTS__GIT", "commit")]);
    poll("the owed commit", || {
        let (_, s) = d.get("/v1/status");
        commits_archiving(root, "rel_baseline") == 1 && s["git"]["pending_commits"] == 0
    });
    d.kill();
    // Another start commits nothing again.
    let d = Daemon::start(root, &[("INVARLOCKD_REPORTS__GIT", "commit")]);
    poll("the retry loop's first pass", || {
        d.get("/v1/status").1["git"]["pending_commits"] == 0
    });
    assert_eq!(commits_archiving(root, "rel_baseline"), 1);
    assert!(!root.join(".git/index.lock").exists(), "no lock left");
    let status = git(root, &["status", "--porcelain"]);
    assert!(
        !status.contains("reports/"),
        "the user's index holds the committed files: {status}"
    );
    d.kill();
}

#[test]
fn sigkill_between_archive_and_commit_is_committed_exactly_once_at_restart() {
    let ws = git_workspace();
    let root = ws.path();
    let start = git(root, &["rev-parse", "HEAD"]);
    kill_a_promotion_once(
        root,
        "INVARLOCKD_TEST_GIT_COMMIT_DELAY_MS",
        "the archive",
        || root.join("reports/rel_baseline/metadata.json").is_file(),
    );
    assert_eq!(
        git(root, &["rev-parse", "HEAD"]),
        start,
        "not committed yet"
    );
    assert_committed_once_and_clean(root);
}

#[test]
fn sigkill_between_the_branch_update_and_the_index_update_commits_nothing_twice_and_frees_the_lock()
{
    let ws = git_workspace();
    let root = ws.path();
    let start = git(root, &["rev-parse", "HEAD"]);
    kill_a_promotion_once(
        root,
        "INVARLOCKD_TEST_GIT_INDEX_DELAY_MS",
        "the branch update",
        || git(root, &["rev-parse", "HEAD"]) != start,
    );
    assert!(
        root.join(".git/index.lock").exists(),
        "killed while holding the index lock"
    );
    assert_committed_once_and_clean(root);
}
