//! §2.2: the fields the index keeps from a valid report, and the attempt detail's view of it.

use super::ReportFacts;
use crate::pyjson::Value;
use crate::report::digest::{logloss_fingerprint, report_hash, run_id, subject_digests};
use serde_json::{json, Map, Value as J};

fn s(v: &Value, path: &[&str]) -> Option<String> {
    v.pointer(path).and_then(Value::as_str).map(str::to_string)
}

fn j(v: &Value, path: &[&str]) -> J {
    v.pointer(path).map(Value::to_serde).unwrap_or(J::Null)
}

fn non_empty(x: Option<String>) -> Option<String> {
    x.filter(|s| !s.is_empty())
}

pub(super) fn extract(r: &Value) -> ReportFacts {
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
