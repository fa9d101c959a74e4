//! 0.4.0: `_validate_primary_metric_policy` (ci/release). The release recomputes the report's
//! `primary_metric_acceptable` gate with `compute_validation_flags` (`reporting/
//! report_validation.py`) from the serialized evidence, and fails the report when it does not
//! hold. Only that flag decides, but the function evaluates the other gates first, and what
//! raises there (an unhashable invariants status, a bad `max_caps`) escapes as the real
//! tool's exception, so those steps are kept, in order. Policy values come from the report's
//! `resolved_policy.metrics`, else from the tier defaults the 0.4.0 wheel resolves
//! (`core/auto_tuning.get_tier_policies`, built-ins overlaid with `_data/runtime/tiers.yaml`).
//! `INVARLOCK_TINY_RELAX` from the environment is not read: a daemon's verdict must not
//! depend on its own environment.

mod coerce;
mod tier;

use super::ci_identity::coerce_float;
use super::pyops::{
    coerce_int, get_if_dict, is_dict, is_num, num_to_f64, or, py_float, py_int, py_lower, py_max,
    py_str, PyResult, Raised, EMPTY_DICT, NONE,
};
use crate::pyjson::Value;
use coerce::{add_decimal, comparable_with_int, dict_or_empty, get, int_to_finite_float, isfinite};
use tier::{tier_of, tiny_relax, TIER_DEFAULTS};

const PPL_KINDS: [&str; 3] = ["ppl_causal", "ppl_mlm", "ppl_seq2seq"];

/// The `primary_metric_acceptable` flag as `compute_validation_flags` leaves it.
fn primary_metric_acceptable(report: &Value) -> PyResult<bool> {
    // --- _recompute_validation_flags
    let pm = or(report.get("primary_metric").unwrap_or(&NONE), &EMPTY_DICT);
    let pm = if is_dict(pm) { pm } else { &EMPTY_DICT };
    let ratio = coerce_float(get_if_dict(pm, "ratio_vs_baseline"))?;
    // preview/final feed only the drift flag, but their coercion can raise.
    coerce_float(get_if_dict(pm, "preview"))?;
    coerce_float(get_if_dict(pm, "final"))?;
    let telemetry = report.get("telemetry").unwrap_or(&NONE);
    let (mut pt, mut ft) = (None, None);
    if is_dict(telemetry) {
        pt = coerce_int(get_if_dict(telemetry, "preview_total_tokens"))?;
        ft = coerce_int(get_if_dict(telemetry, "final_total_tokens"))?;
    }
    let report_tier = tier_of(report)?;
    let target_ratio = coerce_float(get_if_dict(
        dict_or_empty(report, "auto"),
        "target_pm_ratio",
    ))?;
    let relax = tiny_relax(report);
    let report_metrics = match get_if_dict(dict_or_empty(report, "resolved_policy"), "metrics") {
        m @ Value::Object(map) if !map.is_empty() => Some(m),
        _ => None,
    };

    // --- compute_validation_flags
    let tier = if relax {
        "aggressive".to_string()
    } else {
        report_tier.clone()
    };
    let report_policy;
    let tier_policy: &Value = match report_metrics {
        Some(m) => {
            // `{report_tier: {"metrics": m}}.get(tier, ….get("balanced", {}))`
            if tier == report_tier || report_tier == "balanced" {
                report_policy =
                    Value::Object([("metrics".to_string(), m.clone())].into_iter().collect());
                &report_policy
            } else {
                &EMPTY_DICT
            }
        }
        None => TIER_DEFAULTS
            .get(&tier)
            .or_else(|| TIER_DEFAULTS.get("balanced"))
            .unwrap_or(&EMPTY_DICT),
    };
    let metrics_policy = get_if_dict(tier_policy, "metrics");
    let metrics_policy = if is_dict(metrics_policy) {
        metrics_policy
    } else {
        &EMPTY_DICT
    };
    let pm_policy = get(metrics_policy, "pm_ratio", &EMPTY_DICT)?;
    let base_threshold = match tier.as_str() {
        "conservative" => 1.05,
        "aggressive" => 1.20,
        _ => 1.10,
    };
    let ratio_limit_base =
        coerce_float(get(pm_policy, "ratio_limit_base", &NONE)?)?.unwrap_or(base_threshold);
    let mut ratio_limit = ratio_limit_base;
    if let Some(t) = target_ratio.filter(|t| *t > 0.0) {
        if t < ratio_limit {
            ratio_limit = t;
        }
    }
    // `ppl.get("ratio_vs_baseline", 1.0)`: the coerced value is finite whenever present.
    let ratio_vs_baseline = ratio.unwrap_or(1.0);
    let hysteresis_ratio = py_float(get(pm_policy, "hysteresis_ratio", &Value::Float(0.0))?)?;
    let min_tokens = py_int(get(pm_policy, "min_tokens", &Value::Int(0))?)?;
    let mut tokens_ok = true;
    let (pt_f, ft_f) = (int_to_finite_float(&pt)?, int_to_finite_float(&ft)?);
    if let (Some(a), Some(b)) = (pt_f, ft_f) {
        if !min_tokens.is_negative() && !min_tokens.is_zero() {
            let floor: f64 = min_tokens.0.parse().unwrap_or(f64::INFINITY);
            tokens_ok = a.trunc() + b.trunc() >= floor;
        }
    }
    let tokens_ok_eff = tokens_ok || relax;
    let limit_with_hyst = ratio_limit + py_max(0.0, hysteresis_ratio);
    let compression_acceptable = ratio_vs_baseline <= limit_with_hyst && tokens_ok_eff;

    // The other gates: only their exceptions matter here.
    let spectral = dict_or_empty(report, "spectral");
    let mut max_caps = get_if_dict(spectral, "max_caps");
    if !max_caps.truthy() {
        max_caps = get(get(spectral, "summary", &EMPTY_DICT)?, "max_caps", &NONE)?;
    }
    let five = Value::Int(5);
    if max_caps.is_null() {
        let default_spectral = get_if_dict(tier_policy, "spectral");
        max_caps = if is_dict(default_spectral) {
            default_spectral.get("max_caps").unwrap_or(&five)
        } else {
            &five
        };
    }
    let zero = Value::Int(0);
    let caps_applied = spectral.get("caps_applied").unwrap_or(&zero);
    py_int(max_caps)?;
    comparable_with_int(caps_applied)?;
    let guard_overhead = dict_or_empty(report, "guard_overhead");
    if let Value::Object(go) = guard_overhead {
        if !go.is_empty() && !go.contains_key("passed") {
            coerce_float(go.get("overhead_ratio").unwrap_or(&NONE))?;
            coerce_float(go.get("overhead_threshold").unwrap_or(&Value::Float(0.01)))?;
        }
    }
    let status = get_if_dict(dict_or_empty(report, "invariants"), "status");
    if matches!(status, Value::Array(_) | Value::Object(_)) {
        return Err(Raised::python(
            "TypeError",
            format!("unhashable type: '{}'", status.py_type_name()),
        ));
    }

    // Optional primary metric gating: any exception inside means "not acceptable".
    let mut flag = compression_acceptable;
    if pm.truthy() {
        let gated = (|| -> PyResult<Option<bool>> {
            let kind = py_lower(&py_str(
                pm.get("kind").unwrap_or(&Value::Str(String::new())),
            )?);
            if PPL_KINDS.contains(&kind.as_str()) {
                let r = get_if_dict(pm, "ratio_vs_baseline");
                if is_num(r) && isfinite(r)? {
                    Ok(Some(num_to_f64(r)? <= limit_with_hyst && tokens_ok_eff))
                } else {
                    Ok(Some(compression_acceptable))
                }
            } else if kind == "accuracy" || kind == "vqa_accuracy" {
                let acc = get(metrics_policy, "accuracy", &EMPTY_DICT)?;
                let delta_min = py_float(get(acc, "delta_min_pp", &Value::Float(-1.0))?)?;
                let min_examples = py_int(get(acc, "min_examples", &Value::Int(200))?)?;
                let hyst = py_float(get(acc, "hysteresis_delta_pp", &Value::Float(0.0))?)?;
                let delta = get_if_dict(pm, "ratio_vs_baseline");
                let finite_delta = is_num(delta) && isfinite(delta)?;
                let mut meets_delta =
                    finite_delta && num_to_f64(delta)? >= delta_min - py_max(0.0, hyst);
                if relax && !finite_delta {
                    meets_delta = true;
                }
                let n_fin = get_if_dict(pm, "n_final");
                let mut meets_n = true;
                if is_num(n_fin) {
                    let n = py_int(n_fin)?;
                    let (nf, mf): (f64, f64) = (
                        n.0.parse().unwrap_or(f64::INFINITY),
                        min_examples.0.parse().unwrap_or(f64::INFINITY),
                    );
                    meets_n = relax || nf >= mf;
                }
                Ok(Some(meets_delta && meets_n))
            } else {
                Ok(None)
            }
        })();
        match gated {
            Ok(Some(v)) => flag = v,
            Ok(None) => {}
            Err(_) => flag = false,
        }
        // Reconcile: a ppl ratio within the hysteresis-adjusted limit wins (errors ignored).
        let reconciled = (|| -> PyResult<bool> {
            let kind = py_lower(&py_str(
                pm.get("kind").unwrap_or(&Value::Str(String::new())),
            )?);
            let r = get_if_dict(pm, "ratio_vs_baseline");
            Ok(PPL_KINDS.contains(&kind.as_str())
                && is_num(r)
                && isfinite(r)?
                && num_to_f64(r)? <= ratio_limit + py_max(0.0, hysteresis_ratio)
                && tokens_ok_eff)
        })();
        if reconciled == Ok(true) {
            flag = true;
        }
    }
    Ok(flag)
}

/// `_validate_primary_metric_policy(report, profile)` for ci/release.
pub fn primary_metric_policy(report: &Value) -> PyResult<Vec<String>> {
    if primary_metric_acceptable(report)? {
        return Ok(Vec::new());
    }
    let telemetry = report.get("telemetry").unwrap_or(&NONE);
    let mut total = None;
    if is_dict(telemetry) {
        let pt = coerce_int(get_if_dict(telemetry, "preview_total_tokens"))?;
        let ft = coerce_int(get_if_dict(telemetry, "final_total_tokens"))?;
        if let (Some(a), Some(b)) = (pt, ft) {
            total = Some(add_decimal(&a.0, &b.0));
        }
    }
    let tier = if is_dict(report.get("auto").unwrap_or(&NONE)) {
        tier_of(report)?
    } else {
        "balanced".into()
    };
    let mut detail = format!("tier={tier}");
    if let Some(t) = total {
        detail.push_str(&format!(", total_tokens={t}"));
    }
    Ok(vec![format!(
        "Primary metric policy gate failed ({detail})."
    )])
}
