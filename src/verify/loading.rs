//! Reading a certificate the way `json.load(open(path, encoding="utf-8"))` does, and the
//! `--baseline` provider digest.

use super::pyops::{Raised, PARSE_DEPTH_LIMIT};
use crate::pyjson::{decode_utf8, parse_object_root, ErrorKind, ParseOptions, Value};
use std::borrow::Cow;

/// Text-mode reading translates `\r\n` and `\r` to `\n` before `json.load` sees the text,
/// which shifts JSONDecodeError positions.
pub fn universal_newlines(text: &str) -> Cow<'_, str> {
    if text.contains('\r') {
        Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(text)
    }
}

/// `json.load(open(path, encoding="utf-8"))`.
///
/// A root that is not an object comes back without its items: verify never looks inside one
/// (every check starts with `cert.get`, which raises AttributeError on a list before any item is
/// read), so holding them would only let a flat 64 MB array cost gigabytes of tree.
pub fn load(bytes: &[u8]) -> Result<Value, Raised> {
    let text =
        decode_utf8(bytes).map_err(|e| Raised::python("UnicodeDecodeError", e.to_string()))?;
    let text = universal_newlines(text);
    parse_object_root(
        &text,
        ParseOptions {
            max_depth: PARSE_DEPTH_LIMIT,
            skip: &[],
        },
    )
    .map_err(|e| {
        let class = match e.kind {
            ErrorKind::Decode => "JSONDecodeError",
            ErrorKind::Recursion => "RecursionError",
            ErrorKind::IntTooLong => "ValueError",
        };
        Raised::python(class, e.to_string())
    })
}

/// The `--baseline` provider digest: `provenance.provider_digest` if it is a dict; anything
/// else (unreadable, not JSON, other shapes) is silently ignored.
pub fn baseline_digest(bytes: &[u8]) -> Option<Value> {
    let doc = load(bytes).ok()?;
    match doc.get("provenance")?.get("provider_digest")? {
        d @ Value::Object(_) => Some(d.clone()),
        _ => None,
    }
}

/// How many JSON values [`load`] would hold for these bytes, found without building them:
/// `Some` for an object root, `None` when the verdict needs no tree (not UTF-8, not JSON, or a
/// root of another type). Lets `POST /v1/verify` refuse a certificate beyond what any real one
/// can be before spending memory on it.
pub fn tree_values(bytes: &[u8]) -> Option<usize> {
    let text = decode_utf8(bytes).ok()?;
    let shape = crate::pyjson::shape(
        text,
        ParseOptions {
            max_depth: PARSE_DEPTH_LIMIT,
            skip: &[],
        },
    )
    .ok()?;
    shape.object_root.then_some(shape.values)
}
