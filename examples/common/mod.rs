//! The benchmark workspace generator shared by `bench_index` and `bench_http`: N attempts whose
//! report.json files are the example workspace's real reports (all of them, cycled; a unique
//! `meta.ts` each), spread over 500 nicknames, one second apart.
//!
//! At most `distinct` report files are written; beyond that, attempts are hard links to them
//! (same bytes, distinct paths), to keep 100k attempts within disk and page cache.

#![allow(dead_code)] // each example uses its own part

use std::path::{Path, PathBuf};

pub mod daemon;

/// Reuses the workspace at `root` when it holds `n` generated attempts (the marker is written
/// last, so a half-generated tree is redone); generates it otherwise. Returns the logical bytes
/// of all report.json files.
pub fn prepare(root: &Path, n: usize, distinct: usize) -> u64 {
    let marker = root.join(".bench-generated");
    match std::fs::read_to_string(&marker) {
        Ok(text) if text.split_whitespace().next() == Some(n.to_string().as_str()) => {
            eprintln!("reusing the {n} attempts generated in {}", root.display());
            text.split_whitespace().nth(1).unwrap().parse().unwrap()
        }
        _ => {
            let _ = std::fs::remove_dir_all(root.join("runs"));
            let _ = std::fs::remove_dir_all(root.join(".invarlockd"));
            let bytes = generate(root, n, distinct);
            std::fs::write(&marker, format!("{n} {bytes}\n")).unwrap();
            bytes
        }
    }
}

/// (report.json, events.jsonl) of every attempt of the example workspace, smallest first.
pub fn templates() -> Vec<(Vec<u8>, Vec<u8>)> {
    let runs = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/workspace/runs");
    let mut out = Vec::new();
    for nick in std::fs::read_dir(&runs).unwrap() {
        let nick = nick.unwrap().path();
        for ts in std::fs::read_dir(&nick).unwrap() {
            let dir = ts.unwrap().path();
            if let (Ok(r), Ok(e)) = (
                std::fs::read(dir.join("report.json")),
                std::fs::read(dir.join("events.jsonl")),
            ) {
                out.push((r, e));
            }
        }
    }
    out.sort_by_key(|(r, _)| r.len());
    out
}

/// Writes N attempts; returns the logical bytes of all report.json files.
pub fn generate(root: &Path, n: usize, distinct: usize) -> u64 {
    let templates = templates();
    let events_dir = root.join(".bench-events");
    std::fs::create_dir_all(&events_dir).unwrap();
    let mut total = 0u64;
    let distinct = n.min(distinct).max(1);
    for i in 0..n {
        let dir = attempt_dir(root, i);
        std::fs::create_dir_all(&dir).unwrap();
        let t = i % templates.len();
        let ev = events_dir.join(format!("{t}.jsonl"));
        if !ev.exists() {
            std::fs::write(&ev, &templates[t].1).unwrap();
        }
        std::fs::hard_link(&ev, dir.join("events.jsonl")).unwrap();
        if i < distinct {
            let report = unique_report(&templates[t].0, i);
            total += report.len() as u64;
            std::fs::write(dir.join("report.json"), report).unwrap();
        } else {
            let src = attempt_dir(root, i % distinct).join("report.json");
            total += std::fs::metadata(&src).unwrap().len();
            std::fs::hard_link(src, dir.join("report.json")).unwrap();
        }
    }
    total
}

/// `runs/bench<i % 500>/<YYYYMMDD_HHMMSS>`: attempt i is i seconds after 2026-01-01 00:00:00.
pub fn attempt_dir(root: &Path, i: usize) -> PathBuf {
    root.join("runs").join(attempt_id(i))
}

pub fn attempt_id(i: usize) -> String {
    let (day, rest) = (i / 86_400, i % 86_400);
    format!(
        "bench{:03}/2026{:02}{:02}_{:02}{:02}{:02}",
        i % 500,
        1 + day / 28,
        1 + day % 28,
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// The template with a unique `meta.ts` of the same length (distinct run_id and sha256).
pub fn unique_report(template: &[u8], i: usize) -> Vec<u8> {
    let text = std::str::from_utf8(template).unwrap();
    let key = "\"ts\": \"";
    let at = text.find(key).expect("meta.ts") + key.len();
    let mut out = text.as_bytes().to_vec();
    let stamp = format!("{i:08}");
    out[at + 11..at + 19].copy_from_slice(stamp.as_bytes());
    out
}

/// Writes attempt `id` below `root/runs` as a live run does: events.jsonl, then report.json
/// (the template made unique by `seq`), whose closing is when the attempt is complete.
pub fn write_live_attempt(root: &Path, id: &str, (report, events): (&[u8], &[u8]), seq: usize) {
    let dir = root.join("runs").join(id);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("events.jsonl"), events).unwrap();
    std::fs::write(dir.join("report.json"), unique_report(report, seq)).unwrap();
}

/// `<nick><i % 10>/<day>_HHMMSS`, the id of the i-th live attempt (one a second).
pub fn live_id(nick: &str, day: &str, i: usize) -> String {
    format!(
        "{nick}{:02}/{day}_{:02}{:02}{:02}",
        i % 10,
        i / 3600,
        i / 60 % 60,
        i % 60
    )
}
