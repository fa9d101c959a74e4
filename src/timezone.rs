//! Attempt directory names are local wall-clock time without a zone; the API also gives them
//! in UTC using the configured zone.

use chrono::{DateTime, FixedOffset, Local, NaiveDateTime, TimeZone as _, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeZone {
    Local,
    Fixed(FixedOffset),
}

impl TimeZone {
    /// `local`, `UTC`/`Z`, or an offset `+HH:MM` / `-HH:MM`.
    pub fn parse(s: &str) -> Option<TimeZone> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("local") {
            return Some(TimeZone::Local);
        }
        if s.eq_ignore_ascii_case("utc") || s == "Z" {
            return FixedOffset::east_opt(0).map(TimeZone::Fixed);
        }
        let (sign, rest) = match s.as_bytes().first()? {
            b'+' => (1, &s[1..]),
            b'-' => (-1, &s[1..]),
            _ => return None,
        };
        let (h, m) = rest.split_once(':')?;
        let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
        if !(0..24).contains(&h) || !(0..60).contains(&m) {
            return None;
        }
        FixedOffset::east_opt(sign * (h * 3600 + m * 60)).map(TimeZone::Fixed)
    }

    /// The UTC instant of a local wall-clock time. An ambiguous or skipped local time (DST
    /// changes) takes the earliest valid interpretation rather than failing.
    pub fn to_utc(&self, t: NaiveDateTime) -> DateTime<Utc> {
        match self {
            TimeZone::Local => Local
                .from_local_datetime(&t)
                .earliest()
                .map(|d| d.with_timezone(&Utc))
                .unwrap_or_else(|| Utc.from_utc_datetime(&t)),
            TimeZone::Fixed(off) => off
                .from_local_datetime(&t)
                .earliest()
                .map(|d| d.with_timezone(&Utc))
                .unwrap_or_else(|| Utc.from_utc_datetime(&t)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_offsets_shift_local_names_to_utc() {
        let tz = TimeZone::parse("+02:00").unwrap();
        let t = NaiveDateTime::parse_from_str("20261128_204141", "%Y%m%d_%H%M%S").unwrap();
        assert_eq!(tz.to_utc(t).to_rfc3339(), "2026-11-28T18:41:41+00:00");
        assert!(TimeZone::parse("Mars/Olympus").is_none());
        assert!(TimeZone::parse("+25:00").is_none());
    }
}
