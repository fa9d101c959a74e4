//! C4: the drift band (ci/release).

use crate::pyjson::{py_fixed, Value};
use crate::verify::pyops::{get_if_dict, is_dict, is_num, num_to_f64, or, EMPTY_DICT};

use super::Ctx;

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
