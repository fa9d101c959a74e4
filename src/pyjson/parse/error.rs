//! A parse failure, described as the Python exception `json.loads` would raise.

use std::fmt;

/// Which Python exception a failure corresponds to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// `json.JSONDecodeError`
    Decode,
    /// `RecursionError`, raised by Python past its recursion limit.
    Recursion,
    /// `ValueError` from an integer literal longer than CPython's 4300-digit conversion limit.
    IntTooLong,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub kind: ErrorKind,
    /// The bare message (`Expecting value`), without position.
    pub msg: String,
    /// Position in characters (Python `str` index), as `JSONDecodeError.pos`.
    pub pos: usize,
    pub lineno: usize,
    pub colno: usize,
}

impl fmt::Display for ParseError {
    /// Python's `str(exc)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::Decode => write!(
                f,
                "{}: line {} column {} (char {})",
                self.msg, self.lineno, self.colno, self.pos
            ),
            ErrorKind::Recursion | ErrorKind::IntTooLong => f.write_str(&self.msg),
        }
    }
}

impl std::error::Error for ParseError {}

impl ParseError {
    /// The Python exception class name.
    pub fn py_class(&self) -> &'static str {
        match self.kind {
            ErrorKind::Decode => "JSONDecodeError",
            ErrorKind::Recursion => "RecursionError",
            ErrorKind::IntTooLong => "ValueError",
        }
    }
}
