//! The status page in a real browser: headless Chromium loads `/` on a copy of the sample
//! workspace, every nickname is in the rendered DOM, and a screenshot lands in
//! `target/status-page.png` for a person to look at.
//!
//! Skipped when `/usr/bin/chromium` is absent, with a `SKIPPED …` line in the `cargo test`
//! output (the test itself still reads `ok`), unless `CI=true`:
//! `.ci/run` installs Chromium, so there its absence is a failure.
#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;

use helpers::{copy_dir, sample_workspace, TestApp, REPO};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMIUM_DEADLINE: Duration = Duration::from_secs(120);

/// Runs Chromium headless with `args` then `url`, killing it if it outlives the deadline.
fn chromium(profile: &Path, args: &[&str], url: &str) -> Output {
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1280,1600",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    // Drain the pipes on threads so a chatty Chromium cannot block on a full pipe.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut b).ok();
        b
    });
    let err_thread = std::thread::spawn(move || {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut b).ok();
        b
    });
    let end = Instant::now() + CHROMIUM_DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("chromium waitable") {
            break status;
        }
        if Instant::now() > end {
            child.kill().ok();
            panic!("chromium did not finish within {CHROMIUM_DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(50)); // poll interval, bounded by the deadline
    };
    Output {
        status,
        stdout: out_thread.join().unwrap(),
        stderr: err_thread.join().unwrap(),
    }
}

/// Says the test was skipped where `cargo test` shows it: libtest captures `eprintln!` (shown
/// only for failures) but not writes to the stderr handle itself.
fn skipped(why: &str) {
    use std::io::Write;
    let line = format!(
        "SKIPPED chromium_renders_the_status_page_with_every_nickname_and_writes_a_screenshot: {why}\n"
    );
    let _ = std::io::stderr().write_all(line.as_bytes());
}

fn nicknames() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(sample_workspace().join("runs"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_renders_the_status_page_with_every_nickname_and_writes_a_screenshot() {
    if !Path::new(CHROMIUM).exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{CHROMIUM} is missing under CI=true (.ci/run installs it)"
        );
        skipped(&format!(
            "{CHROMIUM} is not installed (apt-get install chromium)"
        ));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    copy_dir(&sample_workspace(), &ws);
    let app = TestApp::spawn(&ws).await;
    let url = app.url("/");

    let shot: PathBuf = Path::new(REPO).join("target/status-page.png");
    std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(&shot);
    let profile = dir.path().join("chromium-profile");

    let (dom, screenshot) = {
        let (url, shot, profile) = (url.clone(), shot.clone(), profile.clone());
        tokio::task::spawn_blocking(move || {
            let dom = chromium(&profile, &["--dump-dom"], &url);
            let arg = format!("--screenshot={}", shot.display());
            let screenshot = chromium(&profile, &[arg.as_str()], &url);
            (dom, screenshot)
        })
        .await
        .unwrap()
    };
    app.stop().await;

    assert!(
        dom.status.success(),
        "chromium --dump-dom failed: {}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let html = String::from_utf8_lossy(&dom.stdout);
    let names = nicknames();
    assert!(!names.is_empty(), "the sample workspace has runs");
    for name in &names {
        let cell = format!("<td class=\"nickname\">{name}</td>");
        assert!(
            html.contains(&cell),
            "nickname {name} not on the page:\n{html}"
        );
    }
    assert!(
        screenshot.status.success(),
        "chromium --screenshot failed: {}",
        String::from_utf8_lossy(&screenshot.stderr)
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "screenshot is a PNG");
}
