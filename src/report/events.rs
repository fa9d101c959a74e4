//! events.jsonl (§1.4): streamed line by line, because a single `runner/start` line can hold the
//! whole baseline schedule. Only runner and logger lines are parsed; the rest are counted.

use super::digest::logloss_fingerprint;
use crate::pyjson::{decode_utf8, parse, parse_with, ParseOptions, Value};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read};

/// Paths inside an event line that can be megabytes and that the index never needs.
const EVENT_SKIP: &[&[&str]] = &[&["data", "context", "pairing_baseline"]];

/// How the last runner execution ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunnerOutcome {
    /// `runner/complete` → `data.status` (`success`, `rollback`); null for `runner/error`.
    pub status: Option<String>,
    /// `runner/error` → `data.error`.
    pub error: Option<String>,
    pub timestamp: Option<String>,
}

/// events.jsonl as the indexer read it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventsSummary {
    #[schema(example = 659556)]
    pub size: u64,
    pub sha256: String,
    pub lines: u64,
    /// Lines that looked like runner/logger events but did not parse (e.g. a partial last line).
    pub unparsed_lines: u64,
    pub sessions: u64,
    /// A `logger/session_start` (or `runner/start`) without a later end or outcome.
    pub session_open: bool,
    /// Outcome of the last runner execution, if the last execution has one.
    pub last_runner: Option<RunnerOutcome>,
    /// sha256(J1(`runner/start` data.context.baseline_eval_windows.final.logloss)), §1.5.
    pub baseline_fp: Option<String>,
    /// `runner/start` data.context.dataset_meta.dataset_hash (the baseline's for paired runs).
    pub dataset_hash: Option<String>,
    pub first_timestamp: Option<String>,
    pub last_timestamp: Option<String>,
}

/// Incremental reader: feed bytes in any chunking, then `finish`.
#[derive(Default)]
pub struct EventsScanner {
    hasher: Sha256,
    partial: Vec<u8>,
    sum: EventsSummary,
    runner_running: bool,
}

fn str_at(v: &Value, path: &[&str]) -> Option<String> {
    v.pointer(path).and_then(Value::as_str).map(str::to_string)
}

impl EventsScanner {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn feed(&mut self, mut chunk: &[u8]) {
        self.hasher.update(chunk);
        self.sum.size += chunk.len() as u64;
        while let Some(nl) = memchr::memchr(b'\n', chunk) {
            if self.partial.is_empty() {
                self.line(&chunk[..nl]);
            } else {
                self.partial.extend_from_slice(&chunk[..nl]);
                let line = std::mem::take(&mut self.partial);
                self.line(&line);
                self.partial = line;
                self.partial.clear();
            }
            chunk = &chunk[nl + 1..];
        }
        self.partial.extend_from_slice(chunk);
    }

    pub fn finish(mut self) -> EventsSummary {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.line(&line);
        }
        self.sum.sha256 = hex::encode(self.hasher.finalize());
        self.sum
    }

    pub fn read_from(mut r: impl Read) -> std::io::Result<EventsSummary> {
        let mut s = EventsScanner::new();
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = r.read(&mut buf)?;
            if n == 0 {
                break;
            }
            s.feed(&buf[..n]);
        }
        Ok(s.finish())
    }

    fn line(&mut self, raw: &[u8]) {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        self.sum.lines += 1;
        // Cheap pre-filter: only runner and logger lines matter, and they are small except
        // runner/start.
        if !(contains(raw, b"\"runner\"") || contains(raw, b"\"logger\"")) {
            return;
        }
        let ev = if raw.len() > BIG_LINE {
            match big_line(raw) {
                Some(ev) => ev,
                None => {
                    self.sum.unparsed_lines += 1;
                    return;
                }
            }
        } else {
            let Ok(text) = decode_utf8(raw) else {
                self.sum.unparsed_lines += 1;
                return;
            };
            let opts = ParseOptions {
                skip: EVENT_SKIP,
                ..ParseOptions::default()
            };
            let Ok(ev) = parse_with(text, opts) else {
                self.sum.unparsed_lines += 1;
                return;
            };
            ev
        };
        let ts = str_at(&ev, &["timestamp"]);
        if self.sum.first_timestamp.is_none() {
            self.sum.first_timestamp = ts.clone();
        }
        if ts.is_some() {
            self.sum.last_timestamp = ts.clone();
        }
        let component = str_at(&ev, &["component"]);
        let op = str_at(&ev, &["operation"]);
        match (component.as_deref(), op.as_deref()) {
            (Some("logger"), Some("session_start")) => {
                self.sum.sessions += 1;
                self.sum.session_open = true;
                self.sum.last_runner = None;
                self.runner_running = false;
            }
            (Some("logger"), Some("session_end")) => {
                self.sum.session_open = false;
            }
            (Some("runner"), Some("start")) => {
                self.runner_running = true;
                self.sum.session_open = true;
                self.sum.last_runner = None;
                if let Some(fp) = ev
                    .pointer(&[
                        "data",
                        "context",
                        "baseline_eval_windows",
                        "final",
                        "logloss",
                    ])
                    .and_then(logloss_fingerprint)
                {
                    self.sum.baseline_fp = Some(fp);
                }
                if let Some(h) = str_at(&ev, &["data", "context", "dataset_meta", "dataset_hash"]) {
                    self.sum.dataset_hash = Some(h);
                }
            }
            (Some("runner"), Some("complete")) => {
                self.runner_running = false;
                self.sum.last_runner = Some(RunnerOutcome {
                    status: Some(str_at(&ev, &["data", "status"]).unwrap_or_default()),
                    error: None,
                    timestamp: ts,
                });
            }
            (Some("runner"), Some("error")) => {
                self.runner_running = false;
                self.sum.last_runner = Some(RunnerOutcome {
                    status: None,
                    error: Some(
                        ev.pointer(&["data", "error"])
                            .map(|v| match v {
                                Value::Str(s) => s.clone(),
                                other => crate::pyjson::dumps(other, crate::pyjson::DumpStyle::J1),
                            })
                            .unwrap_or_else(|| "runner error (no message)".into()),
                    ),
                    timestamp: ts,
                });
            }
            _ => {}
        }
    }
}

/// Lines longer than this (a `runner/start` carrying a whole baseline schedule) are not parsed
/// whole: only the few values the index needs are cut out and parsed.
const BIG_LINE: usize = 16 * 1024;

/// The raw JSON value after the first `"key":` in `line`, found by bracket matching.
fn value_after_key<'a>(line: &'a [u8], key: &str) -> Option<&'a [u8]> {
    let pat = format!("\"{key}\"");
    let at = memchr::memmem::find(line, pat.as_bytes())? + pat.len();
    let mut i = at;
    let ws = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    while i < line.len() && ws(line[i]) {
        i += 1;
    }
    if line.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    while i < line.len() && ws(line[i]) {
        i += 1;
    }
    let start = i;
    let (mut depth, mut in_str, mut esc) = (0usize, false, false);
    while i < line.len() {
        let b = line[i];
        if in_str {
            if esc {
                esc = false;
            } else if b == b'\\' {
                esc = true;
            } else if b == b'"' {
                in_str = false;
                if depth == 0 {
                    return Some(&line[start..=i]);
                }
            }
        } else {
            match b {
                b'"' => in_str = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(&line[start..=i]);
                    }
                }
                b',' if depth == 0 => return Some(&line[start..i]),
                _ => {}
            }
        }
        i += 1;
    }
    None
}

fn parse_slice(b: &[u8]) -> Option<Value> {
    parse(decode_utf8(b).ok()?.trim()).ok()
}

/// A reduced event from a huge line: top-level strings plus the `runner/start` context values
/// the index uses (the first occurrence of each key; InvarLock writes top-level keys first).
fn big_line(raw: &[u8]) -> Option<Value> {
    let mut top = crate::pyjson::Object::new();
    for k in ["timestamp", "component", "operation"] {
        if let Some(v) = value_after_key(raw, k).and_then(parse_slice) {
            top.insert(k.to_string(), v);
        }
    }
    top.get("component")?;
    let mut ctx = crate::pyjson::Object::new();
    for k in ["baseline_eval_windows", "dataset_meta"] {
        if let Some(v) = value_after_key(raw, k).and_then(parse_slice) {
            ctx.insert(k.to_string(), v);
        }
    }
    let mut data = crate::pyjson::Object::new();
    data.insert("context".into(), Value::Object(ctx));
    top.insert("data".into(), Value::Object(data));
    Some(Value::Object(top))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

/// One parsed line of events.jsonl for the API.
#[derive(Debug, Clone, Serialize)]
pub struct EventLine {
    /// 1-based line number in the file.
    pub line: u64,
    pub event: serde_json::Value,
}

/// Lines after line number `after`, at most `limit`; returns whether more lines follow.
/// Lines that are not JSON are returned as `{"unparsed": "<first 512 bytes>"}`.
pub fn read_events_page(
    r: impl Read,
    after: u64,
    limit: usize,
) -> std::io::Result<(Vec<EventLine>, bool)> {
    let mut reader = BufReader::with_capacity(256 * 1024, r);
    let mut buf = Vec::new();
    let mut n = 0u64;
    let mut out = Vec::new();
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            return Ok((out, false));
        }
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        n += 1;
        if n <= after {
            continue;
        }
        if out.len() == limit {
            return Ok((out, true));
        }
        let event = match decode_utf8(line).ok().and_then(|t| parse(t).ok()) {
            Some(v) => v.to_serde(),
            None => {
                let head = String::from_utf8_lossy(&line[..line.len().min(512)]).into_owned();
                serde_json::json!({ "unparsed": head })
            }
        };
        out.push(EventLine { line: n, event });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(component: &str, op: &str, data: &str) -> String {
        format!(
            "{{\"timestamp\": \"2026-11-28T20:41:45\", \"session_id\": \"s\", \"component\": \"{component}\", \"operation\": \"{op}\", \"level\": \"INFO\", \"data\": {data}}}\n"
        )
    }

    #[test]
    fn the_last_runner_outcome_and_session_count_are_found_in_any_chunking() {
        let text = [
            ev("logger", "session_start", "{}"),
            ev("runner", "start", r#"{"context": {"pairing_baseline": {"x": [1,2,3]}, "baseline_eval_windows": {"final": {"logloss": [1.5, NaN]}}, "dataset_meta": {"dataset_hash": "abc"}}}"#),
            ev("eval", "metric", r#"{"runner": 1}"#),
            ev("runner", "complete", r#"{"status": "rollback"}"#),
            ev("logger", "session_end", "{}"),
        ]
        .concat();
        for chunk in [1usize, 7, 4096] {
            let mut s = EventsScanner::new();
            for c in text.as_bytes().chunks(chunk) {
                s.feed(c);
            }
            let sum = s.finish();
            assert_eq!(sum.lines, 5);
            assert_eq!(sum.sessions, 1);
            assert!(!sum.session_open);
            assert_eq!(
                sum.last_runner.as_ref().unwrap().status.as_deref(),
                Some("rollback")
            );
            assert_eq!(sum.dataset_hash.as_deref(), Some("abc"));
            assert!(sum.baseline_fp.is_some());
        }
    }

    #[test]
    fn a_huge_runner_start_line_yields_the_same_facts_as_a_full_parse() {
        let ids = vec!["1"; 40_000].join(", ");
        let ctx = format!(
            r#"{{"context": {{"pairing_baseline": {{"preview": {{"input_ids": [[{ids}]]}}}}, "note": "a \"quoted\" }}", "baseline_eval_windows": {{"final": {{"window_ids": [0], "logloss": [1.25, 2]}}}}, "dataset_meta": {{"dataset_hash": "abc"}}}}}}"#
        );
        let line = ev("runner", "start", &ctx);
        assert!(line.len() > BIG_LINE);
        let big = EventsScanner::read_from(line.as_bytes()).unwrap();
        let small = ev(
            "runner",
            "start",
            r#"{"context": {"baseline_eval_windows": {"final": {"logloss": [1.25, 2]}}, "dataset_meta": {"dataset_hash": "abc"}}}"#,
        );
        let small = EventsScanner::read_from(small.as_bytes()).unwrap();
        assert_eq!(big.unparsed_lines, 0);
        assert_eq!(big.baseline_fp, small.baseline_fp);
        assert!(big.baseline_fp.is_some());
        assert_eq!(big.dataset_hash.as_deref(), Some("abc"));
        assert!(big.session_open);
    }

    #[test]
    fn a_runner_error_is_reported_and_a_new_session_clears_it() {
        let text = [
            ev("logger", "session_start", "{}"),
            ev("runner", "error", r#"{"error": "boom"}"#),
            ev("logger", "session_end", "{}"),
        ]
        .concat();
        let sum = EventsScanner::read_from(text.as_bytes()).unwrap();
        assert_eq!(sum.last_runner.unwrap().error.as_deref(), Some("boom"));
        let more = format!("{text}{}", ev("logger", "session_start", "{}"));
        let sum = EventsScanner::read_from(more.as_bytes()).unwrap();
        assert_eq!(sum.sessions, 2);
        assert!(sum.session_open && sum.last_runner.is_none());
    }

    #[test]
    fn a_truncated_last_line_is_counted_but_not_trusted() {
        let text = format!(
            "{}{{\"component\": \"runner\", \"operation\": \"comp",
            ev("logger", "session_start", "{}")
        );
        let sum = EventsScanner::read_from(text.as_bytes()).unwrap();
        assert_eq!(sum.unparsed_lines, 1);
        assert!(sum.session_open);
    }

    #[test]
    fn events_pages_continue_after_a_line_number() {
        let text = [ev("a", "b", "{}"), "not json\n".into(), ev("c", "d", "{}")].concat();
        let (page, more) = read_events_page(text.as_bytes(), 1, 1).unwrap();
        assert_eq!(page[0].line, 2);
        assert!(page[0].event.get("unparsed").is_some());
        assert!(more);
        let (page, more) = read_events_page(text.as_bytes(), 2, 10).unwrap();
        assert_eq!(page.len(), 1);
        assert!(!more);
    }
}
