//! The Python 3.12 semantics that `invarlock verify` leans on without saying so: truthiness,
//! `dict.get` on non-dicts, `float()`/`int()` coercion, `str()`/`repr()` of parsed JSON,
//! compensated `sum`, `math.isclose`, and the exceptions (with their exact text) that escape when
//! a certificate has an unexpected shape. Every check in this module tree is written against
//! these helpers so the verdicts stay byte-identical to the real tool's.

use crate::pyjson::Value;
use std::sync::LazyLock;

/// A Python exception that aborts the verify run (§4.6 shape C).
#[derive(Clone, Debug, PartialEq)]
pub enum Raised {
    /// `InvarlockError` or one of its subclasses (`ValidationError`, `MetricsError`).
    Invarlock {
        category: &'static str,
        code: &'static str,
        message: &'static str,
        /// The error's `details`, emitted as the envelope's `error.context`.
        context: Vec<(&'static str, String)>,
    },
    /// Any other exception: its class name and `str(exc)`.
    Python { class: String, message: String },
}

impl Raised {
    pub fn python(class: &str, message: impl Into<String>) -> Self {
        Raised::Python {
            class: class.to_string(),
            message: message.into(),
        }
    }

    pub fn invarlock(code: &'static str, message: &'static str) -> Self {
        Raised::Invarlock {
            category: "InvarlockError",
            code,
            message,
            context: Vec::new(),
        }
    }

    /// `str(exc)`, as the human mode prints it.
    pub fn text(&self) -> String {
        match self {
            Raised::Invarlock { code, message, .. } => format!("[INVARLOCK:{code}] {message}"),
            Raised::Python { message, .. } => message.clone(),
        }
    }

    /// `AttributeError` from calling `.attr` on a value that lacks it.
    pub fn no_attr(v: &Value, attr: &str) -> Self {
        Raised::python(
            "AttributeError",
            format!("'{}' object has no attribute '{attr}'", v.py_type_name()),
        )
    }
}

pub type PyResult<T> = Result<T, Raised>;

pub static NONE: Value = Value::Null;
pub static EMPTY_DICT: LazyLock<Value> = LazyLock::new(|| Value::Object(Default::default()));
pub static EMPTY_STR: LazyLock<Value> = LazyLock::new(|| Value::Str(String::new()));

/// `obj.get(key, default)`; a non-dict `obj` raises AttributeError.
pub fn get<'a>(obj: &'a Value, key: &str, default: &'a Value) -> PyResult<&'a Value> {
    match obj {
        Value::Object(m) => Ok(m.get(key).unwrap_or(default)),
        other => Err(Raised::no_attr(other, "get")),
    }
}

/// `obj.get(key)` where the code checked `isinstance(obj, dict)` first.
pub fn get_if_dict<'a>(obj: &'a Value, key: &str) -> &'a Value {
    obj.get(key).unwrap_or(&NONE)
}

/// `a or b`.
pub fn or<'a>(a: &'a Value, b: &'a Value) -> &'a Value {
    if a.truthy() {
        a
    } else {
        b
    }
}

/// `isinstance(x, dict)`.
pub fn is_dict(v: &Value) -> bool {
    matches!(v, Value::Object(_) | Value::Skipped)
}

/// `isinstance(x, (int, float))` (bools included).
pub fn is_num(v: &Value) -> bool {
    v.is_number_or_bool()
}

/// `isinstance(x, float)` is never asked alone; this is `isinstance(x, str) and x` (non-empty).
pub fn nonempty_str(v: &Value) -> Option<&str> {
    v.as_str().filter(|s| !s.is_empty())
}

/// `float(n)` for an int, float or bool (`OverflowError` past f64).
pub fn num_to_f64(v: &Value) -> PyResult<f64> {
    match v {
        Value::Bool(b) => Ok(if *b { 1.0 } else { 0.0 }),
        Value::Int(i) => Ok(*i as f64),
        Value::Float(f) => Ok(*f),
        Value::BigInt(s) => {
            let f: f64 = s.parse().unwrap_or(f64::INFINITY);
            if f.is_finite() {
                Ok(f)
            } else {
                Err(Raised::python(
                    "OverflowError",
                    "int too large to convert to float",
                ))
            }
        }
        other => Err(Raised::python(
            "TypeError",
            format!(
                "float() argument must be a string or a real number, not '{}'",
                other.py_type_name()
            ),
        )),
    }
}

/// Python `float(x)`.
pub fn py_float(v: &Value) -> PyResult<f64> {
    match v {
        Value::Str(s) => parse_py_float(s).ok_or_else(|| {
            Raised::python(
                "ValueError",
                format!("could not convert string to float: {}", repr_str(s)),
            )
        }),
        other => num_to_f64(other),
    }
}

/// `str.strip()` with Python's notion of whitespace (which includes \x1c-\x1f).
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

/// `str.lower()`.
pub fn py_lower(s: &str) -> String {
    s.to_lowercase()
}

/// Python's float literal grammar (`float("  1_0.5e3 ")`, `nan`, `-Infinity`).
pub fn parse_py_float(s: &str) -> Option<f64> {
    let t = py_strip(s);
    let (sign, body) = match t.as_bytes().first() {
        Some(b'-') => (-1.0, &t[1..]),
        Some(b'+') => (1.0, &t[1..]),
        _ => (1.0, t),
    };
    let lower = body.to_ascii_lowercase();
    match lower.as_str() {
        "nan" => return Some(f64::NAN.copysign(sign)),
        "inf" | "infinity" => return Some(sign * f64::INFINITY),
        _ => {}
    }
    // Underscores are allowed only between digits.
    let bytes = body.as_bytes();
    for (i, &c) in bytes.iter().enumerate() {
        if c == b'_' {
            let prev = i.checked_sub(1).and_then(|k| bytes.get(k));
            let next = bytes.get(i + 1);
            if !(prev.is_some_and(u8::is_ascii_digit) && next.is_some_and(u8::is_ascii_digit)) {
                return None;
            }
        } else if !(c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-')) {
            return None;
        }
    }
    let clean: String = body.chars().filter(|&c| c != '_').collect();
    if clean.is_empty() || clean.starts_with(['+', '-']) {
        return None;
    }
    // Rust accepts the same decimal grammar once signs and underscores are handled, except that
    // it also takes "inf"/"nan" spellings, which were excluded above by the character filter.
    clean.parse::<f64>().ok().map(|f| sign * f)
}

/// A Python int as a canonical decimal string ("-12", "0"); unbounded like Python's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PyInt(pub String);

impl PyInt {
    pub fn is_negative(&self) -> bool {
        self.0.starts_with('-')
    }
    pub fn is_zero(&self) -> bool {
        self.0 == "0"
    }
    fn from_digits(neg: bool, digits: &str) -> PyInt {
        let d = digits.trim_start_matches('0');
        if d.is_empty() {
            PyInt("0".into())
        } else if neg {
            PyInt(format!("-{d}"))
        } else {
            PyInt(d.to_string())
        }
    }
}

/// Python `int(x)`.
pub fn py_int(v: &Value) -> PyResult<PyInt> {
    match v {
        Value::Bool(b) => Ok(PyInt(if *b { "1" } else { "0" }.into())),
        Value::Int(i) => Ok(PyInt(i.to_string())),
        Value::BigInt(s) => Ok(PyInt::from_digits(
            s.starts_with('-'),
            s.trim_start_matches('-'),
        )),
        Value::Float(f) => {
            if f.is_nan() {
                Err(Raised::python(
                    "ValueError",
                    "cannot convert float NaN to integer",
                ))
            } else if f.is_infinite() {
                Err(Raised::python(
                    "OverflowError",
                    "cannot convert float infinity to integer",
                ))
            } else {
                let t = f.trunc();
                Ok(PyInt::from_digits(t < 0.0, &format!("{:.0}", t.abs())))
            }
        }
        Value::Str(s) => parse_py_int(s).ok_or_else(|| {
            Raised::python(
                "ValueError",
                format!("invalid literal for int() with base 10: {}", repr_str(s)),
            )
        }),
        other => Err(Raised::python(
            "TypeError",
            format!(
                "int() argument must be a string, a bytes-like object or a real number, not '{}'",
                other.py_type_name()
            ),
        )),
    }
}

fn parse_py_int(s: &str) -> Option<PyInt> {
    let t = py_strip(s);
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let b = body.as_bytes();
    if b.is_empty() || b[0] == b'_' || b[b.len() - 1] == b'_' || body.contains("__") {
        return None;
    }
    if !b.iter().all(|c| c.is_ascii_digit() || *c == b'_') {
        return None;
    }
    let digits: String = body.chars().filter(|&c| c != '_').collect();
    Some(PyInt::from_digits(neg, &digits))
}

/// `_coerce_int`: int(), None on TypeError/ValueError or when negative. OverflowError escapes.
pub fn coerce_int(v: &Value) -> PyResult<Option<PyInt>> {
    match py_int(v) {
        Ok(i) if i.is_negative() => Ok(None),
        Ok(i) => Ok(Some(i)),
        Err(Raised::Python { class, .. }) if class == "TypeError" || class == "ValueError" => {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// `max(a, b)` for floats: the first argument wins unless the second is strictly greater, so
/// `max(1e-12, nan)` is 1e-12.
pub fn py_max(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}

/// `math.isclose(a, b, rel_tol=rel, abs_tol=abs)`.
pub fn isclose(a: f64, b: f64, rel: f64, abs: f64) -> bool {
    if a == b {
        return true;
    }
    if a.is_infinite() || b.is_infinite() {
        return false;
    }
    let diff = (b - a).abs();
    (diff <= (rel * b).abs()) || (diff <= (rel * a).abs()) || diff <= abs
}

/// CPython 3.12 `sum()` over floats: Neumaier compensated summation.
pub fn fsum_neumaier(xs: impl IntoIterator<Item = f64>) -> f64 {
    let mut f = 0.0f64;
    let mut c = 0.0f64;
    for x in xs {
        let t = f + x;
        if f.abs() >= x.abs() {
            c += (f - t) + x;
        } else {
            c += (x - t) + f;
        }
        f = t;
    }
    if c != 0.0 && c.is_finite() {
        f += c;
    }
    f
}

/// `format(x, ".{prec}f")` for a value that passed `isinstance(x, (int, float))` or not.
pub fn format_f(v: &Value, prec: usize) -> PyResult<String> {
    match v {
        Value::Str(_) => Err(Raised::python(
            "ValueError",
            "Unknown format code 'f' for object of type 'str'",
        )),
        Value::Null | Value::Array(_) | Value::Object(_) | Value::Skipped => Err(Raised::python(
            "TypeError",
            format!(
                "unsupported format string passed to {}.__format__",
                v.py_type_name()
            ),
        )),
        other => Ok(crate::pyjson::py_fixed(num_to_f64(other)?, prec)),
    }
}

pub use super::pyrepr::{path_id, py_eq, py_repr, py_str, repr_str, PARSE_DEPTH_LIMIT};
