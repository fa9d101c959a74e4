//! The `--json` envelope (§4.6): one line of `json.dumps(payload, sort_keys=True)` with `ts`
//! and `component` added, byte-identical to the real tool's.

use super::pyops::{
    is_num, num_to_f64, py_float, py_lower, py_str, PyResult, Raised, EMPTY_DICT, EMPTY_STR, NONE,
};
use super::recompute::json_summary;
use crate::pyjson::{dumps, DumpStyle, Object, Value};

fn obj(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<Object>(),
    )
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

/// One entry of `results` for a certificate that was fully processed (shapes A and B).
/// Building it can raise (e.g. `float()` of a ratio too large for a float): the real tool
/// then reports that exception instead (shape C).
fn result_item(id: &str, cert: &Value, ok: bool, reason: &str, tol: f64) -> PyResult<Value> {
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
    let ratio_out = if is_num(ratio) {
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
    Ok(obj(vec![
        ("id", s(id)),
        ("schema_version", s("v1")),
        ("kind", Value::Str(kind)),
        ("ok", Value::Bool(ok)),
        ("reason", s(reason)),
        ("ratio_vs_baseline", ratio_out),
        ("ci", ci),
        ("recompute", recompute),
    ]))
}

/// Shapes A (all passed) and B (some failed): `Err` carries the exception that building the
/// results raised.
pub fn verdict(
    docs: &[(&str, &Value)],
    ok: bool,
    reason: &str,
    exit_code: i32,
    tol: f64,
    ts: &str,
) -> Result<String, Raised> {
    let results = docs
        .iter()
        .map(|(id, doc)| result_item(id, doc, ok, reason, tol))
        .collect::<PyResult<Vec<_>>>()?;
    let payload = obj(vec![
        ("format_version", s("verify-v1")),
        (
            "summary",
            obj(vec![("ok", Value::Bool(ok)), ("reason", s(reason))]),
        ),
        (
            "certificate",
            obj(vec![("count", Value::Int(docs.len() as i64))]),
        ),
        ("results", Value::Array(results)),
        (
            "resolution",
            obj(vec![("exit_code", Value::Int(exit_code as i64))]),
        ),
    ]);
    let Value::Object(m) = payload else {
        unreachable!("obj builds objects")
    };
    Ok(emit(m, ts))
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
    let payload = obj(vec![
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
    let Value::Object(m) = payload else {
        unreachable!("obj builds objects")
    };
    emit(m, ts)
}
