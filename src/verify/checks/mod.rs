//! The structural checks of `_validate_certificate_payload` (§4.3), in the real tool's order:
//! C0 (schema) and C1–C4, C6 here; C5 in `lints.rs`, C7/C8 in `guards.rs`, the 0.3.10
//! display-CI identity in `ci_identity.rs`, the 0.4.0 policy gate in `policy_gate.rs`. Each
//! returns the error lines it produces, or the Python exception that would escape. What a
//! release changed is read from its [`Features`] and [`Wording`].

mod drift_band;
mod primary_metric;
mod windows;

pub use drift_band::drift_band;
pub use primary_metric::primary_metric;
pub use windows::{counts, pairing};

use super::pyops::{get, get_if_dict, is_dict, is_num, num_to_f64, or, PyResult, EMPTY_DICT, NONE};
use super::release::{Features, Release, Wording};
use super::schema::{strict_schema_ok, validate_certificate};
use crate::pyjson::Value;

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
