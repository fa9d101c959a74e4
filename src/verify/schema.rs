//! `reporting.certificate.validate_certificate` (§3.4): the certificate JSON Schema evaluated by
//! hand, plus the lenient fallback and the validation-flag rule that verify actually applies.
//!
//! Only ten or so rules of the draft 2020-12 schema matter and none of them recurse into
//! user-controlled depth, so a hand evaluation is exact and far cheaper than pulling in a
//! general JSON Schema engine (whose number/integer semantics would also need patching to
//! match Python's `jsonschema`: integral floats are integers, bools are not numbers).

use super::pyops::{get, py_eq, PyResult, Raised, EMPTY_DICT, NONE};
use super::release::{Features, SchemaFlavor};
use crate::pyjson::Value;

/// The six flags `validate_certificate` requires to be JSON booleans when present.
const FLAGS: [&str; 6] = [
    "preview_final_drift_acceptable",
    "primary_metric_acceptable",
    "invariants_pass",
    "spectral_stable",
    "rmt_stable",
    "guard_overhead_acceptable",
];

/// The schema's `validation` allow-list (no wheel ships `contracts/validation_keys.json`, so
/// the built-in default applies; 0.3.4–0.3.5 lack the tail key, which is first).
const VALIDATION_KEYS: [&str; 10] = [
    "primary_metric_tail_acceptable",
    "primary_metric_acceptable",
    "preview_final_drift_acceptable",
    "guard_overhead_acceptable",
    "invariants_pass",
    "spectral_stable",
    "rmt_stable",
    "hysteresis_applied",
    "moe_observed",
    "moe_identity_ok",
];

/// 0.3.10+ `_validate_report_schema_strict`: the JSON Schema alone, no fallback. Never raises
/// for a non-dict (it answers False), unlike [`validate_certificate`].
pub fn strict_schema_ok(cert: &Value, f: Features) -> PyResult<bool> {
    Ok(schema_ok(cert, f))
}

/// `validate_certificate(cert)` (`validate_report` from 0.3.8). A non-dict certificate raises
/// AttributeError, as in Python; so does a `validation` string or list that names one of the
/// six flags.
pub fn validate_certificate(cert: &Value, f: Features) -> PyResult<bool> {
    if !matches!(get(cert, "schema_version", &NONE)?, Value::Str(s) if s == "v1") {
        return Ok(false);
    }
    if !schema_ok(cert, f) && !fallback_ok(cert) {
        return Ok(false);
    }
    let validation = get(cert, "validation", &EMPTY_DICT)?;
    for flag in FLAGS {
        let present = match validation {
            Value::Object(m) => m.contains_key(flag),
            Value::Str(s) => s.contains(flag),
            Value::Array(items) => items.iter().any(|i| py_eq(i, &Value::Str(flag.into()))),
            // `flag in None` etc. raise TypeError, which validate_certificate turns into False.
            _ => return Ok(false),
        };
        if present {
            match validation {
                Value::Object(m) => {
                    if !matches!(m.get(flag), Some(Value::Bool(_))) {
                        return Ok(false);
                    }
                }
                other => return Err(Raised::no_attr(other, "get")),
            }
        }
    }
    Ok(true)
}

fn fallback_ok(cert: &Value) -> bool {
    let run_id_ok = cert
        .get("run_id")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    let pm_ok = match cert.get("primary_metric") {
        Some(Value::Object(pm)) => {
            pm.get("final").is_some_and(Value::is_number_or_bool)
                || pm
                    .get("kind")
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty())
        }
        _ => false,
    };
    run_id_ok && pm_ok
}

fn is_number(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::BigInt(_) | Value::Float(_))
}

fn is_integer(v: &Value) -> bool {
    match v {
        Value::Int(_) | Value::BigInt(_) => true,
        Value::Float(f) => f.is_finite() && f.fract() == 0.0,
        _ => false,
    }
}

fn is_object(v: &Value) -> bool {
    matches!(v, Value::Object(_))
}

/// `minimum` applies only to numbers; NaN compares false, so it fails.
fn at_least(v: &Value, min: f64) -> bool {
    match v {
        Value::Int(i) => (*i as f64) >= min,
        Value::BigInt(s) => !s.starts_with('-'),
        Value::Float(f) => *f >= min,
        _ => true,
    }
}

/// `type: <t>` for an optional property: absent passes.
fn opt(m: &crate::pyjson::Object, key: &str, pred: impl Fn(&Value) -> bool) -> bool {
    m.get(key).is_none_or(pred)
}

/// `re.search(pattern, key)` for the two `system_overhead` patterns; `$` also matches before a
/// final newline, `.` never matches a newline.
fn overhead_key_is_numeric(key: &str) -> bool {
    let strip_nl = |s: &str| s.strip_suffix('\n').unwrap_or(s).to_string();
    let latency = matches!(strip_nl(key).as_str(), "latency_ms_p50" | "latency_ms_p95");
    let throughput = key
        .strip_prefix("throughput_")
        .is_some_and(|rest| !strip_nl(rest).contains('\n'));
    latency || throughput
}

/// Where the release's schema accepts a number, or (0.3.11+) an object of numbers.
fn overhead_entry_ok(v: &Value, flavor: SchemaFlavor) -> bool {
    match (v, flavor) {
        (v, _) if is_number(v) => true,
        (Value::Object(m), SchemaFlavor::Loosened | SchemaFlavor::V0_4) => {
            ["baseline", "edited", "delta", "ratio"]
                .iter()
                .all(|k| opt(m, k, is_number))
        }
        _ => false,
    }
}

/// 0.4.0's `dataset.hash` and `dataset.tokenizer` properties.
fn dataset_v04_ok(d: &crate::pyjson::Object) -> bool {
    let is_str = |v: &Value| matches!(v, Value::Str(_));
    let hash_ok = match d.get("hash") {
        None => true,
        Some(Value::Object(h)) => {
            opt(h, "preview", is_str)
                && opt(h, "final", is_str)
                && opt(h, "dataset", |v| matches!(v, Value::Str(_) | Value::Null))
                && ["preview_tokens", "final_tokens"].iter().all(|k| {
                    opt(h, k, |v| {
                        is_integer(v) || matches!(v, Value::Str(_) | Value::Null)
                    })
                })
                && opt(h, "total_tokens", |v| is_integer(v) && at_least(v, 0.0))
                && opt(
                    h,
                    "source",
                    |v| matches!(v, Value::Str(s) if ["explicit_preview_final_hashes", "explicit_token_ids", "config_fallback"].contains(&s.as_str())),
                )
        }
        Some(_) => false,
    };
    hash_ok && opt(d, "tokenizer", is_object)
}

/// The release's JSON Schema (`jsonschema.validate`), with the validation allow-list that
/// `reporting/certificate.py` (`report_builder.py`) installs at import time.
fn schema_ok(cert: &Value, f: Features) -> bool {
    let flavor = f.schema;
    let Value::Object(c) = cert else { return false };
    const REQUIRED: [&str; 7] = [
        "schema_version",
        "run_id",
        "artifacts",
        "plugins",
        "meta",
        "dataset",
        "primary_metric",
    ];
    if !REQUIRED.iter().all(|k| c.contains_key(*k)) {
        return false;
    }
    if !matches!(c.get("schema_version"), Some(Value::Str(s)) if s == "v1") {
        return false;
    }
    if !matches!(c.get("run_id"), Some(Value::Str(s)) if s.chars().count() >= 4) {
        return false;
    }
    let is_str = |v: &Value| matches!(v, Value::Str(_));
    let is_bool = |v: &Value| matches!(v, Value::Bool(_));
    let is_array = |v: &Value| matches!(v, Value::Array(_));
    if !opt(c, "edit_name", is_str) {
        return false;
    }
    for key in [
        "meta",
        "artifacts",
        "provenance",
        "resolved_policy",
        "policy_provenance",
        "structure",
    ] {
        if !opt(c, key, is_object) {
            return false;
        }
    }
    if let Some(pd) = c.get("policy_digest") {
        let Value::Object(p) = pd else { return false };
        let ok = opt(p, "policy_version", is_str)
            && opt(p, "tier_policy_name", is_str)
            && opt(p, "thresholds_hash", is_str)
            && opt(p, "hysteresis", is_object)
            && opt(p, "min_effective", is_number)
            && opt(p, "changed", is_bool);
        if !ok {
            return false;
        }
    }
    match c.get("plugins") {
        Some(Value::Object(p)) => {
            if !(opt(p, "adapters", is_array)
                && opt(p, "edits", is_array)
                && opt(p, "guards", is_array))
            {
                return false;
            }
        }
        _ => return false,
    }
    match c.get("dataset") {
        Some(Value::Object(d)) => {
            let ok = matches!(d.get("provider"), Some(Value::Str(_)))
                && d.get("seq_len")
                    .is_some_and(|v| is_integer(v) && at_least(v, 1.0))
                && match d.get("windows") {
                    Some(Value::Object(w)) => {
                        w.get("preview")
                            .is_some_and(|v| is_integer(v) && at_least(v, 0.0))
                            && w.get("final")
                                .is_some_and(|v| is_integer(v) && at_least(v, 0.0))
                            && w.get("stats").is_some_and(is_object)
                            && opt(w, "seed", |v| {
                                is_integer(v) || (flavor != SchemaFlavor::Original && v.is_null())
                            })
                    }
                    _ => false,
                };
            if !ok || (flavor == SchemaFlavor::V0_4 && !dataset_v04_ok(d)) {
                return false;
            }
        }
        _ => return false,
    }
    match c.get("primary_metric") {
        Some(Value::Object(pm)) => {
            let pair =
                |v: &Value| matches!(v, Value::Array(a) if a.len() == 2 && a.iter().all(is_number));
            let ok = matches!(pm.get("kind"), Some(Value::Str(_)))
                && ["unit", "direction", "aggregation_scope", "gating_basis"]
                    .iter()
                    .all(|k| opt(pm, k, is_str))
                && ["paired", "estimated"].iter().all(|k| opt(pm, k, is_bool))
                && ["preview", "final", "ratio_vs_baseline", "reps", "ci_level"]
                    .iter()
                    .all(|k| opt(pm, k, is_number))
                && opt(
                    pm,
                    "counts_source",
                    |v| matches!(v, Value::Str(s) if s == "measured" || s == "pseudo_config"),
                )
                && opt(pm, "ci", pair)
                && opt(pm, "display_ci", pair);
            if !ok {
                return false;
            }
        }
        _ => return false,
    }
    if let Some(so) = c.get("system_overhead") {
        let Value::Object(s) = so else { return false };
        if !s
            .iter()
            .all(|(k, v)| !overhead_key_is_numeric(k) || overhead_entry_ok(v, flavor))
        {
            return false;
        }
    }
    if let Some(v) = c.get("validation") {
        let Value::Object(m) = v else { return false };
        let keys = if f.validation_tail_key {
            &VALIDATION_KEYS[..]
        } else {
            &VALIDATION_KEYS[1..]
        };
        if !m
            .iter()
            .all(|(k, v)| keys.contains(&k.as_str()) && matches!(v, Value::Bool(_)))
        {
            return false;
        }
    }
    if flavor == SchemaFlavor::V0_4 {
        if let Some(rmt) = c.get("rmt") {
            let Value::Object(r) = rmt else { return false };
            let is_str = |v: &Value| matches!(v, Value::Str(_));
            if !(opt(r, "mode", is_str) && opt(r, "measurement_contract_hash", is_str)) {
                return false;
            }
        }
    }
    if let Some(conf) = c.get("confidence") {
        let Value::Object(m) = conf else { return false };
        let ok = matches!(m.get("label"), Some(Value::Str(s)) if ["High", "Medium", "Low"].contains(&s.as_str()))
            && matches!(m.get("basis"), Some(Value::Str(_)))
            && opt(m, "width", is_number)
            && opt(m, "threshold", is_number)
            && opt(m, "unstable", is_bool);
        if !ok {
            return false;
        }
    }
    true
}
