//! The parser's main loop: containers on an explicit stack, one value at a time.

use super::{is_ws, ErrorKind, Failure, Frame, Keep, PResult, ParseError, ParseOptions, Parser};
use crate::pyjson::value::{Object, Value};

impl<'a> Parser<'a> {
    pub(super) fn new(s: &'a str, opts: ParseOptions<'a>, keep: Keep) -> Self {
        Parser {
            s,
            b: s.as_bytes(),
            opts,
            keep,
            values: 0,
        }
    }

    /// Whether a value completed inside `stack` goes into its container.
    pub(super) fn keeps(&self, stack: &[Frame]) -> bool {
        match self.keep {
            Keep::All => true,
            Keep::UnlessRootArray => !matches!(stack.first(), Some(Frame::Array(_))),
            Keep::Nothing => false,
        }
    }

    pub(super) fn document(&mut self) -> Result<Value, ParseError> {
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
    pub(super) fn error(&self, kind: ErrorKind, msg: &str, at: usize) -> ParseError {
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

    pub(super) fn ws(&self, mut i: usize) -> usize {
        while i < self.b.len() && is_ws(self.b[i]) {
            i += 1;
        }
        i
    }

    /// Parses one value starting exactly at `i` (whitespace already skipped).
    pub(super) fn value(&mut self, mut i: usize) -> PResult<(Value, usize)> {
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
}
