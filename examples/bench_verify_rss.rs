//! Benchmark: the daemon's memory while clients upload huge bodies to `POST /v1/verify`.
//!
//! ```text
//! cargo build --release && cargo run --release --example bench_verify_rss
//! ```
//!
//! Starts the release daemon (`target/release/invarlockd serve --init`) on a temp workspace,
//! reads its RSS at idle (the reference), then for each body runs `CLIENTS` (default 8) clients
//! posting it at once; a client answered 503 waits its `Retry-After` and tries again until it
//! gets a final answer. Around each phase the daemon's peak RSS is reset (`/proc/PID/clear_refs`)
//! and read back (`VmHWM` in `/proc/PID/status`), and `VmRSS` is sampled every 10 ms. Prints
//! idle vs peak and their ratio, and what the clients were answered. Target: peak under 1 GB and
//! the daemon alive at the end.
//!
//! Bodies (`BODY_MB`, default 64, i.e. 64,000,000 bytes, under the 64 MiB body limit):
//! - `flat_array`: `[0,0,0,…]`, the input that took 2.6 GB before issue 10;
//! - `padded_cert`: the real certificate `real__rel_quant8_balanced.json` with a 64 MB string
//!   member, a certificate verify must read in full (it gets its verdict);
//! - `wide_cert`: the real certificate with a 64 MB list of per-window records, far more values
//!   than any real certificate holds (answered 413 `certificate_too_complex` before a tree is built).

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A field of `/proc/PID/status` in KiB (`VmRSS`, `VmHWM`).
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn body_flat_array(size: usize) -> Vec<u8> {
    let mut b = Vec::with_capacity(size);
    b.push(b'[');
    while b.len() + 3 < size {
        b.extend_from_slice(b"0,");
    }
    b.extend_from_slice(b"0]");
    b
}

/// The real certificate with `extra` spliced in as its last member.
fn cert_with(extra: impl FnOnce(&mut Vec<u8>, usize), size: usize) -> Vec<u8> {
    let cert = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/verify/certs/real__rel_quant8_balanced.json"),
    )
    .expect("the real certificate");
    let text = std::str::from_utf8(&cert).unwrap().trim_end();
    let head = text.strip_suffix('}').unwrap();
    let mut b = Vec::with_capacity(size + 64);
    b.extend_from_slice(head.as_bytes());
    b.extend_from_slice(b", ");
    extra(&mut b, size);
    b.push(b'}');
    b
}

fn body_padded_cert(size: usize) -> Vec<u8> {
    cert_with(
        |b, size| {
            b.extend_from_slice(b"\"padding\": \"");
            b.resize(size - 2, b'x');
            b.push(b'"');
        },
        size,
    )
}

fn body_wide_cert(size: usize) -> Vec<u8> {
    cert_with(
        |b, size| {
            b.extend_from_slice(b"\"window_log\": [");
            let mut i = 0u64;
            while b.len() + 80 < size {
                let rec = format!(
                    "{{\"window\": {i}, \"logloss\": {:.6}, \"tokens\": 512}}, ",
                    2.0 + (i % 997) as f64 / 1000.0
                );
                b.extend_from_slice(rec.as_bytes());
                i += 1;
            }
            b.extend_from_slice(b"{\"window\": -1}]");
        },
        size,
    )
}

/// Builds a body of about the given size.
type MakeBody = fn(usize) -> Vec<u8>;

struct Daemon {
    child: Child,
    port: u16,
    _ws: tempfile::TempDir,
}

impl Daemon {
    fn start(bin: &Path) -> Daemon {
        let ws = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new(bin)
            .args(["serve", "--init", "--workspace"])
            .arg(ws.path())
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the daemon");
        let d = Daemon {
            child,
            port,
            _ws: ws,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while d.get("/readyz").map(|(s, _)| s) != Some(200) {
            assert!(Instant::now() < deadline, "daemon not ready after 60 s");
            std::thread::sleep(Duration::from_millis(50)); // poll interval, bounded above
        }
        d
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn get(&self, path: &str) -> Option<(u16, String)> {
        let r = reqwest::blocking::get(format!("http://127.0.0.1:{}{path}", self.port)).ok()?;
        Some((r.status().as_u16(), r.text().unwrap_or_default()))
    }
}

/// What the clients of one phase were answered.
#[derive(Default, Debug)]
struct Tally {
    ok: u64,
    too_large: u64,
    retried_503: u64,
    other: Vec<String>,
}

/// `clients` threads post `body` until each has a final (non-503) answer.
fn phase(d: &mut Daemon, body: &'static [u8], clients: usize) -> (Tally, u64, u64, Duration) {
    let pid = d.pid();
    // Reset the peak so VmHWM is this phase's alone.
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("reset peak RSS");
    let stop = Arc::new(AtomicBool::new(false));
    let sampled_max = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (stop, max) = (stop.clone(), sampled_max.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Some(k) = status_kib(pid, "VmRSS:") {
                    max.fetch_max(k, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let started = Instant::now();
    let url = format!("http://127.0.0.1:{}/v1/verify", d.port);
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(600))
                    .build()
                    .unwrap();
                let mut retries = 0u64;
                loop {
                    let resp = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body)
                        .send();
                    match resp {
                        Ok(r) if r.status().as_u16() == 503 => {
                            retries += 1;
                            let wait = r
                                .headers()
                                .get("retry-after")
                                .and_then(|v| v.to_str().ok()?.parse().ok())
                                .unwrap_or(1u64);
                            std::thread::sleep(Duration::from_secs(wait));
                        }
                        Ok(r) => {
                            let status = r.status().as_u16();
                            let text = r.text().unwrap_or_default();
                            return (status, retries, text);
                        }
                        // A refused body may be cut off mid-upload (the daemon answers 503 and
                        // closes without reading it); that is a retry too.
                        Err(e) if retries < 10_000 && (e.is_request() || e.is_body()) => {
                            retries += 1;
                            std::thread::sleep(Duration::from_millis(200));
                        }
                        Err(e) => return (0, retries, e.to_string()),
                    }
                }
            })
        })
        .collect();
    let mut tally = Tally::default();
    for h in handles {
        let (status, retries, text) = h.join().unwrap();
        tally.retried_503 += retries;
        match status {
            200 => tally.ok += 1,
            413 => tally.too_large += 1,
            _ => tally
                .other
                .push(format!("{status}: {}", &text[..text.len().min(200)])),
        }
    }
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let hwm = status_kib(pid, "VmHWM:").unwrap_or(0);
    (tally, hwm, sampled_max.load(Ordering::Relaxed), elapsed)
}

fn main() {
    let exe = std::env::current_exe().unwrap();
    // target/release/examples/bench_verify_rss -> target/release/invarlockd
    let bin: PathBuf = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("invarlockd"))
        .unwrap();
    assert!(
        bin.is_file(),
        "{} missing: run `cargo build --release` first",
        bin.display()
    );
    let clients = env_usize("CLIENTS", 8);
    let size = env_usize("BODY_MB", 64) * 1_000_000;
    let mut d = Daemon::start(&bin);
    std::thread::sleep(Duration::from_millis(500)); // let start-up allocations settle
    let idle = status_kib(d.pid(), "VmRSS:").unwrap();
    println!(
        "daemon {} (pid {}), {clients} clients, bodies of {size} bytes",
        bin.display(),
        d.pid()
    );
    println!("idle RSS: {:.1} MiB", mib(idle));
    println!(
        "{:<12} {:>8} {:>13} {:>15} {:>10} {:>8} {:>4} {:>4} {:>10}",
        "body",
        "clients",
        "peak VmHWM",
        "sampled VmRSS",
        "peak/idle",
        "time",
        "200",
        "413",
        "503 retries"
    );
    let mut worst = 0u64;
    let bodies: [(&str, MakeBody); 3] = [
        ("flat_array", body_flat_array),
        ("padded_cert", body_padded_cert),
        ("wide_cert", body_wide_cert),
    ];
    for (name, make) in bodies {
        let body: &'static [u8] = make(size).leak();
        // The same body from one client first: the reference for what concurrency adds.
        for n in [1, clients] {
            let (t, hwm, sampled, took) = phase(&mut d, body, n);
            worst = worst.max(hwm);
            println!(
                "{name:<12} {n:>8} {:>9.1} MiB {:>11.1} MiB {:>9.1}x {:>7.1}s {:>4} {:>4} {:>10}",
                mib(hwm),
                mib(sampled),
                hwm as f64 / idle as f64,
                took.as_secs_f64(),
                t.ok,
                t.too_large,
                t.retried_503
            );
            for o in &t.other {
                println!("  unexpected answer: {o}");
            }
        }
    }
    let alive = d.alive() && d.get("/healthz").map(|(s, _)| s) == Some(200);
    println!(
        "worst peak {:.1} MiB ({}), daemon {}",
        mib(worst),
        if worst < 1024 * 1024 {
            "under 1 GB"
        } else {
            "OVER 1 GB"
        },
        if alive { "alive" } else { "DEAD" }
    );
    let _ = d.child.kill();
    let _ = d.child.wait();
    let _ = std::io::stdout().flush();
}
