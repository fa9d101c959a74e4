//! Reading one attempt directory (blocking): list, read report.json once, stream events.jsonl,
//! hash everything, derive the status.

mod failures;
mod listing;

use super::walk::AttemptDir;
use crate::fsx::{Dir, EntryKind, FileKind, FsError, Limits};
use crate::report::{
    analyze_report, derive_status, EventsScanner, EventsSummary, ReportState, StatusInputs,
    StatusVerdict,
};
use crate::storage::attempts::{AttemptRow, FileRow};
use crate::timezone::TimeZone;
use failures::{is_permission, refused_report, tolerate};
use listing::list;
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy)]
pub struct ReadCtx<'a> {
    pub tz: TimeZone,
    pub now: SystemTime,
    pub settle: Duration,
    pub stale_after: Duration,
    /// runs/, opened by handle: attempts are opened below it by id, following nothing.
    pub runs: &'a Dir,
    pub limits: &'a Limits,
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
    /// The attempt exists but cannot be read (permission): its index row is kept as it was.
    Unreadable(String),
}

fn since(now: SystemTime, ns: i64) -> Duration {
    let t = UNIX_EPOCH + Duration::from_nanos(ns.max(0) as u64);
    now.duration_since(t).unwrap_or(Duration::ZERO)
}

/// Reads `a` unless its listing digest equals `known` (and its status cannot change by time).
/// `Err` is an I/O error that must abort the scan (the index stays as it was).
pub fn read_attempt(
    a: &AttemptDir,
    known: Option<(&str, &str)>,
    ctx: ReadCtx<'_>,
) -> Result<ReadResult, FsError> {
    // The attempt directory is opened below runs/ by id: a symlink anywhere on the way (the
    // attempt itself or its nickname swapped for a link) means it is not an attempt any more.
    let dir = match ctx.runs.open_dir(&a.id) {
        Ok(d) => d,
        Err(e) if e.is_not_found() || e.is_refusal() => return Ok(ReadResult::Gone),
        Err(e) if is_permission(&e) => return Ok(ReadResult::Unreadable(e.to_string())),
        Err(e) => return Err(e),
    };
    let mut listed = Vec::new();
    match list(&dir, "", &mut listed, 0) {
        Ok(()) => {}
        Err(e) if is_permission(&e) => return Ok(ReadResult::Unreadable(e.to_string())),
        Err(e) => return Err(e),
    }
    listed.sort_by(|x, y| x.name.cmp(&y.name));
    let mut h = Sha256::new();
    for l in &listed {
        h.update(format!("{}\0{}\0{}\n", l.name, l.size, l.mtime_ns).as_bytes());
    }
    let digest = hex::encode(h.finalize());
    if let Some((d, status)) = known {
        if d == digest && status != "running" {
            return Ok(ReadResult::Unchanged);
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
        let mut size = l.size as i64;
        // Only what lstat calls a regular file is opened; the open refuses it again if it was
        // swapped meanwhile.
        let open = |kind| match l.kind {
            EntryKind::File => dir.open_file(&l.name, kind, ctx.limits),
            other => Err(crate::fsx::refused(
                FsError::WrongType {
                    path: format!("{}/{}", a.id, l.name),
                    what: other.what(),
                    expected: "regular file",
                },
                other.what(),
            )),
        };
        let sha = if l.name == "report.json" {
            let read = open(FileKind::Report).and_then(|f| f.read_all());
            match read {
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
                Err(e) if e.is_refusal() => {
                    // What the file is (a symlink, a FIFO, over the cap) will not change by
                    // waiting for it to settle; a replacement is a new event.
                    report_age = Duration::MAX;
                    row.report_size = Some(size);
                    row.report_mtime_ns = Some(l.mtime_ns);
                    analysis = Some(refused_report(&e));
                    None
                }
                Err(e) => match tolerate(e) {
                    Ok(()) => None,
                    Err(stop) => return stop.into_result(),
                },
            }
        } else if l.name == "events.jsonl" {
            let read = open(FileKind::Events)
                .and_then(|mut f| EventsScanner::read_from(&mut f).map_err(|e| f.error(e)));
            match read {
                Ok(sum) => {
                    let sha = sum.sha256.clone();
                    size = sum.size as i64;
                    row.events_size = Some(size);
                    row.events_mtime_ns = Some(l.mtime_ns);
                    events = Some(sum);
                    Some(sha)
                }
                Err(e) => match tolerate(e) {
                    Ok(()) => None,
                    Err(stop) => return stop.into_result(),
                },
            }
        } else {
            // Over limits.hashed_file_bytes: listed with its size, unhashed.
            match open(FileKind::Other).and_then(|f| f.sha256()) {
                Ok((sha, _)) => Some(sha),
                Err(e) => match tolerate(e) {
                    Ok(()) => None,
                    Err(stop) => return stop.into_result(),
                },
            }
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
    Ok(ReadResult::Read(Box::new(ReadAttempt {
        row,
        files,
        recheck_after: verdict.recheck_after,
    })))
}
