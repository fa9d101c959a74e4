//! Python-compatible JSON: the value model, parser and serialisers that InvarLock's own
//! `json` module defines.
//!
//! serde_json is RFC 8259 strict and cannot read what InvarLock writes (bare `NaN`, `Infinity`),
//! nor reproduce Python's error messages, float `repr` or `sort_keys` output byte for byte. Every
//! verdict and digest in this crate depends on those details, so they live here, once.

mod dump;
mod float;
mod parse;
mod value;

pub use dump::{dumps, DumpStyle};
pub use float::{py_fixed, py_repr};
pub use parse::{
    decode_utf8, parse, parse_object_root, parse_with, shape, ErrorKind, ParseError, ParseOptions,
    Shape, Utf8Error,
};
pub use value::{Object, Value};

#[cfg(test)]
mod tests;
