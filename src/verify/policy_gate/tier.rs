//! The tier a report runs under and its tiny-relax setting, with the tier defaults the 0.4.0
//! wheel resolves when the report carries no `resolved_policy`.

use super::coerce::dict_or_empty;
use crate::pyjson::{parse_with, ParseOptions, Value};
use crate::verify::pyops::{get_if_dict, py_lower, py_str, py_strip, PyResult, NONE};
use std::sync::LazyLock;

/// `get_tier_policies()` of the 0.4.0 wheel, reduced to what the gate reads.
pub(super) static TIER_DEFAULTS: LazyLock<Value> = LazyLock::new(|| {
    parse_with(
        r#"{
 "conservative": {"metrics": {"pm_ratio": {"min_tokens": 20000, "hysteresis_ratio": 0.002, "min_token_fraction": 0.01, "ratio_limit_base": 1.05},
                              "accuracy": {"delta_min_pp": -0.5, "min_examples": 200, "hysteresis_delta_pp": 0.1, "min_examples_fraction": 0.01}},
                  "spectral": {"max_caps": 3}},
 "balanced": {"metrics": {"pm_ratio": {"min_tokens": 50000, "hysteresis_ratio": 0.002, "min_token_fraction": 0.01, "ratio_limit_base": 1.1},
                          "accuracy": {"delta_min_pp": -1.0, "min_examples": 200, "hysteresis_delta_pp": 0.1, "min_examples_fraction": 0.01}},
              "spectral": {"max_caps": 5}},
 "aggressive": {"metrics": {"pm_ratio": {"min_tokens": 50000, "hysteresis_ratio": 0.002, "min_token_fraction": 0.01, "ratio_limit_base": 1.2},
                            "accuracy": {"delta_min_pp": -2.0, "min_examples": 200, "hysteresis_delta_pp": 0.1, "min_examples_fraction": 0.01}},
                "spectral": {"max_caps": 8}}
}"#,
        ParseOptions {
            max_depth: 16,
            skip: &[],
        },
    )
    .expect("built-in tier policies parse")
});

/// `str(x or "balanced").strip().lower() or "balanced"` for `auto.tier`.
pub(super) fn tier_of(report: &Value) -> PyResult<String> {
    let auto = dict_or_empty(report, "auto");
    let raw = get_if_dict(auto, "tier");
    let text = if raw.truthy() {
        py_str(raw)?
    } else {
        "balanced".into()
    };
    let t = py_lower(py_strip(&text));
    Ok(if t.is_empty() { "balanced".into() } else { t })
}

/// `_coerce_bool_like` of `resolve_tiny_relax_from_report`.
fn bool_like(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Int(0) => Some(false),
        Value::Int(1) => Some(true),
        Value::Str(s) => match py_lower(py_strip(s)).as_str() {
            "1" | "true" | "yes" | "on" => Some(true),
            "0" | "false" | "no" | "off" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// `resolve_tiny_relax_from_report`: context.run, context.eval, auto, meta.auto.
pub(super) fn tiny_relax(report: &Value) -> bool {
    let ctx = report.get("context").unwrap_or(&NONE);
    let candidates = [
        ctx.get("run").map(|r| get_if_dict(r, "tiny_relax")),
        ctx.get("eval").map(|r| get_if_dict(r, "tiny_relax")),
        report.get("auto").map(|a| get_if_dict(a, "tiny_relax")),
        report
            .get("meta")
            .and_then(|m| m.get("auto"))
            .map(|a| get_if_dict(a, "tiny_relax")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find_map(bool_like)
        .unwrap_or(false)
}
