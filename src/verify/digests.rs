//! Digests recomputable from a certificate alone (§5.2, §5.3). `measurement_contract_digest` is
//! part of the compatible verdict (C7); [`integrity`] goes beyond the real tool and only reports.

use super::pyops::{
    get_if_dict, is_dict, is_num, num_to_f64, py_float, py_int, py_lower, py_str, py_strip, NONE,
};
use crate::pyjson::{dumps, DumpStyle, Object, Value};
use serde::Serialize;
use sha2::{Digest, Sha256};

fn sha256_16(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    hex::encode(digest)[..16].to_string()
}

/// `_measurement_contract_digest`: sha256(J1(contract))[:16], None unless a non-empty dict.
pub fn measurement_contract_digest(contract: &Value) -> Option<String> {
    match contract {
        // CPython's encoder could raise RecursionError (which the real tool swallows), but only
        // past the nesting the parser already refuses (measured: a contract nested to the
        // parser's limit still hashes), so that branch cannot be reached.
        Value::Object(m) if !m.is_empty() => Some(sha256_16(&dumps(contract, DumpStyle::J1))),
        _ => None,
    }
}

/// One recomputed digest next to the value the certificate records.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DigestCheck {
    /// JSON path of the recorded digest, e.g. `auto.policy_digest`.
    pub field: String,
    pub recorded: Option<String>,
    /// None when the inputs needed for the recomputation are absent or unusable.
    pub computed: Option<String>,
    /// `recorded == computed`, both present.
    pub matches: bool,
}

/// Item 4 of the issue: digests the real tool never checks. Informational only.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Integrity {
    pub checks: Vec<DigestCheck>,
    /// Fields whose recorded digest disagrees with (or cannot be reproduced by) recomputation.
    pub mismatches: Vec<String>,
}

fn recorded(cert: &Value, path: &[&str]) -> Option<String> {
    cert.pointer(path)
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Recomputes `auto.policy_digest` (and its copies), `policy_digest.thresholds_hash` and the
/// guards' `measurement_contract_hash`, for every such field the certificate records.
pub fn integrity(cert: &Value) -> Integrity {
    let mut checks = Vec::new();
    let mut push = |field: &str, recorded: Option<String>, computed: Option<String>| {
        if recorded.is_none() {
            return;
        }
        let matches = recorded.is_some() && recorded == computed;
        checks.push(DigestCheck {
            field: field.to_string(),
            recorded,
            computed,
            matches,
        });
    };

    let policy = policy_digest(cert);
    for path in [
        &["auto", "policy_digest"][..],
        &["policy_provenance", "policy_digest"][..],
        &["provenance", "policy", "policy_digest"][..],
    ] {
        push(&path.join("."), recorded(cert, path), policy.clone());
    }
    push(
        "policy_digest.thresholds_hash",
        recorded(cert, &["policy_digest", "thresholds_hash"]),
        thresholds_hash(cert),
    );
    for guard in ["spectral", "rmt"] {
        let block = cert.get(guard).unwrap_or(&NONE);
        push(
            &format!("{guard}.measurement_contract_hash"),
            recorded(cert, &[guard, "measurement_contract_hash"]),
            measurement_contract_digest(get_if_dict(block, "measurement_contract")),
        );
    }
    let mismatches = checks
        .iter()
        .filter(|c| !c.matches)
        .map(|c| c.field.clone())
        .collect();
    Integrity { checks, mismatches }
}

/// `sha256(J1({"resolved_policy": …, "overrides": …}))[:16]`.
fn policy_digest(cert: &Value) -> Option<String> {
    let resolved = cert.get("resolved_policy")?.clone();
    let overrides = cert
        .pointer(&["policy_provenance", "overrides"])
        .cloned()
        .unwrap_or(Value::Array(Vec::new()));
    let mut payload = Object::new();
    payload.insert("resolved_policy".into(), resolved);
    payload.insert("overrides".into(), overrides);
    let payload = Value::Object(payload);
    Some(sha256_16(&dumps(&payload, DumpStyle::J1)))
}

fn dict_or_empty<'a>(v: &'a Value, key: &str) -> Option<&'a Object> {
    match v.get(key) {
        Some(Value::Object(m)) => Some(m),
        _ => None,
    }
}

/// `policy_utils._compute_thresholds_payload` + `_compute_thresholds_hash`.
fn thresholds_hash(cert: &Value) -> Option<String> {
    let tier_v = cert.pointer(&["policy_digest", "tier_policy_name"])?;
    let tier = py_lower(&py_str(tier_v).ok()?);
    let empty = Object::new();
    let rp = cert.get("resolved_policy").unwrap_or(&NONE);
    let metrics = dict_or_empty(rp, "metrics").unwrap_or(&empty);
    let sub = |k: &str| match metrics.get(k) {
        Some(Value::Object(m)) => m,
        _ => &empty,
    };
    let (pr, pt, ac) = (sub("pm_ratio"), sub("pm_tail"), sub("accuracy"));
    let va = if is_dict(rp) {
        rp.get("variance").unwrap_or(&NONE)
    } else {
        &NONE
    };
    let va = match va {
        Value::Object(m) => m,
        _ => &empty,
    };
    // `float(d.get(k, default) or default)`.
    let f_or = |m: &Object, k: &str, d: f64| -> Option<f64> {
        match m.get(k) {
            Some(v) if v.truthy() => py_float(v).ok(),
            _ => Some(d),
        }
    };
    let i_or = |m: &Object, k: &str, d: i64| -> Option<Value> {
        match m.get(k) {
            Some(v) if v.truthy() => {
                let i = py_int(v).ok()?;
                Some(match i.0.parse::<i64>() {
                    Ok(n) => Value::Int(n),
                    Err(_) => Value::BigInt(i.0),
                })
            }
            _ => Some(Value::Int(d)),
        }
    };
    let f_any = |m: &Object, k: &str, d: f64| -> f64 {
        m.get(k).map_or(Some(d), |v| py_float(v).ok()).unwrap_or(d)
    };
    let opt_num = |m: &Object, k: &str| -> Option<Value> {
        match m.get(k) {
            Some(v) if is_num(v) => num_to_f64(v).ok().map(Value::Float),
            _ => Some(Value::Null),
        }
    };
    let ratio_limit_base = match pr.get("ratio_limit_base") {
        Some(v) if !v.is_null() => py_float(v).ok(),
        _ => None,
    }
    .unwrap_or(match tier.as_str() {
        "conservative" => 1.05,
        "aggressive" => 1.20,
        _ => 1.10,
    });
    let mode = match pt.get("mode") {
        Some(v) if v.truthy() => py_str(v).ok()?,
        _ => "warn".into(),
    };
    let obj = |pairs: Vec<(&str, Value)>| {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    };
    let payload = obj(vec![
        ("tier", Value::Str(tier.clone())),
        (
            "pm_ratio",
            obj(vec![
                ("ratio_limit_base", Value::Float(ratio_limit_base)),
                ("min_tokens", i_or(pr, "min_tokens", 0)?),
                (
                    "min_token_fraction",
                    Value::Float(f_or(pr, "min_token_fraction", 0.0)?),
                ),
                (
                    "hysteresis_ratio",
                    Value::Float(f_or(pr, "hysteresis_ratio", 0.0)?),
                ),
            ]),
        ),
        (
            "pm_tail",
            obj(vec![
                ("mode", Value::Str(py_lower(py_strip(&mode)))),
                ("min_windows", i_or(pt, "min_windows", 0)?),
                ("quantile", Value::Float(f_any(pt, "quantile", 0.95))),
                ("quantile_max", opt_num(pt, "quantile_max")?),
                ("epsilon", Value::Float(f_any(pt, "epsilon", 0.0))),
                ("mass_max", opt_num(pt, "mass_max")?),
            ]),
        ),
        (
            "accuracy",
            obj(vec![
                (
                    "delta_min_pp",
                    Value::Float(f_or(ac, "delta_min_pp", -1.0)?),
                ),
                ("min_examples", i_or(ac, "min_examples", 200)?),
                (
                    "min_examples_fraction",
                    Value::Float(f_or(ac, "min_examples_fraction", 0.0)?),
                ),
                (
                    "hysteresis_delta_pp",
                    Value::Float(f_or(ac, "hysteresis_delta_pp", 0.0)?),
                ),
            ]),
        ),
        (
            "variance",
            obj(vec![(
                "min_effect_lognll",
                Value::Float(f_or(va, "min_effect_lognll", 0.0)?),
            )]),
        ),
    ]);
    Some(sha256_16(&dumps(&payload, DumpStyle::J2)))
}
