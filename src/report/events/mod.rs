//! events.jsonl (§1.4): streamed line by line, because a single `runner/start` line can hold the
//! whole baseline schedule. Only runner and logger lines are parsed; the rest are counted.

mod big_lines;

use super::digest::logloss_fingerprint;
use crate::pyjson::{decode_utf8, parse, parse_with, ParseOptions, Value};
use big_lines::{big_line, BIG_LINE};
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
mod tests;
