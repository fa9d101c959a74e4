//! The convenience copy `runs/<nickname>/report.json` = the latest `pass` attempt's report,
//! replaced atomically (temp file + rename). Only files invarlockd wrote are ever removed.

use super::IndexError;
use crate::fsx::{Dir, EntryKind, FileKind, FsError, Limits};
use crate::storage::runs::CopyRow;
use crate::storage::Storage;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// (size, mtime) of `runs/<nick>/report.json` if it is a regular file.
fn stamp(runs: &Dir, nick: &str) -> Option<(i64, i64)> {
    let st = runs.stat(&format!("{nick}/report.json")).ok()?;
    (st.kind == EntryKind::File).then_some((st.size as i64, st.mtime_ns))
}

/// Copies `runs/<id>/report.json` to `runs/<nick>/report.json` through a fresh temporary file
/// (`O_EXCL|O_NOFOLLOW`, random name) renamed into place: a symlink planted at any name can
/// never redirect the write, and a failure (ENOSPC) leaves no temporary file behind.
fn write_copy(runs: &Dir, nick: &str, id: &str, l: &Limits) -> Result<(i64, i64), FsError> {
    let mut src = runs
        .open_dir(id)?
        .open_file("report.json", FileKind::Report, l)?;
    let target = runs.open_dir(nick)?;
    let mut copy_err = None;
    let st = target.replace_with("report.json", 0o644, |f| {
        std::io::copy(&mut src, f).map(|_| ()).inspect_err(|e| {
            copy_err = Some(std::io::Error::new(e.kind(), e.to_string()));
        })
    });
    match (st, copy_err) {
        (Ok(st), _) => Ok((st.size as i64, st.mtime_ns)),
        (Err(_), Some(e)) => Err(src.error(e)),
        (Err(e), None) => Err(e),
    }
}

pub async fn maintain(
    store: &Storage,
    runs_root: &Path,
    limits: Limits,
    only: Option<&BTreeSet<String>>,
) -> Result<(), IndexError> {
    let only_list: Option<Vec<String>> = only.map(|o| o.iter().cloned().collect());
    let latest = store.latest_passes(only_list.as_deref()).await?;
    let copies: HashMap<String, CopyRow> = store
        .convenience_copies()
        .await?
        .into_iter()
        .map(|c| (c.nickname.clone(), c))
        .collect();
    let relevant = |n: &str| only.is_none_or(|o| o.contains(n));
    let wanted: Vec<(String, String, String)> = latest
        .iter()
        .filter(|(n, ..)| relevant(n))
        .map(|(n, id, _dir, sha)| (n.clone(), id.clone(), sha.clone()))
        .collect();
    let stale: Vec<CopyRow> = copies
        .values()
        .filter(|c| relevant(&c.nickname) && !latest.iter().any(|(n, ..)| n == &c.nickname))
        .cloned()
        .collect();
    let runs_path = runs_root.to_path_buf();
    let known = copies.clone();
    // Every filesystem call of this step runs on a blocking thread.
    let (written, removed) = tokio::task::spawn_blocking(move || {
        let mut written = Vec::new();
        let mut removed = Vec::new();
        let runs = match Dir::open_root(&runs_path, "runs") {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "cannot open runs/ for convenience copies");
                return (written, removed);
            }
        };
        for (nick, id, sha) in wanted {
            if let Some(c) = known.get(&nick) {
                if c.sha256 == sha && stamp(&runs, &nick) == Some((c.size, c.mtime_ns)) {
                    continue;
                }
            }
            match write_copy(&runs, &nick, &id, &limits) {
                Ok((size, mtime_ns)) => written.push(CopyRow {
                    nickname: nick,
                    source_attempt: id,
                    sha256: sha,
                    size,
                    mtime_ns,
                }),
                Err(e) => {
                    tracing::warn!(nickname = %nick, error = %e, "cannot write the convenience copy")
                }
            }
        }
        for c in stale {
            // Only a file invarlockd wrote (same size and mtime) is removed.
            if stamp(&runs, &c.nickname) == Some((c.size, c.mtime_ns)) {
                if let Ok(d) = runs.open_dir(&c.nickname) {
                    let _ = d.remove_file("report.json");
                }
            }
            removed.push(c.nickname);
        }
        (written, removed)
    })
    .await?;
    store.record_copies(&written, &removed).await?;
    Ok(())
}
