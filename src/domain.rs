//! Identities of the domain, parsed once at the boundary ("parse, don't validate").

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use std::fmt;

mod workspace;
pub use workspace::WorkspaceId;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("invalid nickname {0:?}: {1}")]
    Nickname(String, String),
    #[error("invalid attempt timestamp {0:?}: expected YYYYMMDD_HHMMSS")]
    Timestamp(String),
    #[error("invalid attempt id {0:?}: expected <nickname>/<YYYYMMDD_HHMMSS>")]
    AttemptId(String),
    #[error("invalid sha256 {0:?}: expected 64 hex digits")]
    Sha256(String),
    #[error("invalid workspace id {0:?}: {1}")]
    Workspace(String, String),
}

/// The `--out` path of a run below `runs/`; may contain `/` (`team/quant8`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Nickname(String);

/// Why a name people will read (a nickname, a promotion name) cannot be one: empty or only
/// whitespace, whitespace at either end, or a Unicode control, format or line/paragraph
/// separator character (Cc, Cf, Zl, Zp: bidi overrides U+202A–202E and U+2066–2069, zero-width
/// characters, NUL, newlines), which make one name display as another.
pub fn name_text_problem(s: &str) -> Option<String> {
    use unicode_properties::{GeneralCategory as G, UnicodeGeneralCategory};
    if s.trim().is_empty() {
        return Some("empty or only whitespace".into());
    }
    if s.trim() != s {
        return Some("leading or trailing whitespace".into());
    }
    let bad = s.chars().find(|c| {
        matches!(
            c.general_category(),
            G::Control | G::Format | G::LineSeparator | G::ParagraphSeparator
        )
    })?;
    Some(format!(
        "contains U+{:04X}, a control or format character (invisible, or reorders what is shown)",
        bad as u32
    ))
}

impl Nickname {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let bad = |why: &str| Err(DomainError::Nickname(s.to_string(), why.to_string()));
        if s.is_empty() {
            return bad("empty");
        }
        if s.len() > 512 {
            return bad("longer than 512 bytes");
        }
        if s.contains('\0') || s.contains('\\') {
            return bad("contains NUL or backslash");
        }
        if s.starts_with('/') || s.ends_with('/') {
            return bad("leading or trailing '/'");
        }
        for seg in s.split('/') {
            if seg.is_empty() || seg == "." || seg == ".." {
                return bad("empty, '.' or '..' path segment");
            }
            if let Some(why) = name_text_problem(seg) {
                return bad(&format!("a path segment has {why}"));
            }
        }
        Ok(Nickname(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Nickname {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Nickname::parse(&s)
    }
}

impl From<Nickname> for String {
    fn from(n: Nickname) -> String {
        n.0
    }
}

impl fmt::Display for Nickname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The `YYYYMMDD_HHMMSS` directory name of an attempt (local time of the run, no zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AttemptTs(NaiveDateTime);

impl AttemptTs {
    pub const FORMAT: &'static str = "%Y%m%d_%H%M%S";

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        // chrono accepts variable-width fields; the directory name is exactly 15 characters.
        let shape_ok = s.len() == 15
            && s.bytes().enumerate().all(|(i, c)| {
                if i == 8 {
                    c == b'_'
                } else {
                    c.is_ascii_digit()
                }
            });
        if !shape_ok {
            return Err(DomainError::Timestamp(s.to_string()));
        }
        NaiveDateTime::parse_from_str(s, Self::FORMAT)
            .map(AttemptTs)
            .map_err(|_| DomainError::Timestamp(s.to_string()))
    }

    pub fn is_timestamp(s: &str) -> bool {
        Self::parse(s).is_ok()
    }

    pub fn naive(&self) -> NaiveDateTime {
        self.0
    }
}

impl fmt::Display for AttemptTs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format(Self::FORMAT))
    }
}

/// `<nickname>/<YYYYMMDD_HHMMSS>`: the last segment that is a timestamp ends the nickname.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AttemptId {
    pub nickname: Nickname,
    pub ts: AttemptTs,
}

impl AttemptId {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let (nick, ts) = s
            .rsplit_once('/')
            .ok_or_else(|| DomainError::AttemptId(s.to_string()))?;
        Ok(AttemptId {
            nickname: Nickname::parse(nick)?,
            ts: AttemptTs::parse(ts)?,
        })
    }
}

impl fmt::Display for AttemptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.nickname, self.ts)
    }
}

impl Serialize for AttemptId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AttemptId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        AttemptId::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A SHA-256 digest, shown as lowercase hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256(pub [u8; 32]);

impl Sha256 {
    pub fn of(bytes: &[u8]) -> Self {
        use sha2::Digest;
        Sha256(sha2::Sha256::digest(bytes).into())
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| DomainError::Sha256(s.to_string()))?;
        Ok(Sha256(out))
    }

    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl Serialize for Sha256 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_nicknames_end_at_the_last_timestamp_segment() {
        let id = AttemptId::parse("team/quant8/20261128_204141").unwrap();
        assert_eq!(id.nickname.as_str(), "team/quant8");
        assert_eq!(id.ts.to_string(), "20261128_204141");
        assert_eq!(id.to_string(), "team/quant8/20261128_204141");
    }

    #[test]
    fn nicknames_reject_traversal_and_odd_bytes() {
        for bad in [
            "", "..", "a/../b", "/abs", "a/", "a//b", "a\0b", "a\\b", "./a",
        ] {
            assert!(Nickname::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn nicknames_refuse_invisible_and_reordering_characters_and_outer_whitespace() {
        for bad in [
            "evil\u{202e}gnp",
            "a\u{2066}b",
            "zero\u{200b}width",
            "bom\u{feff}",
            " ",
            "a/ b",
            "a /b",
            "tab\t",
            "\u{2028}",
            "a/\u{85}",
        ] {
            assert!(Nickname::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(Nickname::parse("team/quant 8").is_ok());
        assert!(Nickname::parse("équipe/量子化").is_ok());
    }

    #[test]
    fn timestamps_must_be_exact_and_valid_dates() {
        assert!(AttemptTs::is_timestamp("20261128_204141"));
        for bad in [
            "2026112_204141",
            "20261328_204141",
            "20261128-204141",
            "20261128_2041410",
            "2026112a_204141",
        ] {
            assert!(!AttemptTs::is_timestamp(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn sha256_round_trips_through_hex() {
        let d = Sha256::of(b"abc");
        assert_eq!(
            d.hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(Sha256::parse(&d.hex()).unwrap(), d);
        assert!(Sha256::parse("xyz").is_err());
    }
}
