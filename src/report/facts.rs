//! report.json → the facts the index keeps (§2.1 validity, §2.2 fields).

mod extract;

use super::SKIPPED_PATHS;
use crate::pyjson::{decode_utf8, parse_with, ParseOptions, Value};
use extract::extract;
use serde_json::Value as J;
use sha2::{Digest, Sha256};

/// One read of report.json: its digest and either the facts or why it is not a valid report.
#[derive(Debug, Clone)]
pub struct ReportAnalysis {
    pub size: u64,
    pub sha256: String,
    pub outcome: Result<Box<ReportFacts>, String>,
}

/// The indexed view of a valid report. Filterable fields are columns; the rest is `detail`.
#[derive(Debug, Clone, Default)]
pub struct ReportFacts {
    pub model_id: Option<String>,
    pub adapter: Option<String>,
    pub edit_name: Option<String>,
    pub profile: Option<String>,
    pub seed: Option<i64>,
    pub dataset_hash: Option<String>,
    pub preview_hash: Option<String>,
    pub final_hash: Option<String>,
    /// `meta.tokenizer_hash`, else `data.tokenizer_hash` (the one the provider digest copies).
    pub tokenizer_hash: Option<String>,
    pub ids_sha256: Option<String>,
    pub pm_kind: Option<String>,
    /// `metrics.window_pairing_reason`; `None` both for JSON null (paired) and absent.
    pub window_pairing_reason: Option<String>,
    pub paired: bool,
    /// sha256(J1(evaluation_windows.final.logloss)): what a paired subject's events quote.
    pub final_logloss_fp: Option<String>,
    pub run_id: Option<String>,
    pub report_hash: String,
    pub subject_run_id: Option<String>,
    pub subject_report_hash: Option<String>,
    /// Names of guards whose `passed` is not `true`.
    pub guards_not_passed: Vec<String>,
    pub overhead_gate_failed: bool,
    pub pm_invalid: bool,
    /// Everything shown by the attempt detail endpoint (NaN as "NaN").
    pub detail: J,
}

/// Parses report bytes once, skipping token arrays.
pub fn parse_report_value(bytes: &[u8]) -> Result<Value, String> {
    if bytes.is_empty() {
        return Err("report.json is empty (0 bytes): RunReport validation failed at save".into());
    }
    let text = decode_utf8(bytes).map_err(|e| format!("report.json is not valid UTF-8 ({e:?})"))?;
    parse_with(
        text,
        ParseOptions {
            skip: SKIPPED_PATHS,
            ..ParseOptions::default()
        },
    )
    .map_err(|e| {
        format!(
            "report.json is not JSON: {}: line {} column {} (char {})",
            e.msg, e.lineno, e.colno, e.pos
        )
    })
}

/// §2.1 `validate_report`.
pub fn validate_report(r: &Value) -> Result<(), String> {
    let Value::Object(top) = r else {
        return Err(format!(
            "report.json top level is a {}, not an object",
            r.py_type_name()
        ));
    };
    let missing: Vec<&str> = [
        "meta",
        "data",
        "edit",
        "guards",
        "metrics",
        "artifacts",
        "flags",
    ]
    .into_iter()
    .filter(|k| !top.contains_key(*k))
    .collect();
    if !missing.is_empty() {
        return Err(format!(
            "report.json lacks required keys: {}",
            missing.join(", ")
        ));
    }
    if r.get("guards").and_then(Value::as_array).is_none() {
        return Err("report.json `guards` is not an array".into());
    }
    let pm = r.pointer(&["metrics", "primary_metric"]);
    match pm {
        Some(Value::Object(m)) if !m.is_empty() => {
            match m.get("kind") {
                Some(Value::Str(k)) if !k.is_empty() => {}
                _ => return Err("metrics.primary_metric.kind is not a non-empty string".into()),
            }
            match m.get("final") {
                None | Some(Value::Null) => {}
                Some(v) if v.is_number_or_bool() => {}
                Some(v) => {
                    return Err(format!(
                        "metrics.primary_metric.final is a {}, not a number",
                        v.py_type_name()
                    ))
                }
            }
        }
        _ => return Err("metrics.primary_metric is missing or not a non-empty object".into()),
    }
    match r.pointer(&["meta", "seed"]) {
        Some(Value::Int(_) | Value::BigInt(_) | Value::Bool(_)) => Ok(()),
        _ => Err("meta.seed is not an integer".into()),
    }
}

/// Reads everything the index needs from report bytes: one UTF-8 check, one parse (token arrays
/// skipped), one sha256 over the same bytes.
pub fn analyze_report(bytes: &[u8]) -> ReportAnalysis {
    let sha256 = hex::encode(Sha256::digest(bytes));
    let outcome = parse_report_value(bytes).and_then(|v| {
        validate_report(&v)?;
        Ok(Box::new(extract(&v)))
    });
    ReportAnalysis {
        size: bytes.len() as u64,
        sha256,
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MINIMAL: &str = r#"{"meta": {"seed": 7, "ts": "t", "model_id": "m"}, "data": {}, "edit": {"name": "noop"},
        "guards": [{"name": "g", "passed": true}], "metrics": {"primary_metric": {"kind": "ppl_causal", "final": 2.0,
        "ratio_vs_baseline": NaN}, "window_pairing_reason": "no_baseline_reference"}, "artifacts": {}, "flags": {},
        "evaluation_windows": {"final": {"logloss": [1.0, 2], "input_ids": [[1, 2]]}}}"#;

    #[test]
    fn a_minimal_report_is_valid_and_keeps_nan_and_float_typing() {
        let a = analyze_report(MINIMAL.as_bytes());
        let f = a.outcome.unwrap();
        let pm = &f.detail["primary_metric"];
        assert_eq!(pm["ratio_vs_baseline"], J::String("NaN".into()));
        assert_eq!(serde_json::to_string(&pm["final"]).unwrap(), "2.0");
        assert_eq!(f.detail["seed"], json!(7));
        assert_eq!(
            f.window_pairing_reason.as_deref(),
            Some("no_baseline_reference")
        );
        assert!(!f.paired);
        assert!(f.final_logloss_fp.is_some());
    }

    #[test]
    fn empty_truncated_and_non_json_reports_are_invalid_with_a_reason() {
        for bad in ["", "{\"meta\": {", "hello", "[1, 2]", "{}"] {
            let a = analyze_report(bad.as_bytes());
            let reason = a.outcome.unwrap_err();
            assert!(!reason.is_empty(), "{bad:?}");
        }
        assert!(analyze_report(b"").outcome.unwrap_err().contains("0 bytes"));
    }

    #[test]
    fn validity_requires_integer_seed_and_a_primary_metric_kind() {
        let v = crate::pyjson::parse(&MINIMAL.replace("\"seed\": 7", "\"seed\": 7.0")).unwrap();
        assert!(validate_report(&v).unwrap_err().contains("meta.seed"));
        let v = crate::pyjson::parse(&MINIMAL.replace("\"kind\": \"ppl_causal\",", "")).unwrap();
        assert!(validate_report(&v).is_err());
        let v = crate::pyjson::parse(&MINIMAL.replace("\"seed\": 7", "\"seed\": true")).unwrap();
        assert!(validate_report(&v).is_ok());
    }

    #[test]
    fn a_guard_with_null_passed_counts_as_not_passed() {
        let a = analyze_report(
            MINIMAL
                .replace("\"passed\": true", "\"passed\": null")
                .as_bytes(),
        );
        assert_eq!(a.outcome.unwrap().guards_not_passed, vec!["g".to_string()]);
    }
}
