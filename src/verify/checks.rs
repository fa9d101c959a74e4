//! The structural checks of `_validate_certificate_payload` (§4.3), in the real tool's order:
//! C0 (schema) and C1–C4, C6 here; C5 in `lints.rs`, C7/C8 in `guards.rs`, the 0.3.10
//! display-CI identity in `ci_identity.rs`, the 0.4.0 policy gate in `policy_gate.rs`. Each
//! returns the error lines it produces, or the Python exception that would escape. What a
//! release changed is read from its [`Features`] and [`Wording`].

use super::pyops::{
    coerce_int, format_f, get, get_if_dict, is_dict, is_num, isclose, num_to_f64, or, py_int,
    py_lower, py_repr, py_str, py_strip, PyResult, Raised, EMPTY_DICT, EMPTY_STR, NONE,
};
use super::release::{Features, Release, Wording};
use super::schema::{strict_schema_ok, validate_certificate};
use crate::pyjson::{py_fixed, py_repr as float_repr, Value};

/// What every check needs to know about the run: the profile and the release followed.
#[derive(Clone, Copy, Debug)]
pub struct Ctx<'a> {
    /// The trimmed, lower-cased profile.
    pub prof: &'a str,
    pub f: Features,
    pub w: Wording,
}

impl<'a> Ctx<'a> {
    pub fn new(prof: &'a str, release: Release) -> Self {
        Ctx {
            prof,
            f: release.features(),
            w: release.wording(),
        }
    }

    pub fn strict(&self) -> bool {
        self.prof == "ci" || self.prof == "release"
    }

    /// The message every schema failure produces (`Certificate schema validation failed.`).
    pub fn schema_failed(&self) -> String {
        format!("{} schema validation failed.", self.w.subject())
    }
}

/// `_validate_certificate_payload(cert, profile)`: schema first (a failure is the only error),
/// then C1…C8 and the later releases' additions.
pub fn structural_checks(cert: &Value, cx: &Ctx) -> PyResult<Vec<String>> {
    let strict = cx.strict();
    // 0.3.10+: ci/release fail closed on the full JSON Schema before the lenient validation.
    if strict && cx.f.strict_schema && !strict_schema_ok(cert, cx.f)? {
        return Ok(vec![cx.schema_failed()]);
    }
    if !validate_certificate(cert, cx.f)? {
        return Ok(vec![cx.schema_failed()]);
    }
    let mut errors = primary_metric(cert, cx)?;
    errors.extend(pairing(cert, cx)?);
    errors.extend(counts(cert, cx)?);
    if cx.f.display_ci_identity {
        errors.extend(super::ci_identity::logspace_ci_identity(cert, cx)?);
    }
    if strict {
        errors.extend(drift_band(cert, cx));
        if cx.f.policy_gate {
            errors.extend(super::policy_gate::primary_metric_policy(cert)?);
        }
    }
    errors.extend(super::lints::profile_lints(cert)?);
    errors.extend(tokenizer_hash(cert)?);
    if strict && cx.f.measurement_contracts {
        errors.extend(super::guards::measurement_contracts(cert, cx)?);
    }
    if cx.prof == "release" {
        errors.extend(super::guards::guard_overhead(cert, cx)?);
    }
    Ok(errors)
}

/// `isinstance(v, (int, float)) and math.isfinite(float(v))` (0.3.7+): `float()` of an int too
/// large for a float raises OverflowError, which escapes.
pub fn is_finite_number(v: &Value) -> PyResult<bool> {
    Ok(is_num(v) && num_to_f64(v)?.is_finite())
}

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

/// C4: `_validate_drift_band` (ci/release). Its own try/except swallows every failure.
pub fn drift_band(cert: &Value, cx: &Ctx) -> Vec<String> {
    let subject = cx.w.subject();
    let pm = match cert.get("primary_metric") {
        Some(v) => or(v, &EMPTY_DICT),
        None => &EMPTY_DICT,
    };
    let v037 = cx.f.drift_band_override;
    if v037 {
        if !is_dict(pm) || !pm.truthy() {
            return vec![format!("{subject} missing primary_metric block.")];
        }
        if get_if_dict(pm, "invalid").truthy() {
            return Vec::new(); // drift is undefined for an invalid primary metric
        }
    }
    let drift = (|| {
        if !is_dict(pm) {
            return None;
        }
        let prev = get_if_dict(pm, "preview");
        let fin = get_if_dict(pm, "final");
        if !(is_num(prev) && is_num(fin)) {
            return None;
        }
        // 0.3.7 also asks `math.isfinite(float(…))` of both (an OverflowError lands in the
        // same except).
        if v037 && !(num_to_f64(prev).ok()?.is_finite() && num_to_f64(fin).ok()?.is_finite()) {
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
    let Some(d) = drift else {
        return vec![format!(
            "{subject} missing preview/final to compute drift ratio."
        )];
    };
    let (lo, hi) = if v037 {
        drift_band_override(get_if_dict(pm, "drift_band")).unwrap_or((0.95, 1.05))
    } else {
        (0.95, 1.05)
    };
    if (lo..=hi).contains(&d) {
        Vec::new()
    } else {
        vec![format!(
            "Preview→final drift ratio out of band ({}–{}): observed {}.",
            py_fixed(lo, 2),
            py_fixed(hi, 2),
            py_fixed(d, 6)
        )]
    }
}

/// `primary_metric.drift_band` as `{min, max}` or `[min, max]`: finite numbers with
/// 0 < min < max, else the default band (any exception inside is swallowed too).
fn drift_band_override(band: &Value) -> Option<(f64, f64)> {
    let (lo, hi) = match band {
        Value::Object(_) => (get_if_dict(band, "min"), get_if_dict(band, "max")),
        Value::Array(items) if items.len() == 2 => (&items[0], &items[1]),
        _ => return None,
    };
    if !(is_num(lo) && is_num(hi)) {
        return None;
    }
    let (lo, hi) = (num_to_f64(lo).ok()?, num_to_f64(hi).ok()?);
    (lo.is_finite() && hi.is_finite() && 0.0 < lo && lo < hi).then_some((lo, hi))
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
