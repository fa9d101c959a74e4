//! Which release wrote the run a certificate belongs to: the default release to follow when the
//! caller names none. A certificate carries no version of its own in 0.3.x, but it links to its
//! subject run through `artifacts.events_path` (`runs/<nick>/<ts>/events.jsonl`, relative to
//! the workspace), and that run's `report.json` records `meta.invarlock_version`.

use super::Release;
use crate::pyjson::{parse_with, ParseOptions, Value};

/// Parses leniently (NaN literals, as the real tool writes them); None for anything else.
fn parse(bytes: &[u8]) -> Option<Value> {
    parse_skipping(bytes, &[])
}

fn parse_skipping(bytes: &[u8], skip: &[&[&str]]) -> Option<Value> {
    let text = std::str::from_utf8(bytes).ok()?;
    parse_with(
        text,
        ParseOptions {
            max_depth: super::pyops::PARSE_DEPTH_LIMIT,
            skip,
        },
    )
    .ok()
}

/// Everything of a run report but `meta`, syntax-checked and not built: only
/// `meta.invarlock_version` is read, and a release run's report is megabytes of per-window
/// arrays (building them made `invarlockd verify` in a workspace ~7x slower than without the
/// link).
const REPORT_BULK: &[&[&str]] = &[
    &["evaluation_windows"],
    &["guards"],
    &["metrics"],
    &["data"],
    &["edit"],
    &["artifacts"],
    &["flags"],
    &["context"],
    &["provenance"],
    &["guard_overhead"],
    &["dataset"],
];

/// The subject run directory a certificate names (`artifacts.events_path` without its file
/// name), relative to the workspace; None when absent or not of that shape.
pub fn subject_run_dir(cert: &Value) -> Option<String> {
    let events = cert.pointer(&["artifacts", "events_path"])?.as_str()?;
    let dir = events.strip_suffix("/events.jsonl")?;
    (!dir.is_empty() && !dir.split('/').any(|s| s == ".." || s.is_empty())).then(|| dir.into())
}

/// `meta.invarlock_version` of a report (or of a certificate that carries one).
pub fn recorded_version(doc: &Value) -> Option<&str> {
    doc.pointer(&["meta", "invarlock_version"])?.as_str()
}

/// The InvarLock version behind a certificate: the one it records, else the one its linked
/// subject report records (read through `read_report`, given the report's workspace-relative
/// path). None when neither is known.
pub fn linked_version(
    cert_bytes: &[u8],
    read_report: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Option<String> {
    let cert = parse(cert_bytes)?;
    if let Some(v) = recorded_version(&cert) {
        return Some(v.to_string());
    }
    let dir = subject_run_dir(&cert)?;
    let report = parse_skipping(&read_report(&format!("{dir}/report.json"))?, REPORT_BULK)?;
    recorded_version(&report).map(str::to_string)
}

/// [`linked_version`] when it is a supported release.
pub fn linked_release(
    cert_bytes: &[u8],
    read_report: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Option<Release> {
    linked_version(cert_bytes, read_report)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(version: &'static str) -> impl Fn(&str) -> Option<Vec<u8>> {
        move |p: &str| {
            (p == "runs/q/20261128_204341/report.json").then(|| {
                format!(r#"{{"meta": {{"invarlock_version": "{version}"}}}}"#).into_bytes()
            })
        }
    }

    const CERT: &[u8] =
        br#"{"artifacts": {"events_path": "runs/q/20261128_204341/events.jsonl"}, "x": NaN}"#;

    #[test]
    fn the_linked_reports_supported_version_is_followed() {
        assert_eq!(
            linked_release(CERT, &reader("0.3.12")),
            Some(Release::V0_3_12)
        );
    }

    #[test]
    fn an_unsupported_or_unknown_linked_version_gives_no_release() {
        assert_eq!(linked_release(CERT, &reader("0.5.1")), None);
        assert_eq!(linked_release(CERT, &|_: &str| None), None);
        assert_eq!(linked_release(b"not json", &reader("0.3.12")), None);
    }

    #[test]
    fn a_version_in_the_certificate_itself_wins() {
        let cert = br#"{"meta": {"invarlock_version": "0.4.0"}, "artifacts": {"events_path": "runs/q/20261128_204341/events.jsonl"}}"#;
        assert_eq!(
            linked_release(cert, &reader("0.3.12")),
            Some(Release::V0_4_0)
        );
    }

    #[test]
    fn links_that_climb_out_of_the_workspace_are_ignored() {
        let cert = br#"{"artifacts": {"events_path": "../x/events.jsonl"}}"#;
        assert_eq!(subject_run_dir(&parse(cert).unwrap()), None);
    }

    #[test]
    fn the_linked_reports_bulk_is_not_built_but_still_checked() {
        let big = |tail: &'static str| {
            move |_: &str| {
                Some(
                    format!(
                        r#"{{"meta": {{"invarlock_version": "0.4.0"}}, "evaluation_windows": {{"final": {{"input_ids": [[1, 2, NaN]]}}}}, "guards": [{{"x": 1}}]{tail}}}"#
                    )
                    .into_bytes(),
                )
            }
        };
        assert_eq!(linked_release(CERT, &big("")), Some(Release::V0_4_0));
        // A report that is not JSON (even in a skipped part) gives no version.
        assert_eq!(linked_release(CERT, &big(", \"metrics\": [1,")), None);
    }
}
