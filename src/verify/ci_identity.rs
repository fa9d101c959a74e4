//! 0.3.10+: `_validate_logspace_ci_identity`. For a paired ppl report the display interval must
//! be the exponential of the log-space one (`display_ci ≈ exp(ci)`); ci/release also require
//! both intervals. Runs in every profile; its "mismatch" line becomes E602 under ci/release.

use super::checks::{is_finite_number, Ctx};
use super::pyops::{
    coerce_int, get, get_if_dict, is_dict, num_to_f64, or, py_float, py_lower, py_str, PyResult,
    Raised, EMPTY_DICT, EMPTY_STR, NONE,
};
use crate::pyjson::Value;

/// `_coerce_float`: `float(v)` if finite; None on TypeError/ValueError. OverflowError escapes.
pub fn coerce_float(v: &Value) -> PyResult<Option<f64>> {
    match py_float(v) {
        Ok(f) => Ok(f.is_finite().then_some(f)),
        Err(Raised::Python { class, .. }) if class == "TypeError" || class == "ValueError" => {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// `_finite_bounds`: a two-element list of finite numbers.
fn finite_bounds(v: &Value) -> PyResult<Option<(f64, f64)>> {
    let Value::Array(items) = v else {
        return Ok(None);
    };
    if items.len() != 2 {
        return Ok(None);
    }
    for item in items {
        if !is_finite_number(item)? {
            return Ok(None);
        }
    }
    Ok(Some((num_to_f64(&items[0])?, num_to_f64(&items[1])?)))
}

/// `math.exp`: OverflowError ("math range error") where the result does not fit a float.
fn py_exp(x: f64) -> PyResult<f64> {
    let e = x.exp();
    if e.is_infinite() && x.is_finite() {
        return Err(Raised::python("OverflowError", "math range error"));
    }
    Ok(e)
}

pub fn logspace_ci_identity(report: &Value, cx: &Ctx) -> PyResult<Vec<String>> {
    let mut errors = Vec::new();
    let pm = or(get(report, "primary_metric", &EMPTY_DICT)?, &EMPTY_DICT);
    if !is_dict(pm) {
        return Ok(errors);
    }
    let kind = py_lower(&py_str(get_if_dict_or(pm, "kind", &EMPTY_STR))?);
    if !kind.starts_with("ppl") {
        return Ok(errors);
    }
    let dataset = get(report, "dataset", &EMPTY_DICT)?;
    let windows = get(dataset, "windows", &EMPTY_DICT)?;
    let stats = or(get(windows, "stats", &EMPTY_DICT)?, &EMPTY_DICT);
    if !is_dict(stats) {
        return Ok(errors);
    }
    let pairing_reason = get_if_dict(stats, "window_pairing_reason");
    let paired_windows = coerce_int(get_if_dict(stats, "paired_windows"))?;
    let match_fraction = coerce_float(get_if_dict(stats, "window_match_fraction"))?;
    let overlap_fraction = coerce_float(get_if_dict(stats, "window_overlap_fraction"))?;
    let paired = pairing_reason.is_null()
        && paired_windows.is_some_and(|p| !p.is_zero())
        && match_fraction.is_some_and(|m| m >= 0.999999)
        && overlap_fraction.is_some_and(|o| o <= 1e-9);
    if !paired {
        return Ok(errors);
    }
    let baseline_ref = or(get(report, "baseline_ref", &EMPTY_DICT)?, &EMPTY_DICT);
    let baseline_pm = get_if_dict(baseline_ref, "primary_metric");
    let baseline_final = if is_dict(baseline_pm) {
        get_if_dict(baseline_pm, "final")
    } else {
        &NONE
    };
    if !is_finite_number(baseline_final)? {
        return Ok(errors);
    }
    let (ci_v, display_v) = (get_if_dict(pm, "ci"), get_if_dict(pm, "display_ci"));
    if cx.strict() {
        if finite_bounds(ci_v)?.is_none() {
            errors.push(
                "primary_metric.ci missing for ppl-like metric under paired baseline in CI/Release."
                    .into(),
            );
        }
        if finite_bounds(display_v)?.is_none() {
            errors.push(
                "primary_metric.display_ci missing for ppl-like metric under paired baseline in CI/Release."
                    .into(),
            );
        }
    }
    // `_finite_bounds(ci) and _finite_bounds(display_ci)`: the second only if the first holds.
    let Some((c0, c1)) = finite_bounds(ci_v)? else {
        return Ok(errors);
    };
    let Some((d0, d1)) = finite_bounds(display_v)? else {
        return Ok(errors);
    };
    let expected = [py_exp(c0)?, py_exp(c1)?];
    for (obs, exp) in [d0, d1].into_iter().zip(expected) {
        let tolerance = 5e-4 * exp.abs().max(1.0);
        if (obs - exp).abs() > tolerance {
            errors.push("primary_metric.display_ci mismatch: bounds do not match exp(ci).".into());
            break;
        }
    }
    Ok(errors)
}

/// `pm.get(key, default)` on a dict.
fn get_if_dict_or<'a>(pm: &'a Value, key: &str, default: &'a Value) -> &'a Value {
    pm.get(key).unwrap_or(default)
}
