//! The `--json` envelope (§4.6): one line of `json.dumps(payload, sort_keys=True)` with `ts`
//! and `component` added, byte-identical to the real tool's.

use super::pyops::{
    is_num, num_to_f64, py_float, py_lower, py_str, PyResult, Raised, EMPTY_DICT, EMPTY_STR, NONE,
};
use super::recompute::json_summary;
use crate::pyjson::{dumps, DumpStyle, Object, Value};

fn map(pairs: Vec<(&str, Value)>) -> Object {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn obj(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(map(pairs))
}

fn s(x: &str) -> Value {
    Value::Str(x.to_string())
}

/// `datetime.now(UTC).isoformat()`; Python omits the fraction when microseconds are 0.
pub fn python_utc_now() -> String {
    let now = chrono::Utc::now();
    if now.timestamp_subsec_micros() == 0 {
        now.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
    } else {
        now.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
    }
}

fn emit(mut payload: Object, ts: &str) -> String {
    payload.insert("ts".into(), s(ts));
    payload.insert("component".into(), s("cli"));
    dumps(&Value::Object(payload), DumpStyle::J1)
}

/// The certificate-derived part of one `results` entry (shapes A and B), computed while the
/// certificate is at hand so the batch never holds more than one parsed document. `ok` and
/// `reason` are only known at the end.
#[derive(Clone, Debug)]
pub struct ResultParts {
    kind: String,
    ratio: Value,
    ci: Value,
    recompute: Value,
}

/// Builds a [`ResultParts`]. It can raise (e.g. `float()` of a ratio too large for a float):
/// the real tool then reports that exception instead (shape C).
pub fn result_parts(cert: &Value, tol: f64) -> PyResult<ResultParts> {
    let pm = match cert {
        Value::Object(m) => m.get("primary_metric").unwrap_or(&EMPTY_DICT),
        _ => &EMPTY_DICT,
    };
    let is_pm_dict = matches!(pm, Value::Object(_));
    let kind_v = if is_pm_dict {
        pm.get("kind").unwrap_or(&NONE)
    } else {
        &EMPTY_STR
    };
    let kind = py_lower(&py_str(if kind_v.truthy() { kind_v } else { &EMPTY_STR })?);
    let ratio = if is_pm_dict {
        pm.get("ratio_vs_baseline").unwrap_or(&NONE)
    } else {
        &NONE
    };
    let ci = match pm.get("display_ci") {
        Some(Value::Array(items)) if items.len() == 2 => {
            match (py_float(&items[0]), py_float(&items[1])) {
                (Ok(lo), Ok(hi)) => Value::Array(vec![Value::Float(lo), Value::Float(hi)]),
                _ => Value::Null,
            }
        }
        _ => Value::Null,
    };
    let ratio = if is_num(ratio) {
        let r = num_to_f64(ratio)?;
        if r.is_finite() {
            Value::Float(r)
        } else {
            Value::Null
        }
    } else {
        Value::Null
    };
    let recompute = json_summary(cert, &kind, tol);
    Ok(ResultParts {
        kind,
        ratio,
        ci,
        recompute,
    })
}

/// Shapes A (all passed) and B (some failed), from each certificate's id and parts.
pub fn verdict(
    results: Vec<(&str, ResultParts)>,
    ok: bool,
    reason: &str,
    exit_code: i32,
    ts: &str,
    count_key: &str,
) -> String {
    let results = results
        .into_iter()
        .map(|(id, p)| {
            obj(vec![
                ("id", s(id)),
                ("schema_version", s("v1")),
                ("kind", Value::Str(p.kind)),
                ("ok", Value::Bool(ok)),
                ("reason", s(reason)),
                ("ratio_vs_baseline", p.ratio),
                ("ci", p.ci),
                ("recompute", p.recompute),
            ])
        })
        .collect::<Vec<Value>>();
    let count = results.len() as i64;
    let payload = map(vec![
        ("format_version", s("verify-v1")),
        (
            "summary",
            obj(vec![("ok", Value::Bool(ok)), ("reason", s(reason))]),
        ),
        (count_key, obj(vec![("count", Value::Int(count))])),
        ("results", Value::Array(results)),
        (
            "resolution",
            obj(vec![("exit_code", Value::Int(exit_code as i64))]),
        ),
    ]);
    emit(payload, ts)
}

/// Shape C: a raised error ended the run. `first_id` is the first argument's id, whichever
/// certificate raised.
pub fn raised(first_id: &str, err: &Raised, exit_code: i32, ts: &str) -> String {
    let reason = match err {
        Raised::Invarlock { category, .. } if *category == "ValidationError" => "malformed",
        Raised::Python { class, .. } if class == "JSONDecodeError" => "malformed",
        _ => "policy_fail",
    };
    let error = match err {
        Raised::Invarlock {
            category,
            code,
            context,
            ..
        } => obj(vec![
            ("code", s(code)),
            ("category", s(category)),
            ("recoverable", Value::Bool(false)),
            (
                "context",
                Value::Object(context.iter().map(|(k, v)| (k.to_string(), s(v))).collect()),
            ),
        ]),
        Raised::Python { class, .. } => obj(vec![
            ("code", s("E_GENERIC")),
            ("category", s(class)),
            ("recoverable", Value::Bool(false)),
            ("context", obj(vec![])),
        ]),
    };
    let payload = map(vec![
        ("format_version", s("verify-v1")),
        (
            "summary",
            obj(vec![("ok", Value::Bool(false)), ("reason", s(reason))]),
        ),
        (
            "results",
            Value::Array(vec![obj(vec![
                ("id", s(first_id)),
                ("schema_version", s("v1")),
                ("kind", s("")),
                ("ok", Value::Bool(false)),
                ("reason", s(reason)),
                ("ratio_vs_baseline", Value::Null),
                ("ci", Value::Null),
            ])]),
        ),
        (
            "resolution",
            obj(vec![("exit_code", Value::Int(exit_code as i64))]),
        ),
        ("error", error),
    ]);
    emit(payload, ts)
}
