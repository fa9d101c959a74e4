//! C7 and C8: the guard measurement contracts (ci/release) and the release-only guard-overhead
//! requirement.

use super::checks::Ctx;
use super::digests::measurement_contract_digest;
use super::pyops::{
    get, get_if_dict, is_dict, or, py_lower, py_str, py_strip, PyResult, EMPTY_DICT, EMPTY_STR,
    NONE,
};
use crate::pyjson::Value;

/// C7: `_validate_measurement_contracts` (ci/release).
pub fn measurement_contracts(cert: &Value, cx: &Ctx) -> PyResult<Vec<String>> {
    let (prof, subject) = (cx.prof, cx.w.subject());
    let mut errors = Vec::new();
    let resolved_policy = or(get(cert, "resolved_policy", &NONE)?, &EMPTY_DICT);
    for guard in ["spectral", "rmt"] {
        let block = or(get(cert, guard, &NONE)?, &EMPTY_DICT);
        if !is_dict(block) {
            continue;
        }
        let evaluated = block.get("evaluated").is_none_or(Value::truthy);
        if !evaluated {
            continue;
        }
        let mc = get_if_dict(block, "measurement_contract");
        let mc_hash = measurement_contract_digest(mc);
        let expected_hash = get_if_dict(block, "measurement_contract_hash");
        if !is_dict(mc) || !mc.truthy() {
            errors.push(format!("{subject} missing {guard}.measurement_contract."));
        } else if let Value::Str(eh) = expected_hash.clone() {
            if eh.is_empty() {
                errors.push(format!(
                    "{subject} missing {guard}.measurement_contract_hash."
                ));
            } else if let Some(h) = &mc_hash {
                if *h != eh {
                    errors.push(format!(
                        "{guard}.measurement_contract_hash mismatch: expected={eh}, computed={h}."
                    ));
                }
            }
        } else {
            errors.push(format!(
                "{subject} missing {guard}.measurement_contract_hash."
            ));
        }
        let rp_guard = if is_dict(resolved_policy) {
            get_if_dict(resolved_policy, guard)
        } else {
            &NONE
        };
        let rp_mc = if is_dict(rp_guard) {
            get_if_dict(rp_guard, "measurement_contract")
        } else {
            &NONE
        };
        let rp_hash = measurement_contract_digest(rp_mc);
        if !is_dict(rp_mc) || !rp_mc.truthy() {
            errors.push(format!(
                "{subject} missing resolved_policy.{guard}.measurement_contract."
            ));
        } else if let (Some(a), Some(b)) = (&mc_hash, &rp_hash) {
            if a != b {
                errors.push(format!(
                    "{guard} measurement_contract differs between analysis and resolved_policy (analysis={a}, resolved_policy={b})."
                ));
            }
        }
        if !matches!(
            block.get("measurement_contract_match"),
            Some(Value::Bool(true))
        ) {
            errors.push(format!(
                "{guard} measurement contract must match baseline for {prof} profile."
            ));
        }
    }
    Ok(errors)
}

/// C8: release-only guard-overhead requirement.
pub fn guard_overhead(cert: &Value, cx: &Ctx) -> PyResult<Vec<String>> {
    let hint = cx.w.overhead_hint;
    let mut errors = Vec::new();
    let go = get(cert, "guard_overhead", &NONE)?;
    if !is_dict(go) || !go.truthy() {
        errors.push(format!(
            "Release verification requires guard_overhead (missing). {hint}"
        ));
        return Ok(errors);
    }
    let skipped = go.get("skipped").is_some_and(Value::truthy)
        || py_lower(py_strip(&py_str(go.get("mode").unwrap_or(&EMPTY_STR))?)) == "skipped";
    if !skipped {
        if !matches!(go.get("evaluated"), Some(Value::Bool(true))) {
            errors.push(format!(
                "Release verification requires evaluated guard_overhead (not evaluated). {hint}"
            ));
        }
        if get_if_dict(go, "overhead_ratio").is_null() {
            errors.push(
                "Release verification requires guard_overhead.overhead_ratio (missing).".into(),
            );
        }
    }
    Ok(errors)
}
