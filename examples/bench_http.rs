//! What dashboards poll, at scale (issue 16). One command:
//!
//!     cargo run --release --example bench_http -- --attempts 100000 [--dir D] [--seconds 5]
//!
//! (`--prepare-only` stops once the workspace is generated; `--daemon PATH` runs that daemon
//! binary instead of building this checkout's, e.g. a copy of an older build for a before/after
//! comparison.)
//!
//! Builds (or, with `--dir D`, reuses) a workspace of N attempts with the `bench_index`
//! generator (examples/common), starts the release daemon on it (`target/release/invarlockd
//! serve`, which cargo builds first when out of date), waits until the index holds every
//! attempt, and drives it with `wrk` (installed with apt-get when missing; never part of
//! `cargo test`). For each of 1, 16 and 64 connections it prints req/s, p50 and p99 of: `/healthz` (the reference: the same
//! server, no work), `/v1/status`, `/v1/status` revalidated with `If-None-Match`,
//! `/v1/attempts?limit=100` alone and with each filter, the same page with a new `until` on
//! every request (none can be served from the daemon's page cache: the cost of a page that has
//! changed), and `/v1/runs?limit=100`, with each req/s as a ratio to `/healthz` at the same
//! concurrency, then the acceptance checks.
//! Figures are only compared within one invocation: the machine is shared.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Distinct report files written; the rest are hard links (about 0.6 GB on disk for these).
const DISTINCT: usize = 1_000;
const CONNECTIONS: [u32; 3] = [1, 16, 64];

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = flag(&args, "--attempts").map_or(100_000, |v| v.parse().expect("--attempts N"));
    let secs: u32 = flag(&args, "--seconds").map_or(5, |v| v.parse().expect("--seconds S"));
    let tmp = tempfile::tempdir().expect("temp dir");
    let root = flag(&args, "--dir").map_or_else(|| tmp.path().to_path_buf(), PathBuf::from);
    std::fs::create_dir_all(&root).unwrap();
    let t = Instant::now();
    let bytes = common::prepare(&root, n, DISTINCT);
    eprintln!(
        "{n} attempts ({:.1} GB logical) ready in {:.0}s",
        bytes as f64 / 1e9,
        t.elapsed().as_secs_f64()
    );
    if args.iter().any(|a| a == "--prepare-only") {
        return;
    }
    let wrk = ensure_wrk();
    let exe = flag(&args, "--daemon").map_or_else(ensure_daemon, PathBuf::from);
    let script = uncached_script(&root, n);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let daemon = Daemon(
        Command::new(&exe)
            .args([
                "serve",
                "--init",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--workspace",
            ])
            .arg(&root)
            // The periodic full rescan would land in the middle of the measurements.
            .env("INVARLOCKD_WATCH__RECONCILE_INTERVAL", "1h")
            .env("INVARLOCKD_LOG__LEVEL", "warn")
            .stdout(Stdio::null())
            .stderr(log_file(&root))
            .spawn()
            .expect("start the daemon"),
    );
    let t = Instant::now();
    let status = wait_indexed(&base, n);
    eprintln!(
        "daemon indexed {} attempts in {:.0}s (initial scan)",
        status["index"]["attempts"]["total"],
        t.elapsed().as_secs_f64()
    );

    let (targets, tag) = targets(&base);
    let mut table: Vec<(String, u32, Run)> = Vec::new();
    for c in CONNECTIONS {
        for (name, path, header) in &targets {
            let lua = (name == UNCACHED).then_some(script.as_path());
            let run = wrk_run(
                &wrk,
                &format!("{base}{path}"),
                header.as_deref(),
                lua,
                c,
                secs,
            );
            eprintln!("{name:<44} c={c:<3} {:>9.0} req/s", run.rps);
            table.push((name.clone(), c, run));
        }
    }
    // The If-None-Match rows measured 304s only if the tag they sent is still current.
    let (still, now) = status_tag(&base);
    let tag_ok = still && now == tag;
    drop(daemon);
    report(n, &table, tag_ok);
}

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        // SIGTERM through kill(1): the daemon stops within its shutdown grace.
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        let _ = self.0.wait();
    }
}

fn log_file(root: &Path) -> std::fs::File {
    let p = root.join("bench_http-daemon.log");
    eprintln!("daemon log: {}", p.display());
    std::fs::File::create(p).unwrap()
}

/// `wrk` on PATH, or installed from Debian.
fn ensure_wrk() -> String {
    let found = |p: &str| Command::new(p).arg("--version").output().is_ok();
    if !found("wrk") {
        eprintln!("installing wrk (apt-get install -y wrk)");
        let _ = Command::new("apt-get").args(["update", "-qq"]).status();
        let ok = Command::new("apt-get")
            .args(["install", "-y", "-qq", "wrk"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok && found("wrk"),
            "cannot install wrk; install it and rerun"
        );
    }
    "wrk".into()
}

/// The release daemon binary in this example's target dir, built (or found up to date) by cargo.
fn ensure_daemon() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let release = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    eprintln!("cargo build --release --bin invarlockd");
    let ok = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--bin", "invarlockd"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "cargo build --release failed");
    release.join("invarlockd")
}

fn get_json(url: &str) -> Option<serde_json::Value> {
    reqwest::blocking::get(url).ok()?.json().ok()
}

/// Polls `/v1/status` until the initial scan is done and every attempt is indexed.
fn wait_indexed(base: &str, n: usize) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(3600);
    let mut last = Instant::now();
    loop {
        if let Some(s) = get_json(&format!("{base}/v1/status")) {
            let total = s["index"]["attempts"]["total"].as_u64().unwrap_or(0);
            if s["initial_scan"]["done"] == true && total >= n as u64 {
                return s;
            }
            if last.elapsed() > Duration::from_secs(15) {
                eprintln!("  indexed {total} of {n}");
                last = Instant::now();
            }
        }
        assert!(Instant::now() < deadline, "not indexed within an hour");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// (whether `If-None-Match` with the current tag gets 304, the tag).
fn status_tag(base: &str) -> (bool, String) {
    let client = reqwest::blocking::Client::new();
    for _ in 0..100 {
        let r = client.get(format!("{base}/v1/status")).send().unwrap();
        if let Some(tag) = r.headers().get("etag").and_then(|t| t.to_str().ok()) {
            let again = client
                .get(format!("{base}/v1/status"))
                .header("if-none-match", tag)
                .send()
                .unwrap();
            return (again.status().as_u16() == 304, tag.to_string());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (false, String::new())
}

/// (name, path, extra header) of every measured request; filter values are taken from the
/// newest attempt, `since` and `until` from the generated history.
type Target = (String, String, Option<String>);

/// The row whose every request asks for another page (see `uncached_script`, which makes
/// each request's path).
const UNCACHED: &str = "/v1/attempts?limit=100&until=<new each request>";

/// A wrk script that gives each request its own `until` (the timestamp of attempt i, as
/// `common::attempt_id` makes it; each thread walks its own half of the attempts), so no answer
/// can come from the daemon's page cache: what a page costs right after the index changed.
fn uncached_script(root: &Path, n: usize) -> PathBuf {
    let lua = format!(
        r#"local N = {n}
counter = 0
tid = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
local k = 0
function request()
  local i = 2 * ((k * 7919) % math.floor(N / 2)) + tid
  k = k + 1
  local day, rest = math.floor(i / 86400), i % 86400
  local ts = string.format("2026%02d%02d_%02d%02d%02d", 1 + math.floor(day / 28), 1 + day % 28,
    math.floor(rest / 3600), math.floor(rest / 60) % 60, rest % 60)
  return wrk.format(nil, "/v1/attempts?limit=100&until=" .. ts)
end
"#
    );
    let p = root.join("bench_http-uncached.lua");
    std::fs::write(&p, lua).unwrap();
    p
}

fn targets(base: &str) -> (Vec<Target>, String) {
    let first = get_json(&format!("{base}/v1/attempts?limit=1")).expect("attempts");
    let a = &first["items"][0];
    let s = |k: &str| a[k].as_str().unwrap_or_default().to_string();
    let total = get_json(&format!("{base}/v1/status")).unwrap()["index"]["attempts"]["total"]
        .as_u64()
        .unwrap() as usize;
    let ts_of = |i: usize| {
        let id = common::attempt_id(i);
        id.rsplit('/').next().unwrap().to_string()
    };
    // Both bounds leave far more than a page: `since` the newest 1,000, `until` the middle.
    let (since_ts, mid_ts) = (ts_of(total.saturating_sub(1000)), ts_of(total / 2));
    let (ok, tag) = status_tag(base);
    assert!(ok, "/v1/status is never revalidated with 304");
    let mut out = vec![
        ("/healthz (reference)".into(), "/healthz".into(), None),
        ("/v1/status".into(), "/v1/status".into(), None),
        (
            "/v1/status If-None-Match (304)".into(),
            "/v1/status".into(),
            Some(format!("If-None-Match: {tag}")),
        ),
        (
            "/v1/attempts?limit=100".into(),
            "/v1/attempts?limit=100".into(),
            None,
        ),
    ];
    for (k, v) in [
        ("nickname", s("nickname")),
        ("status", s("status")),
        ("model_id", s("model_id")),
        ("edit", s("edit")),
        ("dataset_hash", s("dataset_hash")),
        ("tokenizer_hash", s("tokenizer_hash")),
        ("ids_sha256", s("ids_sha256")),
        ("since", since_ts),
        ("until", mid_ts),
    ] {
        assert!(!v.is_empty(), "the newest attempt has no {k}: {a:#}");
        let path = format!("/v1/attempts?limit=100&{k}={v}");
        let name = format!("/v1/attempts?limit=100&{k}=…");
        out.push((name, path, None));
    }
    out.push((UNCACHED.into(), "/v1/attempts?limit=100".into(), None));
    out.push((
        "/v1/runs?limit=100".into(),
        "/v1/runs?limit=100".into(),
        None,
    ));
    (out, tag)
}

#[derive(Clone, Copy)]
struct Run {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

fn wrk_run(
    wrk: &str,
    url: &str,
    header: Option<&str>,
    script: Option<&Path>,
    c: u32,
    secs: u32,
) -> Run {
    let mut cmd = Command::new(wrk);
    cmd.args([
        "--latency",
        "-t",
        &c.min(2).to_string(),
        "-c",
        &c.to_string(),
    ])
    .args(["-d", &format!("{secs}s"), "--timeout", "10s"]);
    if let Some(h) = header {
        cmd.args(["-H", h]);
    }
    if let Some(s) = script {
        cmd.arg("-s").arg(s);
    }
    let out = cmd.arg(url).output().expect("run wrk");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "wrk failed: {text}");
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(|v| v.trim().to_string())
    };
    Run {
        rps: field("Requests/sec:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0),
        p50_ms: field("50%").map_or(f64::NAN, |v| millis(&v)),
        p99_ms: field("99%").map_or(f64::NAN, |v| millis(&v)),
        errors: field("Non-2xx or 3xx responses:").map_or(0, |v| v.parse().unwrap_or(u64::MAX)),
    }
}

/// wrk's "123.45us", "1.20ms", "2.00s".
fn millis(v: &str) -> f64 {
    let num = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
    if let Some(x) = v.strip_suffix("us") {
        num(x) / 1000.0
    } else if let Some(x) = v.strip_suffix("ms") {
        num(x)
    } else if let Some(x) = v.strip_suffix('s') {
        num(x) * 1000.0
    } else {
        f64::NAN
    }
}

fn report(n: usize, table: &[(String, u32, Run)], tag_ok: bool) {
    let reference = |c: u32| {
        table
            .iter()
            .find(|(name, cc, _)| *cc == c && name.starts_with("/healthz"))
            .map_or(f64::NAN, |(_, _, r)| r.rps)
    };
    println!("\n== invarlockd HTTP benchmark: {n} attempts ==");
    println!(
        "{:<44} {:>4} {:>10} {:>9} {:>9} {:>8} {:>7}",
        "request", "conn", "req/s", "p50 ms", "p99 ms", "x healthz", "errors"
    );
    for (name, c, r) in table {
        println!(
            "{name:<44} {c:>4} {:>10.0} {:>9.2} {:>9.2} {:>8.2} {:>7}",
            r.rps,
            r.p50_ms,
            r.p99_ms,
            r.rps / reference(*c),
            r.errors
        );
    }
    println!("\nacceptance (issue 16), at 16 connections:");
    let at16 = |pred: &dyn Fn(&str) -> bool| -> Vec<(&String, &Run)> {
        table
            .iter()
            .filter(|(name, c, _)| *c == 16 && pred(name))
            .map(|(name, _, r)| (name, r))
            .collect()
    };
    let href = reference(16);
    for (name, r) in at16(&|n| n == "/v1/status") {
        check(
            &format!("{name} >= 0.5x healthz req/s"),
            r.rps / href,
            0.5,
            true,
        );
    }
    for (name, r) in at16(&|n| n.starts_with("/v1/status If")) {
        check(
            &format!("{name} >= 0.7x healthz req/s"),
            r.rps / href,
            0.7,
            true,
        );
    }
    for (name, r) in at16(&|n| n.starts_with("/v1/attempts")) {
        check(&format!("{name} p99 < 10 ms"), r.p99_ms, 10.0, false);
        check(
            &format!("{name} >= 0.15x healthz req/s"),
            r.rps / href,
            0.15,
            true,
        );
    }
    if !tag_ok {
        println!(
            "  WARNING: the status tag changed during the run; If-None-Match rows include 200s"
        );
    }
}

fn check(what: &str, value: f64, bound: f64, at_least: bool) {
    let ok = if at_least {
        value >= bound
    } else {
        value < bound
    };
    println!("  {:<4} {what}: {value:.2}", if ok { "ok" } else { "MISS" });
}
