//! An iterative parser with the semantics and error messages of CPython 3.12's `json.loads`
//! (C scanner). Iterative so that hostile nesting cannot overflow the stack.

use super::value::{Object, Value};
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

/// A UTF-8 decoding failure, formatted like Python's `UnicodeDecodeError`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Utf8Error {
    pub start: usize,
    pub end: usize,
    pub byte: u8,
    pub reason: &'static str,
}

impl fmt::Display for Utf8Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.end - self.start <= 1 {
            write!(
                f,
                "'utf-8' codec can't decode byte 0x{:02x} in position {}: {}",
                self.byte, self.start, self.reason
            )
        } else {
            write!(
                f,
                "'utf-8' codec can't decode bytes in position {}-{}: {}",
                self.start,
                self.end - 1,
                self.reason
            )
        }
    }
}

impl std::error::Error for Utf8Error {}

/// Strict UTF-8 decoding with Python's error classification.
pub fn decode_utf8(bytes: &[u8]) -> Result<&str, Utf8Error> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) => {
            let start = e.valid_up_to();
            let byte = bytes[start];
            let (len, reason) = match e.error_len() {
                None => (bytes.len() - start, "unexpected end of data"),
                Some(n) => {
                    let lead_ok = matches!(byte, 0xC2..=0xF4);
                    if !lead_ok {
                        (1, "invalid start byte")
                    } else {
                        (n, "invalid continuation byte")
                    }
                }
            };
            Err(Utf8Error {
                start,
                end: start + len.max(1),
                byte,
                reason,
            })
        }
    }
}

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

impl<'a> Parser<'a> {
    fn new(s: &'a str, opts: ParseOptions<'a>, keep: Keep) -> Self {
        Parser {
            s,
            b: s.as_bytes(),
            opts,
            keep,
            values: 0,
        }
    }

    /// Whether a value completed inside `stack` goes into its container.
    fn keeps(&self, stack: &[Frame]) -> bool {
        match self.keep {
            Keep::All => true,
            Keep::UnlessRootArray => !matches!(stack.first(), Some(Frame::Array(_))),
            Keep::Nothing => false,
        }
    }

    fn document(&mut self) -> Result<Value, ParseError> {
        if self.s.starts_with('\u{feff}') {
            return Err(self.error(
                ErrorKind::Decode,
                "Unexpected UTF-8 BOM (decode using utf-8-sig)",
                0,
            ));
        }
        let start = self.ws(0);
        let (v, end) = match self.value(start) {
            Ok(r) => r,
            Err(Failure::Stop(i)) => return Err(self.error(ErrorKind::Decode, "Expecting value", i)),
            Err(Failure::Err(m, i)) => return Err(self.error(ErrorKind::Decode, m, i)),
            Err(Failure::IntTooLong(digits)) => {
                return Err(ParseError {
                    kind: ErrorKind::IntTooLong,
                    msg: format!("Exceeds the limit (4300 digits) for integer string conversion: value has {digits} digits; use sys.set_int_max_str_digits() to increase the limit"),
                    pos: 0,
                    lineno: 0,
                    colno: 0,
                })
            }
            Err(Failure::Recursion(what)) => {
                return Err(ParseError {
                    kind: ErrorKind::Recursion,
                    msg: format!("maximum recursion depth exceeded while decoding a JSON {what} from a unicode string"),
                    pos: 0,
                    lineno: 0,
                    colno: 0,
                })
            }
        };
        let end = self.ws(end);
        if end != self.b.len() {
            return Err(self.error(ErrorKind::Decode, "Extra data", end));
        }
        Ok(v)
    }

    /// Builds a JSONDecodeError at byte offset `at`, converting to character positions.
    fn error(&self, kind: ErrorKind, msg: &str, at: usize) -> ParseError {
        let prefix = &self.s[..at.min(self.s.len())];
        let pos = prefix.chars().count();
        let lineno = prefix.bytes().filter(|&c| c == b'\n').count() + 1;
        // Python: colno = pos - doc.rindex('\n', 0, pos), or pos + 1 on the first line.
        let colno = match prefix.rfind('\n') {
            Some(nl) => pos - prefix[..nl].chars().count(),
            None => pos + 1,
        };
        ParseError {
            kind,
            msg: msg.to_string(),
            pos,
            lineno,
            colno,
        }
    }

    fn ws(&self, mut i: usize) -> usize {
        while i < self.b.len() && is_ws(self.b[i]) {
            i += 1;
        }
        i
    }

    fn skip_matches(&self, stack: &[Frame]) -> bool {
        self.opts.skip.iter().any(|rule| {
            rule.len() == stack.len()
                && stack.iter().zip(rule.iter()).all(|(f, k)| match f {
                    Frame::Object(_, key) => key == k,
                    Frame::Array(_) => false,
                })
        })
    }

    /// Parses one value starting exactly at `i` (whitespace already skipped).
    fn value(&mut self, mut i: usize) -> PResult<(Value, usize)> {
        let mut stack: Vec<Frame> = Vec::new();
        'outer: loop {
            // Parse a value at i.
            let (mut v, mut end) = if !self.opts.skip.is_empty() && self.skip_matches(&stack) {
                (Value::Skipped, self.skip_value(i)?)
            } else {
                let c = *self.b.get(i).ok_or(Failure::Stop(i))?;
                match c {
                    b'{' | b'[' => {
                        if stack.len() + 1 > self.opts.max_depth {
                            return Err(Failure::Recursion(if c == b'{' {
                                "object"
                            } else {
                                "array"
                            }));
                        }
                        let j = self.ws(i + 1);
                        if c == b'{' {
                            if self.b.get(j) == Some(&b'}') {
                                (Value::Object(Object::new()), j + 1)
                            } else {
                                let (key, k) = self.key(j)?;
                                stack.push(Frame::Object(Object::new(), key));
                                i = k;
                                continue 'outer;
                            }
                        } else if self.b.get(j) == Some(&b']') {
                            (Value::Array(Vec::new()), j + 1)
                        } else {
                            stack.push(Frame::Array(Vec::new()));
                            i = j;
                            continue 'outer;
                        }
                    }
                    _ => self.scalar(i)?,
                }
            };
            // Complete v into its containers.
            loop {
                self.values += 1;
                let keep = self.keeps(&stack);
                match stack.last_mut() {
                    None => return Ok((v, end)),
                    Some(Frame::Array(items)) => {
                        if keep {
                            items.push(v);
                        }
                        let j = self.ws(end);
                        match self.b.get(j) {
                            Some(b']') => {
                                let Some(Frame::Array(items)) = stack.pop() else {
                                    unreachable!()
                                };
                                v = Value::Array(items);
                                end = j + 1;
                            }
                            Some(b',') => {
                                i = self.ws(j + 1);
                                continue 'outer;
                            }
                            _ => return Err(Failure::Err("Expecting ',' delimiter", j)),
                        }
                    }
                    Some(Frame::Object(map, key)) => {
                        if keep {
                            map.insert(std::mem::take(key), v);
                        }
                        let j = self.ws(end);
                        match self.b.get(j) {
                            Some(b'}') => {
                                let Some(Frame::Object(map, _)) = stack.pop() else {
                                    unreachable!()
                                };
                                v = Value::Object(map);
                                end = j + 1;
                            }
                            Some(b',') => {
                                let (k, next) = self.key(self.ws(j + 1))?;
                                *key = k;
                                i = next;
                                continue 'outer;
                            }
                            _ => return Err(Failure::Err("Expecting ',' delimiter", j)),
                        }
                    }
                }
            }
        }
    }

    /// Reads `"key"  :  ` at i; returns the key and the position of the value.
    fn key(&self, i: usize) -> PResult<(String, usize)> {
        if self.b.get(i) != Some(&b'"') {
            return Err(Failure::Err(
                "Expecting property name enclosed in double quotes",
                i,
            ));
        }
        let (k, j) = self.string(i + 1)?;
        let j = self.ws(j);
        if self.b.get(j) != Some(&b':') {
            return Err(Failure::Err("Expecting ':' delimiter", j));
        }
        Ok((k, self.ws(j + 1)))
    }

    fn lit(&self, i: usize, word: &str) -> bool {
        self.b[i..].starts_with(word.as_bytes())
    }

    fn scalar(&self, i: usize) -> PResult<(Value, usize)> {
        match self.b[i] {
            b'"' => {
                let (s, j) = self.string(i + 1)?;
                Ok((Value::Str(s), j))
            }
            b'n' if self.lit(i, "null") => Ok((Value::Null, i + 4)),
            b't' if self.lit(i, "true") => Ok((Value::Bool(true), i + 4)),
            b'f' if self.lit(i, "false") => Ok((Value::Bool(false), i + 5)),
            b'N' if self.lit(i, "NaN") => Ok((Value::Float(f64::NAN), i + 3)),
            b'I' if self.lit(i, "Infinity") => Ok((Value::Float(f64::INFINITY), i + 8)),
            b'-' if self.lit(i, "-Infinity") => Ok((Value::Float(f64::NEG_INFINITY), i + 9)),
            _ => self.number(i),
        }
    }

    /// `_match_number_unicode`.
    fn number(&self, start: usize) -> PResult<(Value, usize)> {
        let b = self.b;
        let digit = |k: usize| b.get(k).is_some_and(|c| c.is_ascii_digit());
        let mut i = start;
        if b[i] == b'-' {
            i += 1;
            if i >= b.len() {
                return Err(Failure::Stop(start));
            }
        }
        match b[i] {
            b'1'..=b'9' => {
                i += 1;
                while digit(i) {
                    i += 1;
                }
            }
            b'0' => i += 1,
            _ => return Err(Failure::Stop(start)),
        }
        let mut is_float = false;
        if b.get(i) == Some(&b'.') && digit(i + 1) {
            is_float = true;
            i += 2;
            while digit(i) {
                i += 1;
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) && i + 1 < b.len() {
            let e_start = i;
            i += 1;
            if matches!(b.get(i), Some(b'-' | b'+')) && i + 1 < b.len() {
                i += 1;
            }
            while digit(i) {
                i += 1;
            }
            if b[i - 1].is_ascii_digit() {
                is_float = true;
            } else {
                i = e_start;
            }
        }
        let text = &self.s[start..i];
        let v = if is_float {
            Value::Float(text.parse::<f64>().unwrap_or(f64::NAN))
        } else {
            match text.parse::<i64>() {
                Ok(n) => Value::Int(n),
                Err(_) => {
                    let digits = text.trim_start_matches('-').len();
                    if digits > 4300 {
                        return Err(Failure::IntTooLong(digits));
                    }
                    Value::BigInt(text.to_string())
                }
            }
        };
        Ok((v, i))
    }

    /// `scanstring` starting after the opening quote at `i - 1`.
    fn string(&self, i: usize) -> PResult<(String, usize)> {
        let b = self.b;
        let begin = i - 1;
        // Fast path: no escapes.
        let mut j = i;
        while j < b.len() {
            match b[j] {
                b'"' => return Ok((self.s[i..j].to_string(), j + 1)),
                b'\\' => break,
                c if c <= 0x1f => return Err(Failure::Err("Invalid control character at", j)),
                _ => j += 1,
            }
        }
        if j >= b.len() {
            return Err(Failure::Err("Unterminated string starting at", begin));
        }
        let mut out = String::from(&self.s[i..j]);
        loop {
            // b[j] is a backslash here.
            j += 1;
            let Some(&c) = b.get(j) else {
                return Err(Failure::Err("Unterminated string starting at", begin));
            };
            if c != b'u' {
                let ch = match c {
                    b'"' => '"',
                    b'\\' => '\\',
                    b'/' => '/',
                    b'b' => '\u{8}',
                    b'f' => '\u{c}',
                    b'n' => '\n',
                    b'r' => '\r',
                    b't' => '\t',
                    _ => return Err(Failure::Err("Invalid \\escape", j - 1)),
                };
                out.push(ch);
                j += 1;
            } else {
                // CPython reports \u errors at the position of the `u`.
                let u_pos = j;
                let mut code = self.hex4(u_pos + 1, u_pos)?;
                j = u_pos + 5;
                if (0xD800..0xDC00).contains(&code)
                    && j + 6 < b.len()
                    && b.get(j) == Some(&b'\\')
                    && b.get(j + 1) == Some(&b'u')
                {
                    let low = self.hex4(j + 2, j + 1)?;
                    if (0xDC00..0xE000).contains(&low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                        j += 6;
                    }
                }
                // Lone surrogates cannot live in a Rust String; Python keeps them. They only
                // occur in hand-crafted input and are replaced.
                out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
            }
            // Copy the next unescaped run.
            let run = j;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        out.push_str(&self.s[run..j]);
                        return Ok((out, j + 1));
                    }
                    b'\\' => break,
                    c if c <= 0x1f => return Err(Failure::Err("Invalid control character at", j)),
                    _ => j += 1,
                }
            }
            if j >= b.len() {
                return Err(Failure::Err("Unterminated string starting at", begin));
            }
            out.push_str(&self.s[run..j]);
        }
    }

    fn hex4(&self, at: usize, escape_at: usize) -> PResult<u32> {
        // CPython wants a character after the four digits (`end >= len` is an error).
        if at + 4 >= self.b.len() {
            return Err(Failure::Err("Invalid \\uXXXX escape", escape_at));
        }
        let h = &self.b[at..at + 4];
        let mut code = 0u32;
        for &d in h {
            let v = (d as char)
                .to_digit(16)
                .ok_or(Failure::Err("Invalid \\uXXXX escape", escape_at))?;
            code = code * 16 + v;
        }
        Ok(code)
    }

    /// Skips one value at `i` without building it, checking enough syntax to reject truncated or
    /// garbled input. Returns the end position.
    fn skip_value(&self, i: usize) -> PResult<usize> {
        let b = self.b;
        let first = *b.get(i).ok_or(Failure::Stop(i))?;
        if first != b'[' && first != b'{' {
            return Ok(self.scalar(i)?.1);
        }
        let mut depth = 0usize;
        let mut j = i;
        while j < b.len() {
            match b[j] {
                b'[' | b'{' => depth += 1,
                b']' | b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(j + 1);
                    }
                }
                b'"' => {
                    j = self.string(j + 1)?.1;
                    continue;
                }
                _ => {}
            }
            j += 1;
        }
        Err(Failure::Err("Expecting ',' delimiter", b.len()))
    }
}
