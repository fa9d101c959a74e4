//! Names of archived evidence directories under `reports/`.

use crate::domain::AttemptId;
use std::fmt;

/// A directory name directly under `reports/`: one path segment, no traversal, no NUL, at most
/// 200 bytes, and none of the names invarlockd reserves for itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct PromotionName(String);

pub const MAX_NAME_BYTES: usize = 200;
/// Prefix of in-progress promotion directories; never a valid name.
pub const TEMP_PREFIX: &str = ".invarlockd-tmp-";

impl PromotionName {
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err("name is empty".into());
        }
        if s.len() > MAX_NAME_BYTES {
            return Err(format!("name is longer than {MAX_NAME_BYTES} bytes"));
        }
        if s.contains('\0') {
            return Err("name contains NUL".into());
        }
        if s.contains('/') || s.contains('\\') {
            return Err("name must be a single path segment (no '/' or '\\')".into());
        }
        if s == "." || s == ".." || s.contains("..") {
            return Err("name must not contain '..'".into());
        }
        if s.starts_with('.') {
            return Err("name must not start with '.'".into());
        }
        if let Some(why) = crate::domain::name_text_problem(s) {
            return Err(format!("name has {why}"));
        }
        Ok(PromotionName(s.to_string()))
    }

    /// The default name of an attempt's archive: its nickname with `/` turned into `_`.
    pub fn for_nickname(nickname: &str) -> Result<Self, String> {
        PromotionName::parse(&nickname.replace('/', "_"))
    }

    /// `<nickname>_<YYYYMMDDTHHMMZ>` (UTC of the attempt): the name of a further attempt of a
    /// nickname whose default name is taken by another attempt.
    pub fn dated(id: &AttemptId, utc: chrono::DateTime<chrono::Utc>) -> Result<Self, String> {
        let nick = id.nickname.as_str().replace('/', "_");
        PromotionName::parse(&format!("{nick}_{}", utc.format("%Y%m%dT%H%MZ")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PromotionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_separators_nul_and_overlong_names_are_refused() {
        let long = "a".repeat(201);
        for bad in [
            "",
            "..",
            "a/b",
            "../x",
            "/abs",
            "a\0b",
            "a..b",
            ".hidden",
            long.as_str(),
            "a\nb",
            "rel\u{202e}gnp.exe",
            "a\u{200d}b",
            " ",
            " lead",
            "trail ",
            "\u{2067}x",
        ] {
            assert!(PromotionName::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(PromotionName::parse(&"a".repeat(200)).is_ok());
        assert!(PromotionName::parse("rel_quant8-balanced.v2").is_ok());
    }

    #[test]
    fn dated_names_use_the_utc_minute_of_the_attempt() {
        let id = AttemptId::parse("team/q8/20261128_204141").unwrap();
        let utc = chrono::DateTime::parse_from_rfc3339("2026-11-28T20:41:41Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            PromotionName::dated(&id, utc).unwrap().as_str(),
            "team_q8_20261128T2041Z"
        );
    }
}
