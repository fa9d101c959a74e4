//! R1/R2 (§4.3): the accuracy and log-loss recomputations of the verify loop, and the
//! best-effort `recompute` summary of the `--json` results (§4.6), which differs in small ways
//! (kind not stripped, display value always used) that must be kept.

use super::pyops::{
    format_f, fsum_neumaier, get, get_if_dict, is_dict, is_num, num_to_f64, or, py_float, py_lower,
    py_max, py_str, py_strip, PyResult, Raised, EMPTY_DICT, EMPTY_STR, NONE,
};
use crate::pyjson::{py_fixed, Object, Value};

const ACCURACY_KINDS: [&str; 2] = ["accuracy", "vqa_accuracy"];

/// `metrics.classification.{n_correct, n_total}` when both are numbers and n_total > 0.
fn classification_counts(cert: &Value) -> Option<(&Value, &Value)> {
    let metrics = cert.get("metrics").unwrap_or(&NONE);
    let cls = if is_dict(metrics) {
        get_if_dict(metrics, "classification")
    } else {
        &NONE
    };
    if !is_dict(cls) {
        return None;
    }
    let (nc, nt) = (get_if_dict(cls, "n_correct"), get_if_dict(cls, "n_total"));
    let positive = match nt {
        Value::BigInt(s) => !s.starts_with('-'),
        v if is_num(v) => num_to_f64(v).is_ok_and(|f| f > 0.0),
        _ => false,
    };
    (is_num(nc) && is_num(nt) && positive).then_some((nc, nt))
}

/// `evaluation_windows.final.{logloss, token_counts}` when both are non-empty lists of equal
/// length.
fn window_arrays(fin: &Value) -> Option<(&Vec<Value>, &Vec<Value>)> {
    match (
        get_if_dict(fin, "logloss"),
        get_if_dict(fin, "token_counts"),
    ) {
        (Value::Array(ll), Value::Array(wc)) if !ll.is_empty() && ll.len() == wc.len() => {
            Some((ll, wc))
        }
        _ => None,
    }
}

/// `(Σ float(ll_i)·float(wc_i), Σ float(wc_i))` with Python's compensated `sum`; None if any
/// element fails `float()` (the real tool's try/except then skips the check).
fn weighted_sums(ll: &[Value], wc: &[Value]) -> Option<(f64, f64)> {
    let mut products = Vec::with_capacity(ll.len());
    for (a, b) in ll.iter().zip(wc) {
        products.push(py_float(a).ok()? * py_float(b).ok()?);
    }
    let weights: Option<Vec<f64>> = wc.iter().map(|b| py_float(b).ok()).collect();
    Some((fsum_neumaier(products), fsum_neumaier(weights?)))
}

/// `math.exp`, which raises OverflowError (→ None) where libm overflows.
fn py_exp(x: f64) -> Option<f64> {
    let e = x.exp();
    (e.is_finite() || !x.is_finite()).then_some(e)
}

/// The verify loop's recompute step for one certificate: appends mismatch errors, returns a dev
/// warning line to print (human mode only), or raises E004 under ci/release.
pub fn recompute(
    cert: &Value,
    strict: bool,
    json: bool,
    tol: f64,
    errors: &mut Vec<String>,
) -> PyResult<Option<&'static str>> {
    let pm = get(cert, "primary_metric", &EMPTY_DICT)?;
    let kind = if is_dict(pm) {
        py_lower(py_strip(&py_str(or(get_if_dict(pm, "kind"), &EMPTY_STR))?))
    } else {
        String::new()
    };
    let win = get(cert, "evaluation_windows", &EMPTY_DICT)?;
    let fin = if is_dict(win) {
        get_if_dict(win, "final")
    } else {
        &NONE
    };

    if ACCURACY_KINDS.contains(&kind.as_str()) {
        if let Some((nc, nt)) = classification_counts(cert) {
            let acc = num_to_f64(nc)? / num_to_f64(nt)?;
            let disp = get_if_dict(pm, "final");
            if is_num(disp) {
                let d = num_to_f64(disp)?;
                if (d - acc).abs() > py_max(1e-12, tol) {
                    errors.push(format!(
                        "Accuracy mismatch: final={} recomputed={}",
                        py_fixed(d, 12),
                        py_fixed(acc, 12)
                    ));
                }
            }
        } else if strict {
            return Err(Raised::invarlock(
                "E004",
                "PROVIDER-DIGEST-MISSING: missing classification aggregates for recompute in CI/Release",
            ));
        } else if !json {
            return Ok(Some(
                "⚠️  Cannot recompute accuracy: missing aggregates (dev mode).",
            ));
        }
        return Ok(None);
    }

    if !(is_dict(pm) && is_dict(fin)) {
        return Ok(None);
    }
    let Some((ll, wc)) = window_arrays(fin) else {
        if strict {
            return Err(Raised::invarlock(
                "E004",
                "PROVIDER-DIGEST-MISSING: evaluation_windows.final missing for recompute in CI/Release",
            ));
        }
        return Ok((!json).then_some(
            "⚠️  Cannot recompute basis: evaluation_windows.final missing or incomplete (dev mode).",
        ));
    };
    // Everything below sits in the real tool's `try: … except Exception: pass`.
    if let Some(msg) = basis_or_display_mismatch(pm, ll, wc, tol) {
        errors.push(msg);
    }
    Ok(None)
}

fn basis_or_display_mismatch(pm: &Value, ll: &[Value], wc: &[Value], tol: f64) -> Option<String> {
    let (num, den) = weighted_sums(ll, wc)?;
    if den.is_nan() || den <= 0.0 {
        return None;
    }
    let mean = num / den;
    let ap = get_if_dict(pm, "analysis_point_final");
    if is_num(ap) {
        let a = num_to_f64(ap).ok()?;
        if (a - mean).abs() > tol {
            return Some(format!(
                "Basis mismatch: analysis_point_final={} recomputed={}",
                format_f(ap, 12).ok()?,
                py_fixed(mean, 12)
            ));
        }
        return None;
    }
    let disp = get_if_dict(pm, "final");
    if is_num(disp) {
        let e = py_exp(mean)?;
        let d = num_to_f64(disp).ok()?;
        if (e - d).abs() > py_max(1e-12, tol) {
            return Some(format!(
                "Display mismatch: final={} exp(basis)={}",
                py_fixed(d, 12),
                py_fixed(e, 12)
            ));
        }
    }
    None
}

fn summary(family: &str, ok: bool, reason: Option<&str>) -> Value {
    let mut m = Object::new();
    m.insert("family".into(), Value::Str(family.into()));
    m.insert("ok".into(), Value::Bool(ok));
    m.insert(
        "reason".into(),
        reason.map_or(Value::Null, |r| Value::Str(r.into())),
    );
    Value::Object(m)
}

fn ok_or_mismatch(family: &str, ok: bool) -> Value {
    summary(family, ok, (!ok).then_some("mismatch"))
}

/// The `recompute` field of one `--json` result. `kind` is the result's (unstripped) kind.
/// Every failure inside maps to `null` or `skipped`, as in the real tool's try/except blocks.
pub fn json_summary(cert: &Value, kind: &str, tol: f64) -> Value {
    let pm = match cert {
        Value::Object(m) => m.get("primary_metric").unwrap_or(&EMPTY_DICT),
        _ => &EMPTY_DICT,
    };
    let display = if is_dict(pm) {
        get_if_dict(pm, "final")
    } else {
        &NONE
    };
    let close = |x: f64| -> Option<bool> {
        Some(is_num(display) && (num_to_f64(display).ok()? - x).abs() <= py_max(1e-12, tol))
    };
    if ACCURACY_KINDS.contains(&kind) {
        return match classification_counts(cert) {
            Some((nc, nt)) => (|| {
                let acc = num_to_f64(nc).ok()? / num_to_f64(nt).ok()?;
                Some(ok_or_mismatch("accuracy", close(acc)?))
            })()
            .unwrap_or(Value::Null),
            None => summary("accuracy", true, Some("skipped")),
        };
    }
    if !kind.starts_with("ppl") {
        return Value::Null;
    }
    let ev = match cert {
        Value::Object(m) => m.get("evaluation_windows").unwrap_or(&EMPTY_DICT),
        _ => &EMPTY_DICT,
    };
    let finw = if is_dict(ev) {
        get_if_dict(ev, "final")
    } else {
        &NONE
    };
    if !is_dict(finw) {
        return Value::Null;
    }
    let skipped = || summary("ppl", true, Some("skipped"));
    let Some((ll, wc)) = window_arrays(finw) else {
        return skipped();
    };
    let verdict = (|| {
        let (num, den) = weighted_sums(ll, wc)?;
        if den > 0.0 {
            close(py_exp(num / den)?)
        } else {
            Some(true)
        }
    })();
    match verdict {
        Some(ok) => ok_or_mismatch("ppl", ok),
        None => skipped(),
    }
}
