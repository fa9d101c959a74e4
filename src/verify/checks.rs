//! The structural checks of `_validate_certificate_payload` (§4.3), in the real tool's order:
//! C0 (schema) and C1–C4, C6 here; C5 in `lints.rs`, C7/C8 in `guards.rs`. Each returns the
//! error lines it produces, or the Python exception that would escape.

use super::pyops::{
    coerce_int, format_f, get, get_if_dict, is_dict, is_num, isclose, num_to_f64, or, py_int,
    py_lower, py_repr, py_str, PyResult, Raised, EMPTY_DICT, EMPTY_STR, NONE,
};
use super::schema::validate_certificate;
use crate::pyjson::{py_fixed, py_repr as float_repr, Value};

/// `_validate_certificate_payload(cert, profile)`: schema first (a failure is the only error),
/// then C1…C8. `prof` is the trimmed, lower-cased profile.
pub fn structural_checks(cert: &Value, prof: &str) -> PyResult<Vec<String>> {
    if !validate_certificate(cert)? {
        return Ok(vec!["Certificate schema validation failed.".into()]);
    }
    let strict = prof == "ci" || prof == "release";
    let mut errors = primary_metric(cert)?;
    errors.extend(pairing(cert)?);
    errors.extend(counts(cert)?);
    if strict {
        errors.extend(drift_band(cert));
    }
    errors.extend(super::lints::profile_lints(cert)?);
    errors.extend(tokenizer_hash(cert)?);
    if strict {
        errors.extend(super::guards::measurement_contracts(cert, prof)?);
    }
    if prof == "release" {
        errors.extend(super::guards::guard_overhead(cert)?);
    }
    Ok(errors)
}

/// C1: `_validate_primary_metric`.
pub fn primary_metric(cert: &Value) -> PyResult<Vec<String>> {
    let mut errors = Vec::new();
    let pm = or(get(cert, "primary_metric", &EMPTY_DICT)?, &EMPTY_DICT);
    if !is_dict(pm) || !pm.truthy() {
        errors.push("Certificate missing primary_metric block.".into());
        return Ok(errors);
    }
    // `str(pm.get("kind", ""))`: a missing kind reads as "", a null one as "None".
    let kind = py_lower(&py_str(pm.get("kind").unwrap_or(&EMPTY_STR))?);
    let ratio = get_if_dict(pm, "ratio_vs_baseline");
    let fin = get_if_dict(pm, "final");
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
        if let (true, Some(bf)) = (is_num(fin), baseline_final) {
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
                    None => errors.push(
                        "Certificate is missing a finite primary_metric.ratio_vs_baseline value."
                            .into(),
                    ),
                    Some(r) if !isclose(r, expected, 1e-6, 1e-6) => errors.push(format!(
                        "Primary metric ratio mismatch: recorded={}, expected={}",
                        py_fixed(r, 12),
                        py_fixed(expected, 12)
                    )),
                    Some(_) => {}
                }
            }
        }
    } else if !is_num(ratio) {
        errors.push(
            "Certificate missing primary_metric.ratio_vs_baseline for non-ppl metric.".into(),
        );
    }
    Ok(errors)
}

/// `stats = cert.get("dataset", {}).get("windows", {}).get("stats", {})`.
fn window_stats(cert: &Value) -> PyResult<&Value> {
    let dataset = get(cert, "dataset", &EMPTY_DICT)?;
    let windows = get(dataset, "windows", &EMPTY_DICT)?;
    get(windows, "stats", &EMPTY_DICT)
}

/// Python `x < y` / `x > y` with a float literal on the right.
fn compare(x: &Value, y: f64, op: &str) -> PyResult<bool> {
    let less = op == "<";
    match x {
        Value::BigInt(s) => Ok(s.starts_with('-') == less),
        v if is_num(v) => {
            let f = num_to_f64(v)?;
            Ok(if less { f < y } else { f > y })
        }
        other => Err(Raised::python(
            "TypeError",
            format!(
                "'{op}' not supported between instances of '{}' and 'float'",
                other.py_type_name()
            ),
        )),
    }
}

/// C2: `_validate_pairing`.
pub fn pairing(cert: &Value) -> PyResult<Vec<String>> {
    let mut errors = Vec::new();
    let stats = window_stats(cert)?;
    let match_fraction = get(stats, "window_match_fraction", &NONE)?;
    let overlap_fraction = get(stats, "window_overlap_fraction", &NONE)?;
    let pairing_reason = get(stats, "window_pairing_reason", &NONE)?;
    let paired_windows = coerce_int(get(stats, "paired_windows", &NONE)?)?;

    if !pairing_reason.is_null() {
        errors.push(format!(
            "window_pairing_reason must be null/None for paired certificates (found {}).",
            py_repr(pairing_reason)?
        ));
    }
    match paired_windows {
        None => errors.push("Certificate missing paired_windows metric.".into()),
        Some(p) if p.is_zero() => {
            errors.push("paired_windows must be > 0 for paired certificates (found 0).".into())
        }
        Some(_) => {}
    }
    if match_fraction.is_null() {
        errors.push("Certificate missing window_match_fraction metric.".into());
    } else if compare(match_fraction, 0.999999, "<")? {
        errors.push(format!(
            "window_match_fraction must be 1.0 for paired runs (found {}).",
            format_f(match_fraction, 6)?
        ));
    }
    if overlap_fraction.is_null() {
        errors.push("Certificate missing window_overlap_fraction metric.".into());
    } else if compare(overlap_fraction, 1e-9, ">")? {
        errors.push(format!(
            "window_overlap_fraction must be 0.0 (found {}).",
            format_f(overlap_fraction, 6)?
        ));
    }
    Ok(errors)
}

/// C3: `_validate_counts`.
pub fn counts(cert: &Value) -> PyResult<Vec<String>> {
    let mut errors = Vec::new();
    let dataset = get(cert, "dataset", &EMPTY_DICT)?;
    let windows = get(dataset, "windows", &EMPTY_DICT)?;
    let expected_preview = get(windows, "preview", &NONE)?;
    let expected_final = get(windows, "final", &NONE)?;
    let stats = get(windows, "stats", &EMPTY_DICT)?;
    let coverage = get(stats, "coverage", &EMPTY_DICT)?;
    let used = |arm: &str| -> PyResult<&Value> {
        if coverage.truthy() {
            get(get(coverage, arm, &EMPTY_DICT)?, "used", &NONE)
        } else {
            Ok(&NONE)
        }
    };
    let preview_used = used("preview")?;
    let final_used = used("final")?;
    let paired_windows = get(stats, "paired_windows", &NONE)?;

    for (label, arm, expected, observed) in [
        ("Preview", "preview", expected_preview, preview_used),
        ("Final", "final", expected_final, final_used),
    ] {
        if expected.is_null() {
            continue;
        }
        if observed.is_null() {
            errors.push(format!(
                "Certificate missing coverage.{arm}.used for {arm} windows."
            ));
        } else if py_int(observed)? != py_int(expected)? {
            errors.push(format!(
                "{label} window count mismatch: expected {}, observed {}.",
                py_str(expected)?,
                py_str(observed)?
            ));
        }
    }
    if !paired_windows.is_null()
        && !expected_preview.is_null()
        && py_int(paired_windows)? != py_int(expected_preview)?
    {
        errors.push(format!(
            "Paired window count mismatch: expected {}, observed {}.",
            py_str(expected_preview)?,
            py_str(paired_windows)?
        ));
    }
    Ok(errors)
}

/// C4: `_validate_drift_band` (ci/release). Its own try/except swallows every failure.
pub fn drift_band(cert: &Value) -> Vec<String> {
    let pm = match cert.get("primary_metric") {
        Some(v) => or(v, &EMPTY_DICT),
        None => &EMPTY_DICT,
    };
    let drift = (|| {
        if !is_dict(pm) {
            return None;
        }
        let prev = get_if_dict(pm, "preview");
        let fin = get_if_dict(pm, "final");
        if !(is_num(prev) && is_num(fin)) {
            return None;
        }
        let positive = match prev {
            Value::BigInt(s) => !s.starts_with('-'),
            v => num_to_f64(v).ok()? > 0.0,
        };
        if !positive {
            return None;
        }
        Some(num_to_f64(fin).ok()? / num_to_f64(prev).ok()?)
    })();
    match drift {
        None => vec!["Certificate missing preview/final to compute drift ratio.".into()],
        Some(d) if !(0.95..=1.05).contains(&d) => vec![format!(
            "Preview→final drift ratio out of band (0.95–1.05): observed {}.",
            py_fixed(d, 6)
        )],
        Some(_) => Vec::new(),
    }
}

/// C6: `_validate_tokenizer_hash`.
pub fn tokenizer_hash(cert: &Value) -> PyResult<Vec<String>> {
    let meta = or(get(cert, "meta", &EMPTY_DICT)?, &EMPTY_DICT);
    let dataset = or(get(cert, "dataset", &EMPTY_DICT)?, &EMPTY_DICT);
    // Wrapped in try/except in the real tool: any failure means "no edited hash".
    let edited = (|| {
        let h = get(meta, "tokenizer_hash", &NONE).ok()?;
        if h.truthy() {
            return Some(h);
        }
        let tok = get(dataset, "tokenizer", &NONE).ok()?;
        if is_dict(tok) {
            Some(get_if_dict(or(tok, &EMPTY_DICT), "hash"))
        } else {
            None
        }
    })();
    let baseline_ref = or(get(cert, "baseline_ref", &EMPTY_DICT)?, &EMPTY_DICT);
    let baseline = get(baseline_ref, "tokenizer_hash", &NONE)?;
    if let (Some(Value::Str(e)), Value::Str(b)) = (edited, baseline) {
        if !e.is_empty() && !b.is_empty() && e != b {
            return Ok(vec![
                "Tokenizer hash mismatch between baseline and edited runs.".into(),
            ]);
        }
    }
    Ok(Vec::new())
}
