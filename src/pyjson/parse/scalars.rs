//! Scalars and object keys: literals, numbers and strings, with the C scanner's errors.

use super::{Failure, PResult, Parser};
use crate::pyjson::value::Value;

impl Parser<'_> {
    /// Reads `"key"  :  ` at i; returns the key and the position of the value.
    pub(super) fn key(&self, i: usize) -> PResult<(String, usize)> {
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

    pub(super) fn lit(&self, i: usize, word: &str) -> bool {
        self.b[i..].starts_with(word.as_bytes())
    }

    pub(super) fn scalar(&self, i: usize) -> PResult<(Value, usize)> {
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
    pub(super) fn number(&self, start: usize) -> PResult<(Value, usize)> {
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
    pub(super) fn string(&self, i: usize) -> PResult<(String, usize)> {
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

    pub(super) fn hex4(&self, at: usize, escape_at: usize) -> PResult<u32> {
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
}
