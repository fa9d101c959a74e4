//! Lines of events.jsonl too big to parse whole (a `runner/start` carrying a whole baseline
//! schedule): the few values the index needs are cut out by bracket matching and parsed alone.

use crate::pyjson::{decode_utf8, parse, Value};

/// Lines longer than this (a `runner/start` carrying a whole baseline schedule) are not parsed
/// whole: only the few values the index needs are cut out and parsed.
pub(super) const BIG_LINE: usize = 16 * 1024;

/// The raw JSON value after the first `"key":` in `line`, found by bracket matching.
fn value_after_key<'a>(line: &'a [u8], key: &str) -> Option<&'a [u8]> {
    let pat = format!("\"{key}\"");
    let at = memchr::memmem::find(line, pat.as_bytes())? + pat.len();
    let mut i = at;
    let ws = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    while i < line.len() && ws(line[i]) {
        i += 1;
    }
    if line.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    while i < line.len() && ws(line[i]) {
        i += 1;
    }
    let start = i;
    let (mut depth, mut in_str, mut esc) = (0usize, false, false);
    while i < line.len() {
        let b = line[i];
        if in_str {
            if esc {
                esc = false;
            } else if b == b'\\' {
                esc = true;
            } else if b == b'"' {
                in_str = false;
                if depth == 0 {
                    return Some(&line[start..=i]);
                }
            }
        } else {
            match b {
                b'"' => in_str = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(&line[start..=i]);
                    }
                }
                b',' if depth == 0 => return Some(&line[start..i]),
                _ => {}
            }
        }
        i += 1;
    }
    None
}

fn parse_slice(b: &[u8]) -> Option<Value> {
    parse(decode_utf8(b).ok()?.trim()).ok()
}

/// A reduced event from a huge line: top-level strings plus the `runner/start` context values
/// the index uses (the first occurrence of each key; InvarLock writes top-level keys first).
pub(super) fn big_line(raw: &[u8]) -> Option<Value> {
    let mut top = crate::pyjson::Object::new();
    for k in ["timestamp", "component", "operation"] {
        if let Some(v) = value_after_key(raw, k).and_then(parse_slice) {
            top.insert(k.to_string(), v);
        }
    }
    top.get("component")?;
    let mut ctx = crate::pyjson::Object::new();
    for k in ["baseline_eval_windows", "dataset_meta"] {
        if let Some(v) = value_after_key(raw, k).and_then(parse_slice) {
            ctx.insert(k.to_string(), v);
        }
    }
    let mut data = crate::pyjson::Object::new();
    data.insert("context".into(), Value::Object(ctx));
    top.insert("data".into(), Value::Object(data));
    Some(Value::Object(top))
}
