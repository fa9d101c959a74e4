//! Replays every recorded `invarlock verify` 0.3.6 invocation of the corpus (each case in dev,
//! ci and release, with and without `--json`) through `invarlockd verify` and compares exit
//! code and stdout. The recorded commands ran `cd verify && invarlock verify … certs/x.json`,
//! so files are read relative to `tests/fixtures/verify` while ids stay as given.

use invarlockd::verify::cli::run_in;
use serde_json::Value as J;

#[path = "support/recorded.rs"]
mod recorded;

use recorded::fixtures;

#[test]
fn every_recorded_invocation_gives_the_same_exit_code_and_stdout() {
    let (total, failures) = recorded::replay(&fixtures().join("results"), &[], "", |args, out| {
        run_in(fixtures(), args, out)
    });
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
