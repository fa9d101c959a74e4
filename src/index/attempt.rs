//! Reading one attempt directory (blocking): list, read report.json once, stream events.jsonl,
//! hash everything, derive the status.

use super::walk::{AttemptDir, Fence};
use crate::report::{
    analyze_report, derive_status, EventsScanner, EventsSummary, ReportState, StatusInputs,
    StatusVerdict,
};
use crate::storage::attempts::{AttemptRow, FileRow};
use crate::timezone::TimeZone;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Files larger than this are listed with their size but not hashed.
const HASH_LIMIT: u64 = 256 * 1024 * 1024;

#[derive(Debug, Clone, Copy)]
pub struct ReadCtx<'a> {
    pub tz: TimeZone,
    pub now: SystemTime,
    pub settle: Duration,
    pub stale_after: Duration,
    pub fence: &'a Fence,
}

pub struct ReadAttempt {
    pub row: AttemptRow,
    pub files: Vec<FileRow>,
    pub recheck_after: Option<Duration>,
}

pub enum ReadResult {
    Unchanged,
    Read(Box<ReadAttempt>),
    Gone,
}

struct Listed {
    name: String,
    size: u64,
    mtime_ns: i64,
    symlink: bool,
}

fn mtime_ns(md: &std::fs::Metadata) -> i64 {
    md.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64)
}

fn list(dir: &Path, prefix: &str, out: &mut Vec<Listed>, depth: usize) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = format!("{prefix}{}", e.file_name().to_string_lossy());
        let md = std::fs::symlink_metadata(e.path())?;
        if md.is_dir() && depth < 16 {
            list(&e.path(), &format!("{name}/"), out, depth + 1)?;
        } else if !md.is_dir() {
            out.push(Listed {
                name,
                size: md.len(),
                mtime_ns: mtime_ns(&md),
                symlink: md.file_type().is_symlink(),
            });
        }
    }
    Ok(())
}

fn hash_file(path: &Path) -> Option<String> {
    let mut f = std::fs::File::open(path).ok()?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Some(hex::encode(h.finalize()))
}

fn since(now: SystemTime, ns: i64) -> Duration {
    let t = UNIX_EPOCH + Duration::from_nanos(ns.max(0) as u64);
    now.duration_since(t).unwrap_or(Duration::ZERO)
}

/// Reads `a` unless its listing digest equals `known` (and its status cannot change by time).
pub fn read_attempt(a: &AttemptDir, known: Option<(&str, &str)>, ctx: ReadCtx<'_>) -> ReadResult {
    // The attempt dir itself may be a symlink; only follow it inside the workspace.
    let Ok(md) = std::fs::symlink_metadata(&a.path) else {
        return ReadResult::Gone;
    };
    let dir = if md.file_type().is_symlink() {
        match ctx.fence.resolve(&a.path) {
            Some(t) if t.is_dir() => t,
            _ => return ReadResult::Gone,
        }
    } else if md.is_dir() {
        a.path.clone()
    } else {
        return ReadResult::Gone;
    };
    let mut listed = Vec::new();
    if list(&dir, "", &mut listed, 0).is_err() && !dir.is_dir() {
        return ReadResult::Gone;
    }
    listed.sort_by(|x, y| x.name.cmp(&y.name));
    let mut h = Sha256::new();
    for l in &listed {
        h.update(format!("{}\0{}\0{}\n", l.name, l.size, l.mtime_ns).as_bytes());
    }
    let digest = hex::encode(h.finalize());
    if let Some((d, status)) = known {
        if d == digest && status != "running" {
            return ReadResult::Unchanged;
        }
    }
    let newest = listed.iter().map(|l| l.mtime_ns).max();

    let mut row = AttemptRow {
        id: a.id.clone(),
        nickname: a.nickname.clone(),
        ts: a.ts.to_string(),
        started_at: Some(
            ctx.tz
                .to_utc(a.ts.naive())
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string(),
        ),
        dir: a.path.to_string_lossy().into_owned(),
        listing_digest: digest,
        newest_mtime_ns: newest,
        ..Default::default()
    };
    let mut files = Vec::with_capacity(listed.len());
    let mut analysis = None;
    let mut report_age = Duration::ZERO;
    let mut events: Option<EventsSummary> = None;
    for l in &listed {
        let path = dir.join(&l.name);
        let mut size = l.size as i64;
        let sha = if l.symlink {
            None
        } else if l.name == "report.json" {
            match std::fs::read(&path) {
                Ok(bytes) => {
                    let an = analyze_report(&bytes);
                    // A size change between stat and read means a writer is active: young.
                    report_age = if bytes.len() as u64 == l.size {
                        since(ctx.now, l.mtime_ns)
                    } else {
                        Duration::ZERO
                    };
                    size = bytes.len() as i64;
                    let sha = an.sha256.clone();
                    row.report_size = Some(size);
                    row.report_mtime_ns = Some(l.mtime_ns);
                    row.report_sha256 = Some(sha.clone());
                    analysis = Some(an);
                    Some(sha)
                }
                Err(_) => None,
            }
        } else if l.name == "events.jsonl" {
            match std::fs::File::open(&path).and_then(EventsScanner::read_from) {
                Ok(sum) => {
                    let sha = sum.sha256.clone();
                    size = sum.size as i64;
                    row.events_size = Some(size);
                    row.events_mtime_ns = Some(l.mtime_ns);
                    events = Some(sum);
                    Some(sha)
                }
                Err(_) => None,
            }
        } else if l.size <= HASH_LIMIT {
            hash_file(&path)
        } else {
            None
        };
        files.push(FileRow {
            name: l.name.clone(),
            size,
            mtime_ns: l.mtime_ns,
            sha256: sha,
        });
    }

    let ts_instant: SystemTime = ctx.tz.to_utc(a.ts.naive()).into();
    let newest_activity = match newest {
        Some(ns) => ts_instant.max(UNIX_EPOCH + Duration::from_nanos(ns.max(0) as u64)),
        None => ts_instant,
    };
    let idle = ctx
        .now
        .duration_since(newest_activity)
        .unwrap_or(Duration::ZERO);

    let report_state = match &analysis {
        None => ReportState::Absent,
        Some(an) => match &an.outcome {
            Ok(f) => ReportState::Valid(f),
            Err(reason) => ReportState::Unreadable {
                reason,
                age: report_age,
            },
        },
    };
    let verdict: StatusVerdict = derive_status(StatusInputs {
        report: report_state,
        events: events.as_ref(),
        has_files: !listed.is_empty(),
        idle,
        superseded_by: None,
        settle: ctx.settle,
        stale_after: ctx.stale_after,
    });
    row.status = verdict.status.as_str().to_string();
    row.reason = verdict.reason.clone();

    if let Some(an) = &analysis {
        match &an.outcome {
            Ok(f) => {
                row.report_valid = true;
                row.model_id = f.model_id.clone();
                row.adapter = f.adapter.clone();
                row.edit_name = f.edit_name.clone();
                row.profile = f.profile.clone();
                row.seed = f.seed;
                row.dataset_hash = f.dataset_hash.clone();
                row.preview_hash = f.preview_hash.clone();
                row.final_hash = f.final_hash.clone();
                row.tokenizer_hash = f.tokenizer_hash.clone();
                row.ids_sha256 = f.ids_sha256.clone();
                row.pm_kind = f.pm_kind.clone();
                row.paired = f.paired;
                row.window_pairing_reason = f.window_pairing_reason.clone();
                row.final_logloss_fp = f.final_logloss_fp.clone();
                row.run_id = f.run_id.clone();
                row.report_hash = Some(f.report_hash.clone());
                row.subject_run_id = f.subject_run_id.clone();
                row.subject_report_hash = f.subject_report_hash.clone();
                row.guards_not_passed =
                    Some(serde_json::to_string(&f.guards_not_passed).unwrap_or_default());
                row.overhead_gate_failed = f.overhead_gate_failed;
                row.pm_invalid = f.pm_invalid;
                row.detail = Some(f.detail.to_string());
            }
            Err(reason) => row.report_error = Some(reason.clone()),
        }
    }
    if let Some(ev) = &events {
        row.runner_status = ev.last_runner.as_ref().and_then(|o| o.status.clone());
        row.runner_error = ev.last_runner.as_ref().and_then(|o| o.error.clone());
        row.sessions = Some(ev.sessions as i64);
        row.session_open = ev.session_open;
        row.baseline_fp = ev.baseline_fp.clone();
        row.events_dataset_hash = ev.dataset_hash.clone();
        row.events_summary = serde_json::to_string(ev).ok();
    }
    ReadResult::Read(Box::new(ReadAttempt {
        row,
        files,
        recheck_after: verdict.recheck_after,
    }))
}
