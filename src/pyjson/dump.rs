//! `json.dumps` with Python's formatting, for digests (J1/J2/J3, §5.1) and byte-identical
//! `invarlock verify --json` output.

use super::float::py_repr;
use super::value::Value;
use std::fmt::Write;

/// The knobs of `json.dumps` that InvarLock uses.
#[derive(Clone, Copy, Debug)]
pub struct DumpStyle {
    pub item_sep: &'static str,
    pub key_sep: &'static str,
    pub ensure_ascii: bool,
    pub sort_keys: bool,
}

impl DumpStyle {
    /// J1: `json.dumps(x, sort_keys=True, default=str)`.
    pub const J1: DumpStyle = DumpStyle {
        item_sep: ", ",
        key_sep: ": ",
        ensure_ascii: true,
        sort_keys: true,
    };
    /// J2: `json.dumps(x, sort_keys=True, separators=(",", ":"))`.
    pub const J2: DumpStyle = DumpStyle {
        item_sep: ",",
        key_sep: ":",
        ensure_ascii: true,
        sort_keys: true,
    };
    /// J3: J2 with `ensure_ascii=False`.
    pub const J3: DumpStyle = DumpStyle {
        item_sep: ",",
        key_sep: ":",
        ensure_ascii: false,
        sort_keys: true,
    };
}

/// Serialises `v`. Iterative over containers would be overkill: values come from the parser,
/// whose depth limit bounds recursion here.
pub fn dumps(v: &Value, style: DumpStyle) -> String {
    let mut out = String::new();
    write_value(&mut out, v, style);
    out
}

fn write_value(out: &mut String, v: &Value, style: DumpStyle) {
    match v {
        Value::Null | Value::Skipped => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::BigInt(s) => out.push_str(s),
        Value::Float(f) => out.push_str(&json_float(*f)),
        Value::Str(s) => write_str(out, s, style.ensure_ascii),
        Value::Array(items) => {
            out.push('[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push_str(style.item_sep);
                }
                write_value(out, item, style);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            if style.sort_keys {
                // Python sorts str keys by code point, which is UTF-8 byte order.
                entries.sort_by(|a, b| a.0.cmp(b.0));
            }
            for (n, (k, item)) in entries.into_iter().enumerate() {
                if n > 0 {
                    out.push_str(style.item_sep);
                }
                write_str(out, k, style.ensure_ascii);
                out.push_str(style.key_sep);
                write_value(out, item, style);
            }
            out.push('}');
        }
    }
}

/// A float as `json.dumps` writes it.
pub fn json_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else {
        py_repr(f)
    }
}

fn write_str(out: &mut String, s: &str, ensure_ascii: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if ensure_ascii && (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
