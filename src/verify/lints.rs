//! C5: the model-profile lints a certificate embeds (`meta.model_profile.cert_lints`).

use super::pyops::{
    get, get_if_dict, is_dict, py_eq, py_float, py_lower, py_repr, py_str, PyResult, Raised,
    EMPTY_DICT, EMPTY_STR, NONE,
};
use crate::pyjson::{py_repr as float_repr, Value};

/// `_resolve_path`: dotted lookup through dicts only.
fn resolve_path<'a>(payload: &'a Value, path: &str) -> &'a Value {
    let mut current = payload;
    for segment in path.split('.') {
        match current {
            Value::Object(m) => current = m.get(segment).unwrap_or(&NONE),
            _ => return &NONE,
        }
    }
    current
}

/// `float(a), float(b)` inside `except (TypeError, ValueError)`; OverflowError escapes.
fn float_pair(a: &Value, b: &Value) -> PyResult<Option<(f64, f64)>> {
    let conv = |v: &Value| match py_float(v) {
        Ok(f) => Ok(Some(f)),
        Err(Raised::Python { class, .. }) if class == "TypeError" || class == "ValueError" => {
            Ok(None)
        }
        Err(e) => Err(e),
    };
    let Some(x) = conv(a)? else { return Ok(None) };
    let Some(y) = conv(b)? else { return Ok(None) };
    Ok(Some((x, y)))
}

/// C5: `_apply_profile_lints`.
pub fn profile_lints(cert: &Value) -> PyResult<Vec<String>> {
    let mut errors = Vec::new();
    let meta = get(cert, "meta", &EMPTY_DICT)?;
    let profile = if is_dict(meta) {
        get_if_dict(meta, "model_profile")
    } else {
        &NONE
    };
    if !is_dict(profile) {
        return Ok(errors);
    }
    let lints = match profile.get("cert_lints") {
        Some(Value::Array(items)) => items,
        _ => return Ok(errors),
    };
    for lint in lints {
        if !is_dict(lint) {
            continue;
        }
        let lint_type = py_lower(&py_str(lint.get("type").unwrap_or(&EMPTY_STR))?);
        let path = get_if_dict(lint, "path");
        let expected = get_if_dict(lint, "value");
        let message_v = get_if_dict(lint, "message");
        let actual = match path {
            Value::Str(p) => resolve_path(cert, p),
            _ => &NONE,
        };
        let message = || -> PyResult<String> {
            if message_v.truthy() {
                py_str(message_v)
            } else {
                Ok("Model profile lint failed.".into())
            }
        };
        match lint_type.as_str() {
            "equals" if !py_eq(actual, expected) => {
                errors.push(format!(
                    "{} Expected {} == {}, observed {}.",
                    message()?,
                    py_str(path)?,
                    py_repr(expected)?,
                    py_repr(actual)?
                ));
            }
            "gte" | "lte" => match float_pair(actual, expected)? {
                None => errors.push(format!(
                    "{} Expected numeric comparison for {}, observed {}.",
                    message()?,
                    py_str(path)?,
                    py_repr(actual)?
                )),
                Some((a, e)) => {
                    let (fails, sym) = if lint_type == "gte" {
                        (a < e, "≥")
                    } else {
                        (a > e, "≤")
                    };
                    if fails {
                        errors.push(format!(
                            "{} Expected {} {sym} {}, observed {}.",
                            message()?,
                            py_str(path)?,
                            float_repr(e),
                            float_repr(a)
                        ));
                    }
                }
            },
            _ => {}
        }
    }
    Ok(errors)
}
