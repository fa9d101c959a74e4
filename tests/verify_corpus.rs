//! Replays every recorded `invarlock verify` 0.3.6 invocation of the corpus (each case in dev,
//! ci and release, with and without `--json`) through `invarlockd verify` and compares exit
//! code and stdout. The recorded commands ran `cd verify && invarlock verify … certs/x.json`,
//! so files are read relative to `tests/fixtures/verify` while ids stay as given.

use invarlockd::verify::cli::run_in;
use serde_json::Value as J;
use std::path::Path;

#[path = "support/recorded.rs"]
mod recorded;

fn fixtures() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/verify"
    ))
}

/// Removes the `, "ts": "…"` member (keys are sorted, so it is the last one).
fn without_ts(s: &str) -> String {
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

#[test]
fn every_recorded_invocation_gives_the_same_exit_code_and_stdout() {
    let cases: J =
        serde_json::from_slice(&std::fs::read(fixtures().join("cases.json")).unwrap()).unwrap();
    let mut total = 0;
    let mut failures = Vec::new();
    for case in cases["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let recorded: J = serde_json::from_slice(
            &std::fs::read(fixtures().join(format!("results/{id}.json"))).unwrap(),
        )
        .unwrap();
        for inv in recorded["invocations"].as_array().unwrap() {
            total += 1;
            let args = recorded::verify_args(&[], case, inv);
            let mut out = Vec::new();
            let code = run_in(fixtures(), &args, &mut out);
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
                    "{id} {} {}: exit {code} (want {want_code})\n got: {got:?}\nwant: {want:?}",
                    inv["profile"], inv["mode"]
                ));
            }
        }
    }
    assert_eq!(total, 81 * 6, "the corpus has 81 cases x 6 invocations");
    assert!(
        failures.is_empty(),
        "{} of {total} invocations differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn json_envelope_carries_a_python_isoformat_timestamp() {
    let args = recorded::parse(&["verify", "--json", "certs/real__rel_quant8_balanced.json"]);
    let mut out = Vec::new();
    assert_eq!(run_in(fixtures(), &args, &mut out), 0);
    let line = String::from_utf8(out).unwrap();
    let v: J = serde_json::from_str(&line).unwrap();
    let ts = v["ts"].as_str().unwrap();
    assert!(ts.ends_with("+00:00") && ts.len() >= 25, "{ts}");
    assert!(
        line.trim_end().ends_with(&format!("\"ts\": \"{ts}\"}}")),
        "ts is the last key"
    );
}
