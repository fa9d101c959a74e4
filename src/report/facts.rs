//! report.json → the facts the index keeps (§2.1 validity, §2.2 fields).

use super::digest::{logloss_fingerprint, report_hash, run_id, subject_digests};
use super::SKIPPED_PATHS;
use crate::pyjson::{decode_utf8, parse_with, ParseOptions, Value};
use serde_json::{json, Map, Value as J};
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

fn s(v: &Value, path: &[&str]) -> Option<String> {
    v.pointer(path).and_then(Value::as_str).map(str::to_string)
}

fn j(v: &Value, path: &[&str]) -> J {
    v.pointer(path).map(Value::to_serde).unwrap_or(J::Null)
}

fn non_empty(x: Option<String>) -> Option<String> {
    x.filter(|s| !s.is_empty())
}

fn extract(r: &Value) -> ReportFacts {
    let no_guards = Vec::new();
    let guards = r
        .get("guards")
        .and_then(Value::as_array)
        .unwrap_or(&no_guards);
    let mut guards_not_passed = Vec::new();
    let guard_items: Vec<J> = guards
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let name = g
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("guards[{i}]"));
            let passed = g.get("passed");
            if !matches!(passed, Some(Value::Bool(true))) {
                guards_not_passed.push(name.clone());
            }
            let count = |k: &str| g.get(k).and_then(Value::as_array).map_or(0, Vec::len);
            json!({
                "name": name,
                "passed": passed.map(Value::to_serde).unwrap_or(J::Null),
                "action": g.get("action").map(Value::to_serde).unwrap_or(J::Null),
                "violations": count("violations"),
                "warnings": count("warnings"),
                "errors": count("errors"),
            })
        })
        .collect();
    let go = r.get("guard_overhead");
    let overhead_gate_failed = go.is_some_and(|g| {
        matches!(g.get("evaluated"), Some(Value::Bool(true)))
            && matches!(g.get("passed"), Some(Value::Bool(false)))
    });
    let pm = r.pointer(&["metrics", "primary_metric"]);
    let pm_invalid = pm.and_then(|p| p.get("invalid")).is_some_and(Value::truthy);
    let reason_v = r.pointer(&["metrics", "window_pairing_reason"]);
    let paired = matches!(reason_v, Some(Value::Null));
    let tokenizer_hash = non_empty(s(r, &["meta", "tokenizer_hash"]))
        .or_else(|| non_empty(s(r, &["data", "tokenizer_hash"])));
    let (subject_run_id, subject_report_hash) = match subject_digests(r) {
        Some((a, b)) => (Some(a), Some(b)),
        None => (None, None),
    };

    let mut edit = Map::new();
    for k in [
        "name",
        "plan_digest",
        "algorithm",
        "algorithm_version",
        "implementation",
        "scope",
        "seed",
        "mask_digest",
    ] {
        if let Some(v) = r.pointer(&["edit", k]) {
            edit.insert(k.to_string(), v.to_serde());
        }
    }
    let mut deltas = Map::new();
    for k in ["params_changed", "sparsity", "layers_modified"] {
        if let Some(v) = r.pointer(&["edit", "deltas", k]) {
            deltas.insert(k.to_string(), v.to_serde());
        }
    }
    edit.insert("deltas".into(), J::Object(deltas));

    let overhead = go.map(|g| {
        let mut m = Map::new();
        for k in [
            "evaluated",
            "passed",
            "skipped",
            "mode",
            "overhead_ratio",
            "overhead_percent",
            "overhead_threshold",
        ] {
            if let Some(v) = g.get(k) {
                m.insert(k.to_string(), v.to_serde());
            }
        }
        J::Object(m)
    });

    let detail = json!({
        "model_id": j(r, &["meta", "model_id"]),
        "adapter": j(r, &["meta", "adapter"]),
        "device": j(r, &["meta", "device"]),
        "commit": j(r, &["meta", "commit"]),
        "report_ts": j(r, &["meta", "ts"]),
        "invarlock_version": j(r, &["meta", "invarlock_version"]),
        "profile": j(r, &["context", "profile"]),
        "auto": j(r, &["meta", "auto"]),
        "seed": j(r, &["meta", "seed"]),
        "seeds": j(r, &["meta", "seeds"]),
        "data": {
            "dataset": j(r, &["data", "dataset"]),
            "split": j(r, &["data", "split"]),
            "seq_len": j(r, &["data", "seq_len"]),
            "stride": j(r, &["data", "stride"]),
            "preview_n": j(r, &["data", "preview_n"]),
            "final_n": j(r, &["data", "final_n"]),
            "loss_type": j(r, &["data", "loss_type"]),
            "dataset_hash": j(r, &["data", "dataset_hash"]),
            "preview_hash": j(r, &["data", "preview_hash"]),
            "final_hash": j(r, &["data", "final_hash"]),
            "tokenizer_hash": j(r, &["data", "tokenizer_hash"]),
            "tokenizer_name": j(r, &["data", "tokenizer_name"]),
        },
        "tokenizer_hash": tokenizer_hash,
        "provider_digest": j(r, &["provenance", "provider_digest"]),
        "primary_metric": j(r, &["metrics", "primary_metric"]),
        "pairing": {
            "window_pairing_reason": j(r, &["metrics", "window_pairing_reason"]),
            "window_pairing_preview": j(r, &["metrics", "window_pairing_preview"]),
            "window_pairing_final": j(r, &["metrics", "window_pairing_final"]),
            "window_match_fraction": j(r, &["metrics", "window_match_fraction"]),
            "window_overlap_fraction": j(r, &["metrics", "window_overlap_fraction"]),
            "paired_windows": j(r, &["metrics", "paired_windows"]),
            "paired_delta_summary": j(r, &["metrics", "paired_delta_summary"]),
        },
        "guards": guard_items,
        "guard_overhead": overhead,
        "flags": j(r, &["flags"]),
        "edit": J::Object(edit),
    });

    ReportFacts {
        model_id: s(r, &["meta", "model_id"]),
        adapter: s(r, &["meta", "adapter"]),
        edit_name: s(r, &["edit", "name"]),
        profile: s(r, &["context", "profile"]),
        seed: r.pointer(&["meta", "seed"]).and_then(|v| match v {
            Value::Bool(b) => Some(*b as i64),
            other => other.as_i64(),
        }),
        dataset_hash: non_empty(s(r, &["data", "dataset_hash"])),
        preview_hash: non_empty(s(r, &["data", "preview_hash"])),
        final_hash: non_empty(s(r, &["data", "final_hash"])),
        tokenizer_hash,
        ids_sha256: non_empty(s(r, &["provenance", "provider_digest", "ids_sha256"])),
        pm_kind: pm
            .and_then(|p| p.get("kind"))
            .and_then(Value::as_str)
            .map(str::to_string),
        window_pairing_reason: reason_v.and_then(Value::as_str).map(str::to_string),
        paired,
        final_logloss_fp: r
            .pointer(&["evaluation_windows", "final", "logloss"])
            .and_then(logloss_fingerprint),
        run_id: run_id(r),
        report_hash: report_hash(r),
        subject_run_id,
        subject_report_hash,
        guards_not_passed,
        overhead_gate_failed,
        pm_invalid,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
