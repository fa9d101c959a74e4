//! C1: the primary metric is declared valid, finite and consistent with its baseline.

use crate::pyjson::{py_fixed, py_repr as float_repr, Value};
use crate::verify::pyops::{
    get, get_if_dict, is_dict, is_num, isclose, num_to_f64, or, py_lower, py_str, py_strip,
    PyResult, EMPTY_DICT, EMPTY_STR,
};

use super::{is_finite_number, Ctx};

/// `_declares_invalid_primary_metric` (0.3.7+).
fn declares_invalid(pm: &Value) -> bool {
    if get_if_dict(pm, "invalid").truthy() {
        return true;
    }
    match get_if_dict(pm, "degraded_reason") {
        Value::Str(reason) => {
            let r = py_lower(py_strip(reason));
            r.starts_with("non_finite") || r == "primary_metric_invalid" || r == "evaluation_error"
        }
        _ => false,
    }
}

/// C1: `_validate_primary_metric`.
pub fn primary_metric(cert: &Value, cx: &Ctx) -> PyResult<Vec<String>> {
    let subject = cx.w.subject();
    let mut errors = Vec::new();
    let pm = or(get(cert, "primary_metric", &EMPTY_DICT)?, &EMPTY_DICT);
    if !is_dict(pm) || !pm.truthy() {
        errors.push(format!("{subject} missing primary_metric block."));
        return Ok(errors);
    }
    // `str(pm.get("kind", ""))`: a missing kind reads as "", a null one as "None".
    let kind = py_lower(&py_str(pm.get("kind").unwrap_or(&EMPTY_STR))?);
    let ratio = get_if_dict(pm, "ratio_vs_baseline");
    let fin = get_if_dict(pm, "final");
    let pm_invalid = cx.f.invalid_primary_metric && declares_invalid(pm);
    let missing_finite_ratio =
        || format!("{subject} is missing a finite primary_metric.ratio_vs_baseline value.");
    if kind.starts_with("ppl") {
        let baseline_ref = or(get(cert, "baseline_ref", &EMPTY_DICT)?, &EMPTY_DICT);
        let baseline_pm = get_if_dict(baseline_ref, "primary_metric");
        let mut baseline_final = None;
        if is_dict(baseline_pm) {
            let bv = get_if_dict(baseline_pm, "final");
            if is_num(bv) {
                baseline_final = Some(num_to_f64(bv)?);
            }
        }
        // 0.3.6: `isinstance(final, int | float) and isinstance(baseline_final, …)`;
        // 0.3.7: both must also be finite, and a non-finite final must be declared invalid.
        let comparable = if cx.f.invalid_primary_metric {
            is_finite_number(fin)? && baseline_final.is_some_and(f64::is_finite)
        } else {
            is_num(fin) && baseline_final.is_some()
        };
        if let (true, Some(bf)) = (comparable, baseline_final) {
            if bf <= 0.0 {
                errors.push(format!(
                    "Baseline final must be > 0.0 to compute ratio (found {}).",
                    float_repr(bf)
                ));
            } else {
                let expected = num_to_f64(fin)? / bf;
                let finite_ratio = if is_num(ratio) {
                    Some(num_to_f64(ratio)?).filter(|r| r.is_finite())
                } else {
                    None
                };
                match finite_ratio {
                    None => errors.push(missing_finite_ratio()),
                    Some(r) if !isclose(r, expected, 1e-6, 1e-6) => errors.push(format!(
                        "Primary metric ratio mismatch: recorded={}, expected={}",
                        py_fixed(r, 12),
                        py_fixed(expected, 12)
                    )),
                    Some(_) => {}
                }
            }
        } else if cx.f.invalid_primary_metric
            && is_num(fin)
            && !is_finite_number(fin)?
            && !pm_invalid
        {
            errors.push(
                "Primary metric final is non-finite but primary_metric.invalid is not set.".into(),
            );
        }
    } else if pm_invalid {
        return Ok(errors);
    } else if !is_num(ratio) {
        errors.push(format!(
            "{subject} missing primary_metric.ratio_vs_baseline for non-ppl metric."
        ));
    } else if cx.f.non_ppl_finite_ratio && !is_finite_number(ratio)? {
        errors.push(missing_finite_ratio());
    }
    Ok(errors)
}
