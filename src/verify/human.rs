//! Human-mode output (§4.5). The real tool prints through Rich's `console.print`, which parses
//! console markup (`[red]…[/red]`), replaces emoji codes (`:warning:`) and drops a few control
//! characters; messages embed certificate data, so that processing is reproduced here. Rich's
//! soft wrapping at the terminal width is cosmetic and is not reproduced.

use super::pyops::{
    get_if_dict, is_dict, is_num, num_to_f64, or, py_float, py_lower, py_str, py_strip, PyResult,
    EMPTY_DICT, EMPTY_STR, NONE,
};
use crate::pyjson::{parse_with, py_fixed, ParseOptions, Value};

/// `_warn_adapter_family_mismatch`: four warning lines when the certificate's adapter family
/// differs from the one recorded in the baseline report at `provenance.baseline.report_path`.
/// `load` reads that path (None if it does not exist or cannot be read). Best effort: any
/// failure means no warning, as in the real tool.
pub fn adapter_family_warning(
    cert: &Value,
    load: &dyn Fn(&str) -> Option<Vec<u8>>,
    wording: super::release::Wording,
) -> Option<Vec<String>> {
    let plugins = or(cert.get("plugins").unwrap_or(&NONE), &EMPTY_DICT);
    let adapter = if is_dict(plugins) {
        get_if_dict(plugins, "adapter")
    } else {
        &NONE
    };
    let (mut edited_family, mut edited_lib, mut edited_ver) = (None, &NONE, &NONE);
    if is_dict(adapter) {
        let prov = get_if_dict(adapter, "provenance");
        if is_dict(prov) {
            let fam = py_lower(&py_str(or(get_if_dict(prov, "family"), &EMPTY_STR)).ok()?);
            edited_family = Some(fam).filter(|f| !f.is_empty());
            edited_lib = get_if_dict(prov, "library");
            edited_ver = get_if_dict(prov, "version");
        }
    }
    let provenance = cert.get("provenance").unwrap_or(&NONE);
    let baseline = if is_dict(provenance) {
        get_if_dict(provenance, "baseline")
    } else {
        &NONE
    };
    let report_path = if is_dict(baseline) {
        get_if_dict(baseline, "report_path")
    } else {
        &NONE
    };
    let (mut baseline_family, mut base_lib, mut base_ver) = (None, &NONE, &NONE);
    let report;
    if let Value::Str(p) = report_path {
        if !p.is_empty() {
            let bytes = load(p)?;
            let text = crate::pyjson::decode_utf8(&bytes).ok()?;
            let text = super::loading::universal_newlines(text);
            report = parse_with(
                &text,
                ParseOptions {
                    max_depth: super::pyops::PARSE_DEPTH_LIMIT,
                    skip: &[],
                },
            )
            .ok()?;
            let meta = match &report {
                Value::Object(m) => m.get("meta").unwrap_or(&EMPTY_DICT),
                _ => &EMPTY_DICT,
            };
            let base_plugins = if is_dict(meta) {
                get_if_dict(meta, "plugins")
            } else {
                &NONE
            };
            let base_adapter = if is_dict(base_plugins) {
                get_if_dict(base_plugins, "adapter")
            } else {
                &NONE
            };
            let base_prov = if is_dict(base_adapter) {
                get_if_dict(base_adapter, "provenance")
            } else {
                &NONE
            };
            if is_dict(base_prov) {
                if let Value::Str(f) = get_if_dict(base_prov, "family") {
                    if !f.is_empty() {
                        baseline_family = Some(py_lower(f));
                    }
                }
                base_lib = get_if_dict(base_prov, "library");
                base_ver = get_if_dict(base_prov, "version");
            }
        }
    }
    let (edited_family, baseline_family) = (edited_family?, baseline_family?);
    if edited_family == baseline_family {
        return None;
    }
    let backend = |lib: &Value| -> PyResult<String> {
        if lib.truthy() {
            py_str(lib)
        } else {
            Ok("—".into())
        }
    };
    let version = |lib: &Value, ver: &Value| -> PyResult<String> {
        if lib.truthy() && ver.truthy() {
            Ok(format!("=={}", py_str(ver)?))
        } else {
            Ok("—".into())
        }
    };
    Some(vec![
        "⚠️  Adapter family differs between baseline and edited runs:".to_string(),
        format!(
            "   • baseline: family={baseline_family}, backend={} {}",
            backend(base_lib).ok()?,
            version(base_lib, base_ver).ok()?
        ),
        format!(
            "   • edited  : family={edited_family}, backend={} {}",
            backend(edited_lib).ok()?,
            version(edited_lib, edited_ver).ok()?
        ),
        format!(
            "   Ensure this cross-family comparison is intentional ({} flows should normally match families).",
            wording.flow()
        ),
    ])
}

/// The closing `VERIFY OK …` line, built from the last certificate; any failure suppresses it.
pub fn success_line(last: &Value) -> Option<String> {
    let pm = match last {
        Value::Object(m) => m.get("primary_metric").unwrap_or(&EMPTY_DICT),
        _ => &EMPTY_DICT,
    };
    if !is_dict(pm) {
        return None; // `pm.get` raises AttributeError
    }
    let kind = py_strip(&py_str(or(get_if_dict(pm, "kind"), &EMPTY_STR)).ok()?).to_string();
    let ppl = match last {
        Value::Object(m) => m.get("ppl").unwrap_or(&EMPTY_DICT),
        _ => &EMPTY_DICT,
    };
    let used = |arm: &str| -> Option<&Value> {
        if !is_dict(ppl) {
            return Some(&NONE);
        }
        let stats = super::pyops::get(ppl, "stats", &EMPTY_DICT).ok()?;
        let coverage = super::pyops::get(stats, "coverage", &EMPTY_DICT).ok()?;
        let a = super::pyops::get(coverage, arm, &EMPTY_DICT).ok()?;
        super::pyops::get(a, "used", &NONE).ok()
    };
    let (n_prev, n_fin) = (used("preview")?, used("final")?);
    let ratio = get_if_dict(pm, "ratio_vs_baseline");
    let ci = match get_if_dict(pm, "display_ci") {
        Value::Array(items) if items.len() == 2 => {
            Some((py_float(&items[0]).ok()?, py_float(&items[1]).ok()?))
        }
        _ => None,
    };
    let mut parts = vec!["VERIFY OK".to_string()];
    if !kind.is_empty() {
        parts.push(format!("metric={kind}"));
    }
    if !n_prev.is_null() && !n_fin.is_null() {
        parts.push(format!(
            "n={}/{}",
            py_str(n_prev).ok()?,
            py_str(n_fin).ok()?
        ));
    }
    if is_num(ratio) {
        parts.push(format!("point={}", py_fixed(num_to_f64(ratio).ok()?, 6)));
    }
    if let Some((lo, hi)) = ci {
        parts.push(format!("ci=[{},{}]", py_fixed(lo, 6), py_fixed(hi, 6)));
        parts.push(format!("width={}", py_fixed(hi - lo, 6)));
    }
    Some(parts.join(" "))
}
