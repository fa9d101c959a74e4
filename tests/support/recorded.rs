//! Shared by the tests that replay recorded `invarlock verify` invocations (`verify_corpus`,
//! `verify_releases`): the corpus, one recorded invocation of one case turned into the arguments
//! the real tool was given, and the replay of all of them compared with what was recorded.

use clap::Parser;
use invarlockd::verify::cli::VerifyArgs;
use serde_json::Value as J;
use std::path::Path;

#[derive(Parser)]
struct Wrapper {
    #[command(flatten)]
    args: VerifyArgs,
}

/// `verify [prefix…] [--json] --profile P [--baseline B] FILES…`, as the recording ran it.
pub fn verify_args(prefix: &[&str], case: &J, inv: &J) -> VerifyArgs {
    let mut argv = vec!["verify".to_string()];
    argv.extend(prefix.iter().map(|s| s.to_string()));
    if inv["mode"] == "json" {
        argv.push("--json".into());
    }
    argv.extend(["--profile".into(), inv["profile"].as_str().unwrap().into()]);
    if let Some(b) = case["baseline"].as_str() {
        argv.extend(["--baseline".into(), b.into()]);
    }
    argv.extend(
        case["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_string()),
    );
    parse(&argv)
}

/// The `verify` arguments of a command line (its first item is the program name).
pub fn parse<S: AsRef<str>>(argv: &[S]) -> VerifyArgs {
    Wrapper::try_parse_from(argv.iter().map(AsRef::as_ref))
        .unwrap()
        .args
}

/// The verify corpus: `tests/fixtures/verify`.
pub fn fixtures() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/verify"
    ))
}

/// Removes the `, "ts": "…"` member (keys are sorted, so it is the last one).
pub fn without_ts(s: &str) -> String {
    let mut out = String::new();
    for line in s.split_inclusive('\n') {
        match line.find(", \"ts\": \"") {
            Some(i) => {
                let rest = &line[i + 9..];
                let end = rest.find('"').map(|e| i + 9 + e + 1).unwrap_or(line.len());
                out.push_str(&line[..i]);
                out.push_str(&line[end..]);
            }
            None => out.push_str(line),
        }
    }
    out
}

/// Replays every invocation recorded in `results` (one `<case>.json` per case of `cases.json`):
/// `run` executes the arguments (prefixed by `prefix`) and answers the exit code. Returns the
/// number of invocations and one line per difference in exit code or stdout (`--json` output is
/// compared without `ts`), each starting with `label`.
pub fn replay(
    results: &Path,
    prefix: &[&str],
    label: &str,
    mut run: impl FnMut(&VerifyArgs, &mut Vec<u8>) -> i32,
) -> (usize, Vec<String>) {
    let cases: J =
        serde_json::from_slice(&std::fs::read(fixtures().join("cases.json")).unwrap()).unwrap();
    let mut total = 0;
    let mut failures = Vec::new();
    for case in cases["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let path = results.join(format!("{id}.json"));
        let recorded: J = serde_json::from_slice(
            &std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        )
        .unwrap();
        for inv in recorded["invocations"].as_array().unwrap() {
            total += 1;
            let args = verify_args(prefix, case, inv);
            let mut out = Vec::new();
            let code = run(&args, &mut out);
            let got = String::from_utf8(out).unwrap();
            let want = inv["stdout"].as_str().unwrap();
            let want_code = inv["exit_code"].as_i64().unwrap() as i32;
            let same_stdout = if inv["mode"] == "json" {
                without_ts(&got) == without_ts(want)
            } else {
                got.lines().eq(want.lines())
            };
            if code != want_code || !same_stdout {
                failures.push(format!(
                    "{label}{id} {} {}: exit {code} (want {want_code})\n got: {got:?}\nwant: {want:?}",
                    inv["profile"], inv["mode"]
                ));
            }
        }
    }
    (total, failures)
}
