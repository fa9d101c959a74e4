//! Benchmark: `cargo run --release --example bench_verify [-- CERT]`.
//!
//! Prints the per-certificate time of a batch verify in one process, the wall time and peak
//! RSS of one `invarlockd verify --json CERT` call, and the same for the real
//! `invarlock verify --json CERT` (`INVARLOCK_BIN`, default `/work/venv312/bin/invarlock`),
//! measured in the same run, with the ratios. Without the real tool the comparison is skipped.
//! Knobs: `BATCH_N` (default 2000), `CLI_RUNS` (default 50), `ORACLE_RUNS` (default 5).

use invarlockd::verify::{verify_documents, Input, Options};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Peak RSS (MiB) over all waited-for children so far.
fn children_max_rss_mib() -> f64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own; RUSAGE_CHILDREN is a valid selector.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    ru.ru_maxrss as f64 / 1024.0
}

/// Mean wall time (s) of `runs` invocations; None if the program cannot be run.
fn time_cli(program: &Path, cert: &Path, runs: usize) -> Option<(f64, i32)> {
    let mut total = 0.0;
    let mut code = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let status = Command::new(program)
            .args(["verify", "--json"])
            .arg(cert)
            .env("COLUMNS", "1000")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .ok()?;
        total += start.elapsed().as_secs_f64();
        code = status.code().unwrap_or(-1);
    }
    Some((total / runs as f64, code))
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cert: PathBuf = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("tests/fixtures/verify/certs/real__rel_quant8_balanced.json"));
    let batch_n = env_usize("BATCH_N", 2000);
    let cli_runs = env_usize("CLI_RUNS", 50);
    let oracle_runs = env_usize("ORACLE_RUNS", 5);
    let size = std::fs::metadata(&cert).map(|m| m.len()).unwrap_or(0);
    println!("certificate: {} ({size} bytes)", cert.display());

    let ours = root.join("target/release/invarlockd");
    // The CLI runs first: a forked child's peak RSS starts from its parent's, so the parent
    // must still be small when it spawns them.
    let Some((cli, code)) = time_cli(&ours, &cert, cli_runs) else {
        println!("target/release/invarlockd not found: run `cargo build --release` first");
        return;
    };
    let rss = children_max_rss_mib();
    println!("invarlockd verify --json (one CLI call, mean of {cli_runs}): {:.2} ms (exit {code}), peak RSS {rss:.1} MiB", cli * 1e3);

    let oracle =
        std::env::var("INVARLOCK_BIN").unwrap_or_else(|_| "/work/venv312/bin/invarlock".into());
    let real = Path::new(&oracle)
        .exists()
        .then(|| time_cli(Path::new(&oracle), &cert, oracle_runs))
        .flatten();
    if let Some((py, code)) = real {
        let py_rss = children_max_rss_mib();
        println!(
            "invarlock verify --json (real tool, mean of {oracle_runs}): {:.0} ms (exit {code}), peak RSS {py_rss:.1} MiB",
            py * 1e3
        );
    }

    // Batch: read and verify N copies in one call, as `invarlockd verify --json c1 … cN` does.
    let start = Instant::now();
    let inputs: Vec<Input> = (0..batch_n)
        .map(|i| Input {
            id: format!("c{i}.json"),
            bytes: std::fs::read(&cert)
                .map_err(|e| invarlockd::verify::IoFailure::from_io(&e, "c")),
        })
        .collect();
    let out = verify_documents(
        &inputs,
        &Options {
            json: true,
            ..Options::default()
        },
    );
    let batch = start.elapsed().as_secs_f64() / batch_n as f64;
    let exit = out.exit_code;
    drop((inputs, out));
    println!(
        "batch verify ({batch_n} certs, one process): {:.1} µs/cert (exit {})",
        batch * 1e6,
        exit
    );

    match real {
        Some((py, _)) => {
            println!(
                "speed-up per cert, batch vs real CLI: {:.0}x (target >= 1000x)",
                py / batch
            );
            println!(
                "speed-up, one CLI call vs real CLI:   {:.0}x (target >= 100x)",
                py / cli
            );
        }
        None => println!("real tool not found at {oracle} (set INVARLOCK_BIN): comparison skipped"),
    }
    println!(
        "peak RSS target < 20 MiB: {}",
        if rss < 20.0 { "met" } else { "NOT met" }
    );
}
