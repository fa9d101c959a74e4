//! Python's `str()`, `repr()` and `==` over parsed JSON, as they appear in verify's messages and
//! lint comparisons, plus `str(pathlib.Path(arg))` for certificate ids.

use super::pyops::{PyResult, Raised};
use crate::pyjson::{py_repr as float_repr, Value};

/// CPython's `repr()` raises RecursionError only past the nesting the parser already refuses
/// (measured: a lint value nested to the parser's limit is still rendered), so this bound is
/// a stack guard, never a verdict.
pub const REPR_DEPTH_LIMIT: usize = PARSE_DEPTH_LIMIT + 1;

/// Deepest nesting CPython's `json.load` accepts inside `invarlock verify` (measured with the
/// real tool: 1487 nested arrays or objects parse, 1488 raise RecursionError).
pub const PARSE_DEPTH_LIMIT: usize = 1487;

/// `str(x)`.
pub fn py_str(v: &Value) -> PyResult<String> {
    match v {
        Value::Str(s) => Ok(s.clone()),
        other => py_repr(other),
    }
}

/// `repr(x)`.
pub fn py_repr(v: &Value) -> PyResult<String> {
    let mut out = String::new();
    repr_into(&mut out, v, 0)?;
    Ok(out)
}

fn repr_into(out: &mut String, v: &Value, depth: usize) -> PyResult<()> {
    match v {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Int(i) => out.push_str(&i.to_string()),
        // Longer than 4300 digits cannot get here: the parser raises CPython's ValueError.
        Value::BigInt(s) => out.push_str(s),
        Value::Float(f) => out.push_str(&float_repr(*f)),
        Value::Str(s) => out.push_str(&repr_str(s)),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            enter(depth)?;
            out.push('[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                repr_into(out, item, depth + 1)?;
            }
            out.push(']');
        }
        Value::Object(m) => {
            if m.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            enter(depth)?;
            out.push('{');
            for (n, (k, item)) in m.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                out.push_str(&repr_str(k));
                out.push_str(": ");
                repr_into(out, item, depth + 1)?;
            }
            out.push('}');
        }
        Value::Skipped => out.push_str("{}"),
    }
    Ok(())
}

fn enter(depth: usize) -> PyResult<()> {
    if depth >= REPR_DEPTH_LIMIT {
        Err(Raised::python(
            "RecursionError",
            "maximum recursion depth exceeded while getting the repr of an object",
        ))
    } else {
        Ok(())
    }
}

/// `repr(s)` for a str.
pub fn repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            c if c == quote || c == '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if (c as u32) < 0x7f => out.push(c),
            c if is_printable(c) => out.push(c),
            c if (c as u32) <= 0xff => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push(quote);
    out
}

/// An approximation of `str.isprintable()` for non-ASCII characters: the separators, format
/// characters and private-use ranges that Python escapes in `repr`.
fn is_printable(c: char) -> bool {
    let u = c as u32;
    !matches!(u,
        0x80..=0xA0
            | 0xAD
            | 0x600..=0x605
            | 0x61C
            | 0x6DD
            | 0x70F
            | 0x890..=0x891
            | 0x8E2
            | 0x1680
            | 0x180E
            | 0x2000..=0x200F
            | 0x2028..=0x202F
            | 0x205F..=0x2064
            | 0x2066..=0x206F
            | 0x3000
            | 0xD800..=0xF8FF
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
            | 0xF0000..=0x10FFFF
    )
}

/// Python `==` between two parsed JSON values (1 == 1.0 == True; NaN never equal; dicts by
/// content regardless of order).
pub fn py_eq(a: &Value, b: &Value) -> bool {
    use Value::*;
    match (a, b) {
        (Null, Null) => true,
        (Str(x), Str(y)) => x == y,
        (Array(x), Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q)),
        (Object(x), Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| py_eq(v, w)))
        }
        (x, y) if x.is_number_or_bool() && y.is_number_or_bool() => num_eq(x, y),
        _ => false,
    }
}

fn num_eq(a: &Value, b: &Value) -> bool {
    let as_int = |v: &Value| -> Option<String> {
        match v {
            Value::Bool(b) => Some(if *b { "1".into() } else { "0".into() }),
            Value::Int(i) => Some(i.to_string()),
            Value::BigInt(s) => Some(s.clone()),
            Value::Float(f) if f.is_finite() && f.fract() == 0.0 => Some(if *f == 0.0 {
                "0".into()
            } else {
                format!("{f:.0}")
            }),
            _ => None,
        }
    };
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Float(x), _) | (_, Value::Float(x)) if !x.is_finite() || x.fract() != 0.0 => false,
        _ => as_int(a) == as_int(b),
    }
}

/// `str(pathlib.Path(arg))`: repeated slashes collapsed, `.` segments and a trailing slash
/// dropped, `..` kept, a leading `//` (exactly two) preserved as POSIX requires.
pub fn path_id(arg: &str) -> String {
    let root = if arg.starts_with("//") && !arg.starts_with("///") {
        "//"
    } else if arg.starts_with('/') {
        "/"
    } else {
        ""
    };
    let parts: Vec<&str> = arg
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let s = format!("{root}{}", parts.join("/"));
    if s.is_empty() {
        ".".into()
    } else {
        s
    }
}
