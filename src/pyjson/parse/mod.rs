//! An iterative parser with the semantics and error messages of CPython 3.12's `json.loads`
//! (C scanner). Iterative so that hostile nesting cannot overflow the stack.

mod error;
mod parser;
mod scalars;
mod skip;
mod utf8;

pub use error::{ErrorKind, ParseError};
pub use utf8::{decode_utf8, Utf8Error};

use super::value::{Object, Value};

/// Parser knobs.
#[derive(Clone, Copy, Debug)]
pub struct ParseOptions<'a> {
    /// Nesting depth at which Python would raise `RecursionError`.
    pub max_depth: usize,
    /// Object-key paths whose values are syntax-checked but not materialised (they become
    /// `Value::Skipped`). A path matches only through objects, never through arrays. Used by the
    /// indexer to skip token id arrays that make up most of a report's bytes.
    pub skip: &'a [&'a [&'a str]],
}

impl Default for ParseOptions<'_> {
    fn default() -> Self {
        ParseOptions {
            max_depth: DEFAULT_MAX_DEPTH,
            skip: &[],
        }
    }
}

/// Default nesting limit; deep enough for any real document, shallow enough for the stack that
/// dropping the value needs.
pub const DEFAULT_MAX_DEPTH: usize = 10_000;

/// `json.loads(s)`.
pub fn parse(s: &str) -> Result<Value, ParseError> {
    parse_with(s, ParseOptions::default())
}

pub fn parse_with(s: &str, opts: ParseOptions<'_>) -> Result<Value, ParseError> {
    Parser::new(s, opts, Keep::All).document()
}

/// Like [`parse_with`], for callers that only ever look inside an object root (a certificate):
/// a root of any other type is checked exactly as `parse_with` checks it (same errors, same
/// positions) but its items are dropped as they are read, so a 64 MB array costs no memory
/// beyond the text. The result is then an empty array of the root's type.
pub fn parse_object_root(s: &str, opts: ParseOptions<'_>) -> Result<Value, ParseError> {
    Parser::new(s, opts, Keep::UnlessRootArray).document()
}

/// The shape of a document, found without building it: what a full parse would hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// The root is an object.
    pub object_root: bool,
    /// Every value (containers and scalars, the root included).
    pub values: usize,
}

/// Checks `s` exactly as [`parse_with`] would (same errors) and counts its values, holding only
/// the nesting stack. Lets a server refuse a document whose tree would be too large before
/// building it.
pub fn shape(s: &str, opts: ParseOptions<'_>) -> Result<Shape, ParseError> {
    let mut p = Parser::new(s, opts, Keep::Nothing);
    let root = p.document()?;
    Ok(Shape {
        object_root: matches!(root, Value::Object(_)),
        values: p.values,
    })
}

enum Frame {
    Array(Vec<Value>),
    Object(Object, String),
}

/// Which values a parse keeps in their containers (a value not kept is still parsed in full).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    All,
    /// Nothing below a root array.
    UnlessRootArray,
    /// Nothing below the root.
    Nothing,
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    opts: ParseOptions<'a>,
    keep: Keep,
    /// Values parsed so far.
    values: usize,
}

enum Failure {
    /// A Python `StopIteration(idx)`, reported as `Expecting value` at idx.
    Stop(usize),
    Err(&'static str, usize),
    Recursion(&'static str),
    /// An integer literal with this many digits (over CPython's 4300-digit limit).
    IntTooLong(usize),
}

type PResult<T> = Result<T, Failure>;

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}
