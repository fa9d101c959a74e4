//! Indexing benchmark (issue 2). One command:
//!
//!     cargo run --release --example bench_index -- --attempts 10000
//!
//! Generates N attempts whose report.json files are the corpus reports (all 15, cycled; a
//! unique `meta.ts` each), then measures, each phase in a child process so that its peak RSS
//! is its own:
//! - `reference`: only read + parse every report.json into a document (the project's
//!   Python-compatible parser: serde_json rejects the bare `NaN` of real reports), same threads;
//! - `reference-skip`, the strict reference: read + parse the way the indexer does, token
//!   arrays syntax-checked but not built (most of a report's bytes). The indexer also takes the
//!   sha256 of every byte, which here costs as much as this parse;
//! - `index`: a cold `full_scan` into a fresh index.db;
//! - `serve`: the daemon on that workspace: event→visible latency while 50 attempts/s are
//!   written, then `GET /v1/status` requests/s.
//!
//! With `--database postgres://…` (issue 12) the same run also measures the PostgreSQL backend
//! beside these SQLite figures (see bench_index_pg/): cold index, event→visible with two
//! daemons on one database, and `GET /v1/attempts?limit=100` latency. `--also-attempts 100000`
//! repeats the cold index on both backends and the PostgreSQL list latency at that size (the
//! default run stays small: minutes, not hours, on a 2-core machine).
//!
//! At most 10,000 distinct report files are written; beyond that, attempts are hard links to
//! them (same bytes, distinct paths), to keep 100k attempts within disk and page cache.
//! Figures are ratios against the reference measured in the same invocation.

mod bench_index_pg;
mod common;

use common::daemon::{percentile, poll_until, serve, sorted, visible_after_ms, watch_events, Seen};
use common::{live_id, templates, write_live_attempt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const MAX_DISTINCT: usize = 10_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("reference") => phase_reference(Path::new(&args[2]), false),
        Some("reference-skip") => phase_reference(Path::new(&args[2]), true),
        Some("index") => phase_index(Path::new(&args[2])),
        Some("serve") => phase_serve(Path::new(&args[2])),
        Some("index-pg") => bench_index_pg::phase_index(Path::new(&args[2]), &args[3], &args[4]),
        Some("serve-pg") => bench_index_pg::phase_serve(Path::new(&args[2]), &args[3], &args[4]),
        _ => driver(&args[1..]),
    }
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn driver(args: &[String]) {
    let n: usize = flag(args, "--attempts")
        .map(|v| v.parse().expect("--attempts N"))
        .unwrap_or(10_000);
    let keep = flag(args, "--dir").map(PathBuf::from);
    let tmp = tempfile::tempdir().expect("temp dir");
    let root = keep.unwrap_or_else(|| tmp.path().to_path_buf());
    let t = Instant::now();
    // `--dir D` keeps the workspace; a second invocation with the same N reuses it (generating
    // 100k attempts takes minutes).
    let bytes = common::prepare(&root, n, MAX_DISTINCT);
    eprintln!(
        "{n} attempts ({:.1} GB logical) ready in {:.1}s",
        bytes as f64 / 1e9,
        t.elapsed().as_secs_f64()
    );

    // Warm the page cache once so that no measured phase pays for the disk alone.
    let _ = child("reference-skip", &root);
    let (reference, ref_rss) = child("reference", &root);
    let (strict, strict_rss) = child("reference-skip", &root);
    let (index, index_rss) = child("index", &root);
    let (serve, serve_rss) = child("serve", &root);

    let ref_s = reference["secs"].as_f64().unwrap();
    let strict_s = strict["secs"].as_f64().unwrap();
    let idx_s = index["secs"].as_f64().unwrap();
    let mb = bytes as f64 / 1e6;
    let line = |name: &str, secs: f64, rss: f64| {
        println!(
            "{name:<34}: {:>7.0} attempts/s  {:>7.1} MB/s  (peak RSS {rss:.0} MB)",
            n as f64 / secs,
            mb / secs
        )
    };
    println!("\n== invarlockd index benchmark: {n} attempts, {mb:.0} MB of report.json ==");
    line("reference: read + parse", ref_s, ref_rss);
    line("strict reference: read + skim", strict_s, strict_rss);
    line("cold index", idx_s, index_rss);
    println!(
        "cold index / reference throughput ratio: {:.2}  (target >= 0.5)",
        ref_s / idx_s
    );
    println!(
        "cold index / strict reference ratio    : {:.2}  (the indexer also hashes every byte)",
        strict_s / idx_s
    );
    println!(
        "event->visible latency at 50 attempts/s: p50 {:.0} ms  p99 {:.0} ms  max {:.0} ms  ({} attempts)  (target p99 < 250 ms)",
        serve["p50_ms"].as_f64().unwrap_or(f64::INFINITY),
        serve["p99_ms"].as_f64().unwrap_or(f64::INFINITY),
        serve["max_ms"].as_f64().unwrap_or(f64::INFINITY),
        serve["written"]
    );
    println!("  attempts never seen within 60 s: {}", serve["never_seen"]);
    println!(
        "GET /v1/status       : {:>9.0} requests/s",
        serve["status_rps"].as_f64().unwrap()
    );
    println!(
        "GET /v1/attempts?limit=100: p50 {:.1} ms  p99 {:.1} ms",
        serve["list_p50_ms"].as_f64().unwrap_or(f64::NAN),
        serve["list_p99_ms"].as_f64().unwrap_or(f64::NAN)
    );
    println!("daemon peak RSS      : {serve_rss:.0} MB  (target < 200 MB)");
    println!(
        "index.db size        : {:.1} MB",
        index["db_mb"].as_f64().unwrap()
    );
    if let Some(url) = flag(args, "--database") {
        postgres(&root, n, idx_s, &url);
        if let Some(big) = flag(args, "--also-attempts").map(|v| v.parse::<usize>().expect("N")) {
            let dir = tempfile::tempdir().expect("temp dir");
            common::prepare(dir.path(), big, MAX_DISTINCT);
            let (sqlite, _) = child("index", dir.path());
            postgres(dir.path(), big, sqlite["secs"].as_f64().unwrap(), &url);
        }
    }
}

/// The PostgreSQL figures at `n` attempts beside SQLite's cold index (`sqlite_s` seconds).
fn postgres(root: &Path, n: usize, sqlite_s: f64, url: &str) {
    let tag = format!("{}-{n}", std::process::id());
    let (index, _) = child_with("index-pg", root, &[url, &tag]);
    let (serve, rss) = child_with("serve-pg", root, &[url, &tag]);
    let pg_s = index["secs"].as_f64().unwrap();
    println!("\n== PostgreSQL ({n} attempts) ==");
    println!(
        "cold index           : SQLite {:>7.0} attempts/s  PostgreSQL {:>7.0} attempts/s  ratio {:.2}  (target >= 0.7)",
        n as f64 / sqlite_s,
        n as f64 / pg_s,
        sqlite_s / pg_s
    );
    println!(
        "event->visible, two daemons at 50 attempts/s each: p50 {:.0} ms  p99 {:.0} ms  ({} attempts, {} never seen)  (target p99 < 250 ms)",
        serve["p50_ms"].as_f64().unwrap_or(f64::INFINITY),
        serve["p99_ms"].as_f64().unwrap_or(f64::INFINITY),
        serve["written"],
        serve["never_seen"]
    );
    println!(
        "GET /v1/attempts?limit=100 over both workspaces ({n} + 500 rows): p50 {:.1} ms  p99 {:.1} ms  (target p99 < 20 ms)",
        serve["list_p50_ms"].as_f64().unwrap_or(f64::NAN),
        serve["list_p99_ms"].as_f64().unwrap_or(f64::NAN)
    );
    println!("two daemons' peak RSS: {rss:.0} MB");
}

/// Runs a phase in a child process; returns its JSON result and peak RSS in MB.
fn child(phase: &str, root: &Path) -> (serde_json::Value, f64) {
    child_with(phase, root, &[])
}

/// `child` with more arguments after the root.
#[allow(clippy::zombie_processes)] // reaped by wait4 below, which also gives its rusage
fn child_with(phase: &str, root: &Path, extra: &[&str]) -> (serde_json::Value, f64) {
    let exe = std::env::current_exe().unwrap();
    let child = Command::new(exe)
        .args([phase, root.to_str().unwrap()])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn phase");
    let pid = child.id() as libc::pid_t;
    let mut out = child.stdout.unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut out, &mut text).unwrap();
    let mut status = 0;
    let mut usage: libc::rusage = unsafe_zeroed();
    // SAFETY-free alternative does not exist in std: wait4 is the only way to get one child's rusage.
    let r = wait4(pid, &mut status, &mut usage);
    assert_eq!(r, pid, "wait4");
    assert_eq!(status, 0, "phase {phase} failed");
    let json = serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("phase {phase} printed {text:?}: {e}"));
    (json, usage.ru_maxrss as f64 / 1024.0)
}

#[allow(unsafe_code)]
fn unsafe_zeroed() -> libc::rusage {
    // SAFETY: rusage is plain old data; all-zero is a valid value.
    unsafe { std::mem::zeroed() }
}

#[allow(unsafe_code)]
fn wait4(pid: libc::pid_t, status: &mut i32, usage: &mut libc::rusage) -> libc::pid_t {
    // SAFETY: valid pointers to live locals; pid is our own child.
    unsafe { libc::wait4(pid, status, 0, usage) }
}

fn report_paths(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for nick in std::fs::read_dir(root.join("runs")).unwrap() {
        let nick = nick.unwrap().path();
        if !nick.is_dir() {
            continue;
        }
        for ts in std::fs::read_dir(&nick).unwrap() {
            let p = ts.unwrap().path().join("report.json");
            if p.is_file() {
                out.push(p);
            }
        }
    }
    out
}

/// Reads and parses every report.json: into a whole document (the reference), or, with
/// `skip`, skipping the token arrays as the indexer does (syntax-checked, not built).
fn phase_reference(root: &Path, skip: bool) {
    let paths = report_paths(root);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let t = Instant::now();
    let chunk = paths.len().div_ceil(threads).max(1);
    let bytes: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = paths
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut b = 0u64;
                    for p in part {
                        let raw = std::fs::read(p).unwrap();
                        b += raw.len() as u64;
                        let text = invarlockd::pyjson::decode_utf8(&raw).unwrap();
                        let opts = invarlockd::pyjson::ParseOptions {
                            skip: if skip {
                                invarlockd::report::SKIPPED_PATHS
                            } else {
                                &[]
                            },
                            ..Default::default()
                        };
                        std::hint::black_box(invarlockd::pyjson::parse_with(text, opts).unwrap());
                    }
                    b
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({ "files": paths.len(), "bytes": bytes, "secs": secs })
    );
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn config(root: &Path) -> invarlockd::config::Config {
    let mut cfg = invarlockd::config::Config::default();
    cfg.workspace.root = root.to_path_buf();
    cfg.server.listen = "127.0.0.1:0".parse().unwrap();
    cfg.watch.debounce = Duration::from_millis(20);
    cfg.log.level = "warn".into();
    cfg
}

/// `RUST_LOG=invarlockd=info` (or `debug`) shows where the index and the daemon spend time.
fn log_to_stderr() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
}

fn phase_index(root: &Path) {
    log_to_stderr();
    rt().block_on(async {
        let cfg = config(root);
        let ws = cfg.workspace();
        let _ = std::fs::remove_dir_all(&ws.state);
        std::fs::create_dir_all(&ws.state).unwrap();
        let own = invarlockd::domain::WorkspaceId::default_for(&ws.root);
        let store = invarlockd::storage::Storage::open(&ws.index_db(), &own, None)
            .await
            .unwrap();
        let indexer = indexer(&cfg, store);
        let t = Instant::now();
        let summary = indexer.full_scan().await.unwrap();
        let secs = t.elapsed().as_secs_f64();
        let db = std::fs::metadata(ws.index_db())
            .map(|m| m.len())
            .unwrap_or(0) as f64
            / 1e6;
        println!(
            "{}",
            serde_json::json!({ "secs": secs, "db_mb": db, "summary": summary })
        );
    });
}

/// The daemon's indexer on `store`, with the settings of `cfg`.
fn indexer(
    cfg: &invarlockd::config::Config,
    store: invarlockd::storage::Storage,
) -> invarlockd::index::Indexer {
    invarlockd::index::Indexer::new(
        store,
        invarlockd::index::IndexSettings {
            workspace: cfg.workspace(),
            index: cfg.index.clone(),
            limits: cfg.limits,
        },
    )
}

fn phase_serve(root: &Path) {
    log_to_stderr();
    // Attempts written live by an earlier invocation on a reused workspace.
    for i in 0..10 {
        let _ = std::fs::remove_dir_all(root.join(format!("runs/live{i:02}")));
    }
    rt().block_on(async {
        let served = serve(config(root)).await;
        served.ready(Duration::from_secs(1800)).await;
        let addr = served.addr;
        let client = reqwest::Client::new();
        let templates = templates();
        let (report, events) = templates[0].clone();
        // Visibility is observed on the event stream (published once the index has committed),
        // not by polling, which would load the daemon it measures.
        let seen = Seen::default();
        let reader = watch_events(addr, seen.clone()).await;
        // 50 attempts/s for 10 s, each timed from its report.json being closed.
        let mut written = Vec::new();
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        for i in 0..500usize {
            tick.tick().await;
            let id = live_id("live", "20270101", i);
            write_live_attempt(root, &id, (&report, &events), 90_000_000 + i);
            written.push((id, Instant::now()));
        }
        poll_until(Duration::from_secs(60), || {
            written
                .iter()
                .all(|(id, _)| seen.lock().unwrap().contains_key(id))
        })
        .await;
        reader.abort();
        let latencies = sorted(
            written
                .iter()
                .map(|(id, at)| visible_after_ms(&seen, id, *at))
                .collect(),
        );

        // /v1/status throughput: 4 concurrent clients for 5 s.
        let status = format!("http://{addr}/v1/status");
        let end = Instant::now() + Duration::from_secs(5);
        let mut clients = tokio::task::JoinSet::new();
        for _ in 0..4 {
            let client = client.clone();
            let url = status.clone();
            clients.spawn(async move {
                let mut n = 0u64;
                while Instant::now() < end {
                    let r = client.get(&url).send().await.unwrap();
                    assert!(r.status().is_success());
                    let _ = r.bytes().await.unwrap();
                    n += 1;
                }
                n
            });
        }
        let mut total = 0;
        while let Some(n) = clients.join_next().await {
            total += n.unwrap();
        }
        let list = bench_index_pg::list_latencies(addr).await;
        served.stop().await;
        println!(
            "{}",
            serde_json::json!({
                "written": latencies.len(),
                "never_seen": latencies.iter().filter(|l| l.is_infinite()).count(),
                "p50_ms": percentile(&latencies, 0.5),
                "p99_ms": percentile(&latencies, 0.99),
                "max_ms": latencies.last().copied().unwrap_or(f64::NAN),
                "status_rps": total as f64 / 5.0,
                "list_p50_ms": percentile(&list, 0.5),
                "list_p99_ms": percentile(&list, 0.99),
            })
        );
    });
}
