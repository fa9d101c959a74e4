//! The corpus manifest (tests/fixtures/corpus_manifest.json): what each attempt of the sample
//! workspace is expected to be.
#![allow(dead_code)] // each suite uses its own subset

use serde_json::Value;
use std::path::Path;

pub fn manifest() -> Value {
    let raw = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus_manifest.json"),
    )
    .unwrap();
    // The manifest itself is Python output and holds bare NaN.
    invarlockd::pyjson::parse(&raw).unwrap().to_serde()
}

/// The attempt id of a manifest run's `path`.
pub fn attempt_id(path: &str) -> String {
    path.trim_start_matches("workspace/runs/").to_string()
}

/// success → pass, rollback → fail, runner error or an abandoned empty dir → error.
pub fn expected_status(run: &Value) -> &'static str {
    match (run["success"].as_bool(), run["runner_status"].as_str()) {
        (Some(true), _) => "pass",
        (_, Some("rollback")) => "fail",
        _ => "error",
    }
}
