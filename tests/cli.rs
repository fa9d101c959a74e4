//! The `invarlockd` binary as a user runs it: serve refuses what is not a workspace, one daemon
//! per workspace, clients find the daemon and token from inside the workspace, human output by
//! default and JSON with `--json`.

use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_invarlockd");

#[path = "support/workspace_copy.rs"]
mod workspace_copy;
use workspace_copy::{copy_dir, sample};

/// `invarlockd ARGS` in `cwd`, without the caller's INVARLOCKD_* client variables.
fn invarlockd(cwd: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env_remove("INVARLOCKD_URL")
        .env_remove("INVARLOCKD_TOKEN")
        .output()
        .expect("invarlockd runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

struct Daemon {
    child: Child,
    url: String,
}

impl Daemon {
    /// `serve` on port 0; the URL comes from the lock file, as clients find it.
    fn start(root: &Path, extra: &[&str]) -> Daemon {
        let mut child = Command::new(BIN)
            .args(["serve", "--workspace", root.to_str().unwrap()])
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("daemon starts");
        let lock = root.join(".invarlockd/daemon.lock");
        let end = Instant::now() + Duration::from_secs(60);
        loop {
            let info: Option<Value> = std::fs::read_to_string(&lock)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok());
            if let Some(url) = info.as_ref().and_then(|i| i["url"].as_str()) {
                let ready = reqwest::blocking::get(format!("{url}/readyz"))
                    .is_ok_and(|r| r.status().is_success());
                if ready {
                    return Daemon {
                        child,
                        url: url.to_string(),
                    };
                }
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("daemon exited before it was ready: {status}");
            }
            assert!(Instant::now() < end, "daemon not ready within 60 s");
            std::thread::sleep(Duration::from_millis(20)); // poll interval, bounded above
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn serve_refuses_a_directory_that_is_not_a_workspace_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("wokrspace");
    let out = invarlockd(
        dir.path(),
        &["serve", "--workspace", typo.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("invarlockd init"),
        "{}",
        text(&out.stderr)
    );
    assert!(!typo.exists());

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = invarlockd(dir.path(), &["serve", "--workspace", "empty"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("runs") && err.contains("reports"), "{err}");
    assert_eq!(
        std::fs::read_dir(&empty).unwrap().count(),
        0,
        "nothing created"
    );
}

#[test]
fn init_makes_a_workspace_and_serve_init_creates_one_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let out = invarlockd(dir.path(), &["init", "fresh"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("runs"), "{}", text(&out.stdout));
    for d in ["runs", "reports", ".invarlockd"] {
        assert!(dir.path().join("fresh").join(d).is_dir(), "{d}");
    }
    let out = invarlockd(dir.path(), &["init", "fresh", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("init --json is JSON");
    assert_eq!(
        v["created"],
        serde_json::json!([]),
        "a second init creates nothing"
    );
    let daemon = Daemon::start(&dir.path().join("other"), &["--init"]);
    assert!(daemon.url.starts_with("http://127.0.0.1:"));
    assert!(dir.path().join("other/runs").is_dir());
}

#[test]
fn a_second_daemon_on_the_same_workspace_exits_2_naming_the_first_ones_pid() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    copy_dir(&sample(), &ws);
    let first = Daemon::start(&ws, &[]);
    let out = invarlockd(
        dir.path(),
        &["serve", "--workspace", "ws", "--listen", "127.0.0.1:0"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains(&format!("PID {}", first.child.id())), "{err}");

    // A one-shot scan would be a second writer as well.
    let out = invarlockd(dir.path(), &["scan", "--workspace", "ws"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains(&format!("PID {}", first.child.id())));
    drop(first);

    let out = invarlockd(dir.path(), &["scan", "--workspace", "ws"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = text(&out.stdout);
    assert!(summary.contains("attempts      16"), "{summary}");
    assert!(!summary.contains("ScanSummary") && !text(&out.stderr).contains("ScanSummary"));
    let out = invarlockd(dir.path(), &["scan", "--workspace", "ws", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("scan --json is JSON");
    assert_eq!(v["attempts_seen"], 16);
}

#[test]
fn clients_inside_the_workspace_find_the_daemon_and_its_token_and_print_summaries() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    copy_dir(&sample(), &ws);
    let _daemon = Daemon::start(&ws, &[]);
    let deep = ws.join("runs/ci_quant8");

    let plan = [
        "retention",
        "plan",
        "--keep-last",
        "1",
        "--failed-keep-within",
        "0s",
    ];
    let out = invarlockd(&deep, &plan);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let human = text(&out.stdout);
    assert!(human.contains("delete 1 attempt "), "{human}");
    assert!(human.contains("ci_quant8/20261128_204253"), "{human}");

    let out = invarlockd(&deep, &[&plan[..], &["--json"]].concat());
    let v: Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    let id = v["id"].as_str().unwrap().to_string();
    let out = invarlockd(&deep, &["retention", "apply", &id]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("restore"),
        "{}",
        text(&out.stdout)
    );
    assert!(!deep.join("20261128_204253").exists());
    let out = invarlockd(&deep, &["retention", "restore", &id]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(deep.join("20261128_204253").is_dir());

    let out = invarlockd(&ws, &["audit-verify"]);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).starts_with("audit log: OK"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_client_outside_any_workspace_is_refused_with_where_it_looked_for_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    copy_dir(&sample(), &ws);
    let daemon = Daemon::start(&ws, &[]);
    let outside = dir.path().join("elsewhere");
    std::fs::create_dir(&outside).unwrap();
    let out = invarlockd(
        &outside,
        &["retention", "plan", "--url", daemon.url.as_str()],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("401"), "{err}");
    assert!(err.contains("INVARLOCKD_TOKEN"), "{err}");
    assert!(err.contains(&outside.display().to_string()), "{err}");

    // Naming the workspace is enough: its daemon's URL and token are found there.
    let out = invarlockd(&outside, &["retention", "plan", "--workspace", "../ws"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn promote_and_check_print_summaries_and_a_failed_check_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    copy_dir(&sample(), &ws);
    let _daemon = Daemon::start(&ws, &[]);
    let out = invarlockd(
        &ws,
        &[
            "promote",
            "--attempt",
            "rel_quant8/20261128_204341",
            "--certificate",
            "reports/rel_quant8_balanced/evaluation.cert.json",
            "--profile",
            "release",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let human = text(&out.stdout);
    assert!(
        human.starts_with("promoted rel_quant8/20261128_204341 into reports/rel_quant8/"),
        "{human}"
    );
    assert!(
        human.contains("archived the baseline too: reports/rel_baseline/"),
        "{human}"
    );

    let out = invarlockd(&ws, &["check", "rel_quant8"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("rel_quant8: OK, 5 checks passed"));

    // Archived bytes changed behind the daemon's back: the check names the file and exits 1.
    let cert = ws.join("reports/rel_quant8/evaluation.cert.json");
    let mut bytes = std::fs::read(&cert).unwrap();
    bytes.extend_from_slice(b"\n");
    std::fs::write(&cert, bytes).unwrap();
    let out = invarlockd(&ws, &["check", "rel_quant8"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let human = text(&out.stdout);
    assert!(human.starts_with("rel_quant8: FAILED"), "{human}");
    assert!(human.contains("FAIL  sha256"), "{human}");
    let out = invarlockd(&ws, &["check", "rel_quant8", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
}
