//! Long-running mutation fuzzer for `verify` (parse + every check, all profiles, both modes),
//! with an optional differential mode against the real InvarLock.
//!
//! ```text
//! cargo run --release --example fuzz_verify -- --seconds 600
//! cargo run --release --example fuzz_verify -- --seconds 600 \
//!     --oracle /work/venv312/bin/python --oracle-every 20
//! ```
//! Crashes (panics) and oracle disagreements are written to `fuzz/artifacts/`. The process
//! exits 1 if there was any crash. libFuzzer (`cargo fuzz`) needs crates that are not in the
//! offline registry here; `fuzz/` holds the equivalent cargo-fuzz target for machines that
//! have them.

use invarlockd::pyjson::{dumps, parse, DumpStyle, Object, Value};
use invarlockd::verify::{verify_documents, Input, Options};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const PATHS: &[&str] = &[
    "schema_version",
    "run_id",
    "primary_metric",
    "primary_metric.kind",
    "primary_metric.final",
    "primary_metric.preview",
    "primary_metric.ratio_vs_baseline",
    "primary_metric.display_ci",
    "primary_metric.analysis_point_final",
    "baseline_ref",
    "baseline_ref.primary_metric.final",
    "baseline_ref.tokenizer_hash",
    "meta.tokenizer_hash",
    "dataset",
    "dataset.windows",
    "dataset.windows.preview",
    "dataset.windows.final",
    "dataset.windows.stats",
    "dataset.windows.stats.window_match_fraction",
    "dataset.windows.stats.window_overlap_fraction",
    "dataset.windows.stats.window_pairing_reason",
    "dataset.windows.stats.paired_windows",
    "dataset.windows.stats.coverage",
    "dataset.windows.stats.coverage.preview.used",
    "dataset.windows.stats.coverage.final.used",
    "validation",
    "validation.invariants_pass",
    "meta.model_profile.cert_lints",
    "spectral",
    "spectral.measurement_contract",
    "spectral.measurement_contract_hash",
    "spectral.measurement_contract_match",
    "spectral.evaluated",
    "rmt",
    "resolved_policy",
    "guard_overhead",
    "guard_overhead.evaluated",
    "guard_overhead.mode",
    "guard_overhead.overhead_ratio",
    "provenance",
    "provenance.provider_digest",
    "provenance.provider_digest.ids_sha256",
    "provenance.baseline.report_path",
    "metrics",
    "metrics.classification.n_correct",
    "metrics.classification.n_total",
    "evaluation_windows",
    "evaluation_windows.final.logloss",
    "evaluation_windows.final.token_counts",
    "plugins",
    "ppl.stats.coverage.preview.used",
    "policy_digest",
    "confidence",
    "system_overhead",
];

fn interesting(rng: &mut Rng) -> Value {
    let strs = [
        "",
        "v1",
        "ppl_causal",
        "accuracy",
        " Accuracy ",
        "ppl",
        "1.5",
        " 2 ",
        "nan",
        "abc",
        "[red]x",
        "[/blue]",
        "[bold]b[/bold]",
        ":warning:",
        "a\tb",
        "mismatch",
        "Schema Validation Failed",
        "é\u{2028}\u{7f}'\"",
        "1_000",
        "inf",
        "skipped",
        "\\[x]",
    ];
    match rng.below(16) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => Value::Int([0, 1, -1, 2, 8, 200, i64::MAX, i64::MIN][rng.below(8)]),
        3 => Value::BigInt(
            [
                "123456789012345678901234567890",
                "-99999999999999999999",
                &"9".repeat(400),
            ][rng.below(3)]
            .to_string(),
        ),
        4 => Value::Float(
            [
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                -0.0,
                0.999999,
                1.0,
                1.05,
                0.95,
                1e-9,
                2.0,
                1e308,
                5e-324,
                800.0,
            ][rng.below(13)],
        ),
        5 | 6 => Value::Str(strs[rng.below(strs.len())].to_string()),
        7 => Value::Array(vec![]),
        8 => Value::Array(vec![Value::Float(1.0), Value::Float(2.0)]),
        9 => Value::Array((0..rng.below(4)).map(|_| interesting_leaf(rng)).collect()),
        10 => Value::Object(Object::new()),
        11 => {
            let mut m = Object::new();
            m.insert(
                ["used", "type", "path", "value", "final", "ids_sha256"][rng.below(6)].into(),
                interesting_leaf(rng),
            );
            Value::Object(m)
        }
        _ => interesting_leaf(rng),
    }
}

fn interesting_leaf(rng: &mut Rng) -> Value {
    match rng.below(5) {
        0 => Value::Int(rng.below(10) as i64),
        1 => Value::Float(rng.below(2000) as f64 / 1000.0),
        2 => Value::Str(["equals", "gte", "lte", "x", "1"][rng.below(5)].into()),
        3 => Value::Null,
        _ => Value::Bool(true),
    }
}

fn set_path(v: &mut Value, path: &[&str], new: Option<Value>) {
    let Value::Object(m) = v else { return };
    if path.len() == 1 {
        match new {
            Some(n) => {
                m.insert(path[0].to_string(), n);
            }
            None => {
                m.shift_remove(path[0]);
            }
        }
        return;
    }
    let child = m
        .entry(path[0].to_string())
        .or_insert_with(|| Value::Object(Object::new()));
    set_path(child, &path[1..], new);
}

fn mutate_json(rng: &mut Rng, seed: &[u8]) -> Option<Vec<u8>> {
    let mut v = parse(std::str::from_utf8(seed).ok()?).ok()?;
    for _ in 0..1 + rng.below(3) {
        let path: Vec<&str> = PATHS[rng.below(PATHS.len())].split('.').collect();
        let new = if rng.below(6) == 0 {
            None
        } else {
            Some(interesting(rng))
        };
        set_path(&mut v, &path, new);
    }
    let style = if rng.below(2) == 0 {
        DumpStyle::J1
    } else {
        DumpStyle::J3
    };
    Some(dumps(&v, style).into_bytes())
}

fn mutate_bytes(rng: &mut Rng, seed: &[u8], seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut b = seed.to_vec();
    let tokens: &[&[u8]] = &[
        b"NaN",
        b"Infinity",
        b"-Infinity",
        b"1e400",
        b"-0",
        b"\xef\xbb\xbf",
        b"\xff",
        b"\xc3",
        b"\r\n",
        b"\"\\ud800\"",
        b"[",
        b"]",
        b"{",
        b"}",
        b",",
        b":",
        b"\"",
        b"null",
        b"1.",
        b"\t",
        b"\x00",
    ];
    for _ in 0..1 + rng.below(4) {
        let pos = rng.below(b.len() + 1);
        match rng.below(6) {
            0 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] ^= 1 << rng.below(8);
            }
            1 => {
                let t = tokens[rng.below(tokens.len())];
                b.splice(pos..pos, t.iter().copied());
            }
            2 if !b.is_empty() => {
                let end = (pos + rng.below(64)).min(b.len());
                b.drain(pos..end);
            }
            3 => b.truncate(pos),
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                let s = rng.below(other.len() + 1);
                let e = (s + rng.below(256)).min(other.len());
                b.splice(pos..pos, other[s..e].iter().copied());
            }
            _ => {
                let depth = [10, 1486, 1487, 1488, 5000][rng.below(5)];
                let mut nest = vec![b'['; depth];
                nest.extend(vec![b']'; depth]);
                b.splice(pos..pos, nest);
            }
        }
    }
    b
}

fn max_depth(b: &[u8]) -> usize {
    let (mut d, mut m) = (0usize, 0usize);
    for &c in b {
        match c {
            b'[' | b'{' => {
                d += 1;
                m = m.max(d);
            }
            b']' | b'}' => d = d.saturating_sub(1),
            _ => {}
        }
    }
    m
}

struct Oracle {
    _child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    dir: PathBuf,
}

impl Oracle {
    fn start(python: &str) -> Option<Oracle> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/oracle_verify.py");
        let mut child = Command::new(python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .ok()?;
        let stdin = child.stdin.take()?;
        let stdout = BufReader::new(child.stdout.take()?);
        let dir = std::env::temp_dir().join(format!("fuzz_verify_{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        Some(Oracle {
            _child: child,
            stdin,
            stdout,
            dir,
        })
    }

    fn run(&mut self, bytes: &[u8], profile: &str, json: bool) -> Option<(i32, String)> {
        std::fs::write(self.dir.join("c.json"), bytes).ok()?;
        let mut req = Object::new();
        req.insert("dir".into(), Value::Str(self.dir.to_string_lossy().into()));
        req.insert(
            "files".into(),
            Value::Array(vec![Value::Str("c.json".into())]),
        );
        req.insert("profile".into(), Value::Str(profile.into()));
        req.insert("json".into(), Value::Bool(json));
        writeln!(self.stdin, "{}", dumps(&Value::Object(req), DumpStyle::J1)).ok()?;
        self.stdin.flush().ok()?;
        let mut line = String::new();
        self.stdout.read_line(&mut line).ok()?;
        let v = parse(line.trim_end()).ok()?;
        Some((
            v.get("exit")?.as_i64()? as i32,
            v.get("stdout")?.as_str()?.to_string(),
        ))
    }
}

fn strip_ts(s: &str) -> String {
    match s.find(", \"ts\": \"") {
        Some(i) => {
            let rest = &s[i + 9..];
            let end = rest.find('"').map_or(s.len(), |e| i + 9 + e + 1);
            format!("{}{}", &s[..i], &s[end..])
        }
        None => s.to_string(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let seconds: u64 = arg("--seconds").and_then(|s| s.parse().ok()).unwrap_or(60);
    let mut rng = Rng(arg("--seed")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9E37_79B9_7F4A_7C15));
    let oracle_every: u64 = arg("--oracle-every")
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let mut oracle = arg("--oracle").and_then(|p| Oracle::start(&p));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(root.join("tests/fixtures/verify/certs"))
        .expect("fixtures present")
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .collect();
    seeds.extend([
        b"".to_vec(),
        b"{}".to_vec(),
        b"[1,2]".to_vec(),
        b"null".to_vec(),
    ]);
    let artifacts = root.join("fuzz/artifacts/fuzz_verify");
    std::fs::create_dir_all(&artifacts).expect("artifacts dir");
    std::panic::set_hook(Box::new(|_| {}));

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let (mut execs, mut crashes, mut diffs, mut compared) = (0u64, 0u64, 0u64, 0u64);
    let mut last_report = Instant::now();
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let seed = &seeds[rng.below(seeds.len())];
        let input = if rng.below(2) == 0 {
            mutate_json(&mut rng, seed).unwrap_or_else(|| mutate_bytes(&mut rng, seed, &seeds))
        } else {
            mutate_bytes(&mut rng, seed, &seeds)
        };
        for profile in ["dev", "ci", "release"] {
            for json in [false, true] {
                let inputs = [Input {
                    id: "c.json".into(),
                    bytes: Ok(input.clone()),
                }];
                let opts = Options {
                    profile: profile.into(),
                    json,
                    ..Options::default()
                };
                let res = std::panic::catch_unwind(|| verify_documents(&inputs, &opts));
                execs += 1;
                let bad = match &res {
                    Err(_) => Some("panic"),
                    Ok(o) if !(0..=3).contains(&o.exit_code) => Some("exit code out of range"),
                    Ok(o)
                        if json && o.envelope_json.as_deref().is_none_or(|e| parse(e).is_err()) =>
                    {
                        Some("envelope is not JSON")
                    }
                    Ok(_) => None,
                };
                if let Some(why) = bad {
                    crashes += 1;
                    let p = artifacts.join(format!("crash-{n}-{profile}-{json}.json"));
                    let _ = std::fs::write(&p, &input);
                    eprintln!("CRASH ({why}): {}", p.display());
                }
                if let (Some(o), Ok(out)) = (oracle.as_mut(), &res) {
                    if n % oracle_every == 0 && max_depth(&input) < 1400 {
                        if let Some((code, stdout)) = o.run(&input, profile, json) {
                            compared += 1;
                            if code != out.exit_code || strip_ts(&stdout) != strip_ts(&out.stdout) {
                                diffs += 1;
                                let p = artifacts.join(format!("diff-{n}-{profile}-{json}"));
                                let _ = std::fs::write(p.with_extension("json"), &input);
                                let _ = std::fs::write(
                                    p.with_extension("txt"),
                                    format!(
                                        "oracle exit {code}\n{stdout}\n---- ours exit {}\n{}",
                                        out.exit_code, out.stdout
                                    ),
                                );
                                eprintln!("DIFF: {}", p.display());
                            }
                        }
                    }
                }
            }
        }
        if last_report.elapsed() > Duration::from_secs(30) {
            eprintln!("execs {execs} crashes {crashes} oracle-compared {compared} diffs {diffs}");
            last_report = Instant::now();
        }
    }
    println!("done: {seconds} s, {execs} executions, {crashes} crashes, {compared} oracle comparisons, {diffs} differences");
    std::process::exit(if crashes > 0 { 1 } else { 0 });
}
