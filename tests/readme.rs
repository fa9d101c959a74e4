//! The README, pasted as a new user would: every ```sh block runs with bash, in order, in one
//! shell session, against a real daemon, in a throw-away git repository holding a copy of the
//! sample workspace and the repository's `.gitignore`. Any non-2xx answer (curl runs with
//! `--fail-with-body`) or non-zero exit fails the test, and `git status` must be clean at the
//! end.
//!
//! Markers on the line before a block (`<!-- readme-test: … -->`) say how long-running blocks
//! are handled: `daemon` runs in the background and is waited on until ready, `background`
//! runs in the background (`, expect TEXT`: its output must come to contain TEXT), `skip
//! REASON` is not run. `cargo run --release -- ARGS` runs the binary this test was built with;
//! any other cargo command is an error. The README's port 8765 becomes a free port.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/workspace_copy.rs"]
mod workspace_copy;
use workspace_copy::copy_dir;

const BIN: &str = env!("CARGO_BIN_EXE_invarlockd");
const REPO: &str = env!("CARGO_MANIFEST_DIR");
const DEADLINE: Duration = Duration::from_secs(300);

#[derive(Debug, PartialEq)]
enum Mode {
    Run,
    Daemon,
    Background { expect: Option<String> },
    Skip(String),
}

#[derive(Debug)]
struct Block {
    line: usize,
    mode: Mode,
    code: String,
}

fn mode(marker: &str) -> Mode {
    let m = marker.trim();
    if m == "daemon" {
        Mode::Daemon
    } else if let Some(rest) = m.strip_prefix("background") {
        let expect = rest.trim().strip_prefix(", expect ").map(str::to_string);
        assert!(expect.is_some() || rest.trim().is_empty(), "marker {m:?}");
        Mode::Background { expect }
    } else if let Some(reason) = m.strip_prefix("skip ") {
        Mode::Skip(reason.trim().to_string())
    } else {
        panic!("unknown README test marker {m:?}");
    }
}

/// The ```sh / ```bash / ```shell blocks with their marker.
fn blocks(readme: &str) -> Vec<Block> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let fence = lines[i].trim();
        let lang = fence.strip_prefix("```").map(str::trim);
        if !matches!(lang, Some("sh" | "bash" | "shell")) {
            if lang.is_some() {
                // Another kind of block: skip to its end so its content is not read as fences.
                i += 1;
                while i < lines.len() && !lines[i].trim().starts_with("```") {
                    i += 1;
                }
            }
            i += 1;
            continue;
        }
        let marker = lines[..i]
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .and_then(|l| l.trim().strip_prefix("<!-- readme-test:"))
            .and_then(|l| l.strip_suffix("-->"));
        let start = i;
        let mut code = String::new();
        i += 1;
        while i < lines.len() && lines[i].trim() != "```" {
            code.push_str(lines[i]);
            code.push('\n');
            i += 1;
        }
        out.push(Block {
            line: start + 1,
            mode: marker.map_or(Mode::Run, mode),
            code,
        });
        i += 1;
    }
    out
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn git(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=readme", "-c", "user.email=readme@test"])
        .args(args)
        .current_dir(repo)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A fresh "clone": the sample workspace and the repository's .gitignore, committed.
fn clone_like(dir: &Path) -> PathBuf {
    let repo = dir.join("repo");
    copy_dir(
        &Path::new(REPO).join("examples/workspace"),
        &repo.join("examples/workspace"),
    );
    std::fs::copy(Path::new(REPO).join(".gitignore"), repo.join(".gitignore")).unwrap();
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "fresh clone"]);
    // `cargo run --release` would have left the binary here.
    std::fs::create_dir_all(repo.join("target/release")).unwrap();
    std::os::unix::fs::symlink(BIN, repo.join("target/release/invarlockd")).unwrap();
    repo
}

const PRELUDE: &str = r#"set -euo pipefail
trap 'echo "README test: failed: $BASH_COMMAND" >&2' ERR
curl() { command curl --fail-with-body "$@"; }
cargo() {
    if [[ "${1-} ${2-} ${3-}" == "run --release --" ]]; then
        shift 3
        exec "$README_BIN" "$@"
    fi
    echo "readme test: unexpected cargo $*" >&2
    return 127
}
readme_wait_ready() {  # $1: the daemon's pid, $2: its log
    local deadline=$((SECONDS + 120))
    until command curl -fsS -o /dev/null "http://127.0.0.1:$README_PORT/readyz" 2>/dev/null; do
        kill -0 "$1" 2>/dev/null || { echo "daemon exited:" >&2; cat "$2" >&2; return 1; }
        ((SECONDS < deadline)) || { echo "daemon not ready" >&2; return 1; }
        sleep 0.1  # poll interval, bounded by the deadline
    done
}
"#;

/// The session script, and for each background block its output file and expectation.
fn script(blocks: &[Block], port: u16, logs: &Path) -> (String, Vec<(PathBuf, Option<String>)>) {
    let mut s = String::from(PRELUDE);
    let mut watch = Vec::new();
    for (n, b) in blocks.iter().enumerate() {
        let code = b.code.replace(":8765", &format!(":{port}"));
        let log = logs.join(format!("block-{n}.log"));
        s.push_str(&format!("\necho '### README line {}' >&2\n", b.line));
        match &b.mode {
            Mode::Run => s.push_str(&code),
            Mode::Skip(reason) => s.push_str(&format!("echo 'skipped: {reason}' >&2\n")),
            Mode::Daemon => {
                s.push_str(&format!(
                    "(export INVARLOCKD_SERVER__LISTEN=127.0.0.1:{port}\n{code}) </dev/null >{l} 2>&1 &\n\
                     readme_wait_ready $! {l}\n",
                    l = log.display()
                ));
                watch.push((log, None));
            }
            Mode::Background { expect } => {
                s.push_str(&format!("({code}) </dev/null >{} 2>&1 &\n", log.display()));
                watch.push((log, expect.clone()));
            }
        }
    }
    (s, watch)
}

/// Kills the session's process group (the daemon and background blocks) when dropped.
struct Group(u32);

/// `kill -SIG -- -PGID` with bash's builtin (no dependence on a procps `kill` binary).
fn kill_group(signal: &str, pgid: u32) -> bool {
    Command::new("bash")
        .args([
            "-c",
            "kill \"$1\" -- \"-$2\" 2>/dev/null",
            "kill",
            signal,
            &pgid.to_string(),
        ])
        .status()
        .is_ok_and(|s| s.success())
}

impl Drop for Group {
    fn drop(&mut self) {
        kill_group("-TERM", self.0);
        let end = Instant::now() + Duration::from_secs(30);
        while kill_group("-0", self.0) && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(50)); // poll interval, bounded above
        }
    }
}

/// The README's tools. Missing outside CI, the test is skipped with a line `cargo test` shows
/// (libtest captures `eprintln!`, not writes to the stderr handle); under `CI=true` it fails.
fn tools_missing(test: &str) -> bool {
    let missing: Vec<&str> = ["bash", "curl", "jq", "git"]
        .into_iter()
        .filter(|t| {
            !Command::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .collect();
    if missing.is_empty() {
        return false;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{missing:?} missing under CI=true (.ci/run installs them)"
    );
    use std::io::Write;
    let line = format!("SKIPPED {test}: {missing:?} not installed\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
    true
}

#[test]
fn every_readme_shell_block_runs_in_order_and_leaves_git_status_clean() {
    if tools_missing("every_readme_shell_block_runs_in_order_and_leaves_git_status_clean") {
        return;
    }
    let readme = std::fs::read_to_string(Path::new(REPO).join("README.md")).unwrap();
    let blocks = blocks(&readme);
    // The two commands a newcomer needs first stay in the README and stay true.
    assert!(
        blocks
            .iter()
            .any(|b| b.mode == Mode::Daemon && b.code.contains("cargo run --release -- serve")),
        "the README runs the daemon"
    );
    let ci = std::fs::read_to_string(Path::new(REPO).join(".ci/run")).unwrap();
    assert!(
        blocks
            .iter()
            .any(|b| b.code.trim() == "cargo test --locked")
            && ci.lines().any(|l| l.trim() == "cargo test --locked"),
        "the README's test command is the one .ci/run runs"
    );

    let dir = tempfile::tempdir().unwrap();
    let repo = clone_like(dir.path());
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let port = free_port();
    let (text, watch) = script(&blocks, port, &logs);
    let script_path = logs.join("readme.sh");
    std::fs::write(&script_path, &text).unwrap();

    let out_path = logs.join("session.log");
    let out = std::fs::File::create(&out_path).unwrap();
    let mut child = Command::new("bash")
        .arg(&script_path)
        .current_dir(&repo)
        .env("README_BIN", BIN)
        .env("README_PORT", port.to_string())
        .env_remove("INVARLOCKD_URL")
        .env_remove("INVARLOCKD_TOKEN")
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .process_group(0)
        .spawn()
        .expect("bash runs");
    let group = Group(child.id());
    let session = || std::fs::read_to_string(&out_path).unwrap_or_default();
    let end = Instant::now() + DEADLINE;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < end,
            "README session over {DEADLINE:?}:\n{}",
            session()
        );
        std::thread::sleep(Duration::from_millis(50)); // poll interval, bounded above
    };
    assert!(
        status.success(),
        "a README block failed ({status}):\n{}",
        session()
    );

    for (log, expect) in &watch {
        let Some(expect) = expect else { continue };
        let end = Instant::now() + Duration::from_secs(30);
        while !std::fs::read_to_string(log)
            .unwrap_or_default()
            .contains(expect.as_str())
        {
            assert!(
                Instant::now() < end,
                "{} never showed {expect:?}:\n{}",
                log.display(),
                std::fs::read_to_string(log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50)); // poll interval, bounded above
        }
    }
    drop(group);
    let dirty = git(&repo, &["status", "--porcelain", "--untracked-files=all"]);
    assert!(
        dirty.is_empty(),
        "the walk-through dirtied the checkout:\n{dirty}"
    );
    let session = session();
    assert!(
        session.contains("delete 1 attempt "),
        "retention shows a deletion:\n{session}"
    );
}

#[test]
fn serving_the_sample_workspace_in_place_leaves_git_status_clean() {
    // For those who skip the scratch copy: the daemon's own files there are ignored by git.
    if tools_missing("serving_the_sample_workspace_in_place_leaves_git_status_clean") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let repo = clone_like(dir.path());
    let ws = repo.join("examples/workspace");
    let port = free_port();
    let mut child = Command::new(BIN)
        .args(["serve", "--workspace", ws.to_str().unwrap()])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(60);
    // Ready means the initial scan is done, convenience copies included.
    while !reqwest::blocking::get(format!("http://127.0.0.1:{port}/readyz"))
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < end, "daemon not ready");
        std::thread::sleep(Duration::from_millis(20)); // poll interval, bounded above
    }
    let copies = std::fs::read_dir(ws.join("runs"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().join("report.json").is_file())
        .count();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(copies > 0, "the daemon wrote convenience copies");
    let dirty = git(&repo, &["status", "--porcelain", "--untracked-files=all"]);
    assert!(
        dirty.is_empty(),
        "serving the sample dirtied the checkout:\n{dirty}"
    );
}
