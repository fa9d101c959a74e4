//! Strict UTF-8 decoding, failing like Python's `bytes.decode`.

use std::fmt;

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
