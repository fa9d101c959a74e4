//! `invarlockd changelog` for people: one block per promotion commit, newest first.

use serde_json::Value;
use std::fmt::Write;

pub fn changelog(v: &Value) -> String {
    let mut out = String::new();
    if v["repository"] == Value::Bool(false) {
        let _ = writeln!(
            out,
            "no change log: {}",
            v["reason"].as_str().unwrap_or("no git repository")
        );
        return out;
    }
    let items = v["items"].as_array().map_or(&[][..], Vec::as_slice);
    if items.is_empty() {
        out.push_str("no promotion commits under reports/ yet\n");
    }
    for e in items {
        let commit = e["commit"].as_str().unwrap_or("");
        let _ = writeln!(
            out,
            "{}  {}  {}",
            &commit[..commit.len().min(12)],
            e["committed_at"].as_str().unwrap_or(""),
            e["subject"].as_str().unwrap_or("")
        );
        if let Some(c) = e["certificate_sha256"].as_str() {
            let _ = writeln!(out, "    certificate sha256 {c}");
        }
        let _ = writeln!(
            out,
            "    run {}  report {}",
            e["run_id"].as_str().unwrap_or("-"),
            e["report_hash"].as_str().unwrap_or("-")
        );
    }
    if let Some(t) = v["next_page_token"].as_str() {
        let _ = writeln!(out, "more: --page-token {t}");
    }
    out
}
