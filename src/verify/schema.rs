//! `reporting.certificate.validate_certificate` (§3.4): the certificate JSON Schema evaluated by
//! hand, plus the lenient fallback and the validation-flag rule that verify actually applies.
//!
//! Only ten or so rules of the draft 2020-12 schema matter and none of them recurse into
//! user-controlled depth, so a hand evaluation is exact and far cheaper than pulling in a
//! general JSON Schema engine (whose number/integer semantics would also need patching to
//! match Python's `jsonschema`: integral floats are integers, bools are not numbers).

use super::pyops::{get, py_eq, PyResult, Raised, EMPTY_DICT, NONE};
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

/// The schema's `validation` allow-list (0.3.6 ships no `contracts/validation_keys.json`).
const VALIDATION_KEYS: [&str; 10] = [
    "primary_metric_acceptable",
    "primary_metric_tail_acceptable",
    "preview_final_drift_acceptable",
    "guard_overhead_acceptable",
    "invariants_pass",
    "spectral_stable",
    "rmt_stable",
    "hysteresis_applied",
    "moe_observed",
    "moe_identity_ok",
];

/// `validate_certificate(cert)`. A non-dict certificate raises AttributeError, as in Python; so
/// does a `validation` string or list that names one of the six flags.
pub fn validate_certificate(cert: &Value) -> PyResult<bool> {
    if !matches!(get(cert, "schema_version", &NONE)?, Value::Str(s) if s == "v1") {
        return Ok(false);
    }
    if !schema_ok(cert) && !fallback_ok(cert) {
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
fn opt(m: &crate::pyjson::Object, key: &str, pred: fn(&Value) -> bool) -> bool {
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

fn schema_ok(cert: &Value) -> bool {
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
                            && opt(w, "seed", is_integer)
                    }
                    _ => false,
                };
            if !ok {
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
            .all(|(k, v)| !overhead_key_is_numeric(k) || is_number(v))
        {
            return false;
        }
    }
    if let Some(v) = c.get("validation") {
        let Value::Object(m) = v else { return false };
        if !m
            .iter()
            .all(|(k, v)| VALIDATION_KEYS.contains(&k.as_str()) && matches!(v, Value::Bool(_)))
        {
            return false;
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
