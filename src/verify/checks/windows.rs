//! C2 and C3: the pairing of the evaluation windows and their counts.

use crate::pyjson::Value;
use crate::verify::pyops::{
    coerce_int, format_f, get, is_num, num_to_f64, py_int, py_repr, py_str, PyResult, Raised,
    EMPTY_DICT, NONE,
};

use super::Ctx;

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
pub fn pairing(cert: &Value, cx: &Ctx) -> PyResult<Vec<String>> {
    let (subject, plural) = (cx.w.subject(), cx.w.plural());
    let mut errors = Vec::new();
    let stats = window_stats(cert)?;
    let match_fraction = get(stats, "window_match_fraction", &NONE)?;
    let overlap_fraction = get(stats, "window_overlap_fraction", &NONE)?;
    let pairing_reason = get(stats, "window_pairing_reason", &NONE)?;
    let paired_windows = coerce_int(get(stats, "paired_windows", &NONE)?)?;

    if !pairing_reason.is_null() {
        errors.push(format!(
            "window_pairing_reason must be null/None for paired {plural} (found {}).",
            py_repr(pairing_reason)?
        ));
    }
    match paired_windows {
        None => errors.push(format!("{subject} missing paired_windows metric.")),
        Some(p) if p.is_zero() => errors.push(format!(
            "paired_windows must be > 0 for paired {plural} (found 0)."
        )),
        Some(_) => {}
    }
    if match_fraction.is_null() {
        errors.push(format!("{subject} missing window_match_fraction metric."));
    } else if compare(match_fraction, 0.999999, "<")? {
        errors.push(format!(
            "window_match_fraction must be 1.0 for paired runs (found {}).",
            format_f(match_fraction, 6)?
        ));
    }
    if overlap_fraction.is_null() {
        errors.push(format!("{subject} missing window_overlap_fraction metric."));
    } else if compare(overlap_fraction, 1e-9, ">")? {
        errors.push(format!(
            "window_overlap_fraction must be 0.0 (found {}).",
            format_f(overlap_fraction, 6)?
        ));
    }
    Ok(errors)
}

/// C3: `_validate_counts`.
pub fn counts(cert: &Value, cx: &Ctx) -> PyResult<Vec<String>> {
    let subject = cx.w.subject();
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
                "{subject} missing coverage.{arm}.used for {arm} windows."
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
