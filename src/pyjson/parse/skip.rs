//! Values that are checked but not kept: the skipped paths of `ParseOptions::skip`.

use super::{Failure, Frame, PResult, Parser};

impl Parser<'_> {
    pub(super) fn skip_matches(&self, stack: &[Frame]) -> bool {
        self.opts.skip.iter().any(|rule| {
            rule.len() == stack.len()
                && stack.iter().zip(rule.iter()).all(|(f, k)| match f {
                    Frame::Object(_, key) => key == k,
                    Frame::Array(_) => false,
                })
        })
    }

    /// Skips one value at `i` without building it, checking enough syntax to reject truncated or
    /// garbled input. Returns the end position.
    pub(super) fn skip_value(&self, i: usize) -> PResult<usize> {
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
