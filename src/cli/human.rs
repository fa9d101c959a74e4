//! Summaries for people of the daemon's JSON answers: counts, tables, reasons. Scripts use
//! `--json`, which prints the answer itself; these texts are free to change.

use serde_json::Value;
use std::fmt::Write;

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn n(v: &Value, k: &str) -> u64 {
    v.get(k).and_then(Value::as_u64).unwrap_or(0)
}

fn items<'a>(v: &'a Value, k: &str) -> &'a [Value] {
    v.get(k)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// `1536` → `1.5 KiB`.
pub fn bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = b as f64;
    let mut unit = 0;
    while x >= 1024.0 && unit + 1 < UNITS.len() {
        x /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{b} B")
    } else {
        format!("{x:.1} {}", UNITS[unit])
    }
}

/// Left-aligned columns, two spaces apart; the last column is not padded.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            width[i] = width[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let head: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&head).chain(rows) {
        let last = row.len().saturating_sub(1);
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i == last {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<w$}  ", w = width[i]);
            }
        }
        let _ = writeln!(out, "  {}", line.trim_end());
    }
    out
}

pub fn promotion(v: &Value) -> String {
    let meta = v.get("metadata").unwrap_or(&Value::Null);
    let name = s(v, "name");
    let mut out = if v.get("created").and_then(Value::as_bool) == Some(true) {
        format!(
            "promoted {} into reports/{name}/ ({}",
            s(meta, "source_attempt"),
            s(meta, "kind")
        )
    } else {
        format!(
            "already promoted: reports/{name}/ holds this evidence, nothing written ({}",
            s(meta, "kind")
        )
    };
    let verify = meta.get("verify").unwrap_or(&Value::Null);
    if !verify.is_null() {
        let reason = verify["summary"]["reason"].as_str().unwrap_or("");
        let _ = write!(out, ", verify --profile {}: {reason}", s(verify, "profile"));
    }
    out.push_str(")\n");
    let rows: Vec<Vec<String>> = items(meta, "files")
        .iter()
        .map(|f| {
            vec![
                s(f, "name").to_string(),
                bytes(n(f, "size")),
                s(f, "sha256").to_string(),
            ]
        })
        .collect();
    out.push_str(&table(&["FILE", "SIZE", "SHA256"], &rows));
    if let Some(b) = meta.get("baseline").filter(|b| !b.is_null()) {
        let _ = writeln!(
            out,
            "baseline: {} (from {}, report_hash {})",
            s(b, "name"),
            s(b, "source_attempt"),
            s(b, "report_hash")
        );
    }
    if let Some(b) = v.get("baseline_archived").and_then(Value::as_str) {
        let _ = writeln!(out, "archived the baseline too: reports/{b}/");
    }
    out
}

pub fn check(v: &Value) -> String {
    let checks = items(v, "checks");
    let failed = checks
        .iter()
        .filter(|c| c["ok"] != Value::Bool(true))
        .count();
    let mut out = if v["ok"] == Value::Bool(true) {
        format!(
            "{}: OK, {} checks passed (profile {})\n",
            s(v, "name"),
            checks.len(),
            s(v, "profile")
        )
    } else {
        format!(
            "{}: FAILED, {failed} of {} checks failed (profile {})\n",
            s(v, "name"),
            checks.len(),
            s(v, "profile")
        )
    };
    let rows: Vec<Vec<String>> = checks
        .iter()
        .map(|c| {
            let ok = if c["ok"] == Value::Bool(true) {
                "ok"
            } else {
                "FAIL"
            };
            vec![
                ok.to_string(),
                s(c, "check").to_string(),
                s(c, "file").to_string(),
                s(c, "detail").to_string(),
            ]
        })
        .collect();
    out.push_str(&table(&["", "CHECK", "FILE", "DETAIL"], &rows));
    out
}

pub fn audit_verify(v: &Value) -> String {
    if v["ok"] == Value::Bool(true) {
        format!(
            "audit log: OK, {} entries, hash chain intact\n",
            n(v, "entries")
        )
    } else {
        format!(
            "audit log: BROKEN at entry {} of {}: {}\n",
            v["first_broken"],
            n(v, "entries"),
            s(v, "reason")
        )
    }
}

fn attempt_rows(list: &[Value]) -> Vec<Vec<String>> {
    list.iter()
        .map(|a| {
            vec![
                s(a, "attempt").to_string(),
                s(a, "status").to_string(),
                bytes(n(a, "bytes")),
                s(a, "reason").to_string(),
            ]
        })
        .collect()
}

/// A plan as made by `retention plan`, or as shown (with its state and moves) by `show`,
/// `apply` and `restore`.
pub fn plan(v: &Value) -> String {
    // `plan` answers carry delete/keep at the top; stored plans nest them under `plan`.
    let body = v.get("plan").filter(|p| p.is_object()).unwrap_or(v);
    let totals = body.get("totals").unwrap_or(&Value::Null);
    let id = s(v, "id");
    let state = s(v, "state");
    let count = |k: &str| match n(totals, k) {
        1 => "1 attempt".to_string(),
        c => format!("{c} attempts"),
    };
    let mut out = format!(
        "plan {id} ({state}): delete {} ({}), keep {} ({})\n",
        count("delete_count"),
        bytes(n(totals, "delete_bytes")),
        n(totals, "keep_count"),
        bytes(n(totals, "keep_bytes")),
    );
    let p = v.get("policy").unwrap_or(&Value::Null);
    let _ = writeln!(
        out,
        "policy: keep_last={} keep_within={} failed_keep_within={}",
        p["keep_last"],
        s(p, "keep_within"),
        s(p, "failed_keep_within")
    );
    let header = ["ATTEMPT", "STATUS", "SIZE", "REASON"];
    let delete = items(body, "delete");
    if !delete.is_empty() {
        out.push_str("\ndelete:\n");
        out.push_str(&table(&header, &attempt_rows(delete)));
    }
    let keep = items(body, "keep");
    if !keep.is_empty() {
        out.push_str("\nkeep:\n");
        out.push_str(&table(&header, &attempt_rows(keep)));
    }
    let moves = items(v, "moves");
    if !moves.is_empty() {
        let rows: Vec<Vec<String>> = moves
            .iter()
            .map(|m| {
                vec![
                    s(m, "attempt").to_string(),
                    s(m, "state").to_string(),
                    s(m, "trash").to_string(),
                ]
            })
            .collect();
        out.push_str("\nmoves:\n");
        out.push_str(&table(&["ATTEMPT", "STATE", "TRASH"], &rows));
    }
    match state {
        "planned" if !delete.is_empty() => {
            let _ = write!(
                out,
                "\nnothing changed yet; until {}: invarlockd retention apply {id}\n",
                s(v, "expires_at")
            );
        }
        "planned" => out.push_str("\nnothing to delete under this policy\n"),
        "applied" => {
            let _ = write!(
                out,
                "\nin the trash until purged; to put it back: invarlockd retention restore {id}\n"
            );
        }
        _ => {}
    }
    out
}

pub fn scan(v: &Value, root: &std::path::Path) -> String {
    format!(
        "scanned {} in {} ms\n  attempts      {} ({} read, {} unchanged, {} removed)\n  \
         unrecognized  {}\n  evidence      {} directories, {} files read, {} certificates\n  \
         mappings      {}\n",
        root.display(),
        n(v, "duration"),
        n(v, "attempts_seen"),
        n(v, "parsed"),
        n(v, "unchanged"),
        n(v, "removed"),
        n(v, "unrecognized"),
        n(v, "evidence_dirs"),
        n(v, "evidence_files_read"),
        n(v, "certificates"),
        n(v, "mappings"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sizes_are_given_in_binary_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(68023), "66.4 KiB");
    }

    #[test]
    fn a_plan_lists_what_it_deletes_with_the_reason_and_how_to_apply_it() {
        let v = json!({"id": "rp-1", "state": "planned", "expires_at": "T",
            "policy": {"keep_last": 1, "keep_within": "14days", "failed_keep_within": "0s"},
            "delete": [{"attempt": "n/20260101_000000", "status": "error", "bytes": 2048,
                        "reason": "failed attempt beyond keep_last=1"}],
            "keep": [], "totals": {"delete_count": 1, "delete_bytes": 2048}});
        let text = plan(&v);
        assert!(
            text.starts_with("plan rp-1 (planned): delete 1 attempt (2.0 KiB)"),
            "{text}"
        );
        assert!(
            text.contains("n/20260101_000000  error   2.0 KiB  failed attempt"),
            "{text}"
        );
        assert!(text.contains("invarlockd retention apply rp-1"), "{text}");
    }

    #[test]
    fn a_failed_check_counts_and_names_the_failing_files() {
        let v = json!({"name": "x", "ok": false, "profile": "dev", "checks": [
            {"check": "sha256", "ok": false, "file": "reports/x/report.json", "detail": "differs"},
            {"check": "pairing", "ok": true, "file": "reports/b/report.json", "detail": "fine"}]});
        let text = check(&v);
        assert!(
            text.starts_with("x: FAILED, 1 of 2 checks failed"),
            "{text}"
        );
        assert!(
            text.contains("FAIL  sha256   reports/x/report.json  differs"),
            "{text}"
        );
    }
}
