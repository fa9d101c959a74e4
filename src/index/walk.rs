//! Walking runs/: attempt directories, convenience copies, everything else `unrecognized`.
//! Directories are walked by handle (`crate::fsx`): a symlink is never followed, whatever it
//! points to, and is listed as unrecognized. A listing error is never an empty directory: it
//! aborts the walk, except a permission refusal on one subtree, whose attempts are then kept
//! in the index as they were (`unlisted`).

use crate::domain::{AttemptTs, Nickname};
use crate::fsx::{Dir, Entry, EntryKind, FsError};
use crate::storage::attempts::UnrecognizedRow;
use std::path::{Path, PathBuf};

/// Prefix of the temporary files invarlockd writes next to convenience copies.
pub const TMP_PREFIX: &str = crate::fsx::TEMP_FILE_PREFIX;
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone)]
pub struct AttemptDir {
    pub id: String,
    pub nickname: String,
    pub ts: AttemptTs,
    /// Absolute path, as recorded in the index; reads go through runs/ by `id`.
    pub path: PathBuf,
}

#[derive(Debug, Default)]
pub struct RunsWalk {
    pub attempts: Vec<AttemptDir>,
    pub unrecognized: Vec<UnrecognizedRow>,
    /// runs/-relative directories that could not be listed (permission): what the index knows
    /// below them is kept, not removed.
    pub unlisted: Vec<String>,
    /// runs/-relative paths of the daemon's own leftover temporary files.
    pub leftovers: Vec<String>,
}

/// A permission refusal limited to one subtree (the walk goes on without it).
fn is_permission(e: &FsError) -> bool {
    match e {
        FsError::Io { source, .. } => {
            source.kind() == std::io::ErrorKind::PermissionDenied
                || matches!(source.raw_os_error(), Some(1 | 13))
        }
        _ => false,
    }
}

fn join(parts: &[String], name: &str) -> String {
    if parts.is_empty() {
        name.to_string()
    } else {
        format!("{}/{name}", parts.join("/"))
    }
}

struct Walker<'a> {
    runs_path: &'a Path,
    out: RunsWalk,
}

/// Walks runs/ (`runs` is its handle, `runs_path` its configured path).
pub fn walk_runs(runs: &Dir, runs_path: &Path) -> Result<RunsWalk, FsError> {
    let mut w = Walker {
        runs_path,
        out: RunsWalk::default(),
    };
    w.visit(runs, &mut Vec::new(), 0)?;
    w.out.attempts.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(w.out)
}

/// Walks one directory below runs/ (for a changed path); same rules as the full walk. A
/// directory that is gone (or is no longer a directory) yields nothing.
pub fn walk_subtree(runs: &Dir, runs_path: &Path, rel: &str) -> Result<RunsWalk, FsError> {
    let mut w = Walker {
        runs_path,
        out: RunsWalk::default(),
    };
    let mut parts: Vec<String> = rel
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    match runs.open_dir(rel) {
        Ok(d) => {
            w.visit(&d, &mut parts, 0)?;
        }
        Err(e) if e.is_not_found() || e.is_refusal() => {}
        Err(e) if is_permission(&e) => w.out.unlisted.push(rel.to_string()),
        Err(e) => return Err(e),
    }
    Ok(w.out)
}

/// Walks one top-level entry `runs/<name>` exactly as the full walk would classify it, so that
/// a refresh can replace the unrecognized rows under it (the entry may be gone: nothing then).
pub fn walk_top(runs: &Dir, runs_path: &Path, name: &str) -> Result<RunsWalk, FsError> {
    let mut w = Walker {
        runs_path,
        out: RunsWalk::default(),
    };
    match runs.stat(name) {
        Ok(stat) => {
            let e = Entry {
                name: name.into(),
                stat,
            };
            w.entry(runs, &e, name.to_string(), &mut Vec::new(), false, 0)?;
        }
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(e),
    }
    Ok(w.out)
}

/// The `format` InvarLock 0.13+ writes into an evidence pack's `manifest.json`.
pub const EVIDENCE_PACK_FORMAT: &str = "invarlock/evidence-pack-v1";

/// Whether `dir` is an InvarLock 0.13+ evidence pack: a `manifest.json` of format
/// `invarlock/evidence-pack-v1` (published with `manifest.signature.json`). Such a directory
/// has no `runs/<ts>` layout and must never be read as attempts or certificates. The manifest
/// is read through fsx (no symlink, regular file, metadata cap).
pub fn is_evidence_pack(dir: &Dir) -> bool {
    dir.read(
        "manifest.json",
        crate::fsx::FileKind::Metadata,
        &crate::fsx::Limits::default(),
    )
    .ok()
    .and_then(|b| {
        crate::pyjson::decode_utf8(&b)
            .ok()
            .and_then(|t| crate::pyjson::parse(t).ok())
    })
    .is_some_and(|v| {
        v.get("format").and_then(crate::pyjson::Value::as_str) == Some(EVIDENCE_PACK_FORMAT)
    })
}

/// The unrecognized row of an evidence pack.
pub fn evidence_pack_row(path: String) -> UnrecognizedRow {
    UnrecognizedRow {
        workspace: String::new(),
        path,
        kind: "evidence_pack".into(),
        reason: format!(
            "unsupported_invarlock_version: InvarLock 0.13+ evidence pack ({EVIDENCE_PACK_FORMAT}); invarlockd reads the runs/ layout of InvarLock {}",
            crate::verify::SUPPORTED_RANGE
        ),
    }
}

impl Walker<'_> {
    fn unrecognized(&mut self, rel: String, kind: &str, reason: &str) {
        self.out.unrecognized.push(UnrecognizedRow {
            workspace: String::new(),
            path: rel,
            kind: kind.into(),
            reason: reason.into(),
        });
    }

    /// Returns the number of attempts found below `dir`.
    fn visit(
        &mut self,
        dir: &Dir,
        parts: &mut Vec<String>,
        depth: usize,
    ) -> Result<usize, FsError> {
        let entries = dir.entries()?;
        let has_attempt_child = !parts.is_empty()
            && entries
                .iter()
                .any(|e| e.name_str().is_some_and(AttemptTs::is_timestamp));
        let mut found = 0;
        for e in &entries {
            let Some(name) = e.name_str().map(str::to_string) else {
                let rel = join(parts, &e.name.to_string_lossy());
                self.unrecognized(rel, "other", "name is not UTF-8");
                continue;
            };
            found += self.entry(dir, e, name, parts, has_attempt_child, depth)?;
        }
        Ok(found)
    }

    /// Classifies one entry of `parent`; returns the attempts found at or below it.
    fn entry(
        &mut self,
        parent: &Dir,
        e: &Entry,
        name: String,
        parts: &mut Vec<String>,
        has_attempt_child: bool,
        depth: usize,
    ) -> Result<usize, FsError> {
        let rel = join(parts, &name);
        if name.starts_with(TMP_PREFIX) {
            if e.stat.kind == EntryKind::File {
                self.out.leftovers.push(rel);
            }
            return Ok(0);
        }
        match e.stat.kind {
            EntryKind::Dir if AttemptTs::is_timestamp(&name) => {
                let nick = parts.join("/");
                match (Nickname::parse(&nick), AttemptTs::parse(&name)) {
                    (Ok(_), Ok(ts)) => {
                        self.out.attempts.push(AttemptDir {
                            path: self.runs_path.join(&rel),
                            id: rel,
                            nickname: nick,
                            ts,
                        });
                        Ok(1)
                    }
                    _ => {
                        self.unrecognized(
                            rel,
                            "dir",
                            "timestamp directory without a valid nickname above it",
                        );
                        Ok(0)
                    }
                }
            }
            EntryKind::Dir => {
                if depth >= MAX_DEPTH {
                    self.unrecognized(rel, "dir", "not descended into (too deep)");
                    return Ok(0);
                }
                let child = match parent.open_dir(&name) {
                    Ok(d) => d,
                    // Gone or swapped for something else since it was listed.
                    Err(e) if e.is_not_found() => return Ok(0),
                    Err(e) if e.is_refusal() => {
                        self.unrecognized(rel, "other", "not a directory any more");
                        return Ok(0);
                    }
                    Err(e) if is_permission(&e) => return Ok(self.unlisted(rel)),
                    Err(e) => return Err(e),
                };
                if is_evidence_pack(&child) {
                    self.out.unrecognized.push(evidence_pack_row(rel));
                    return Ok(0);
                }
                let saved = std::mem::take(&mut self.out.unrecognized);
                parts.push(name);
                let n = self.visit(&child, parts, depth + 1);
                parts.pop();
                let below = std::mem::replace(&mut self.out.unrecognized, saved);
                let n = match n {
                    Ok(n) => n,
                    Err(e) if is_permission(&e) => return Ok(self.unlisted(rel)),
                    Err(e) => return Err(e),
                };
                if n == 0 {
                    self.unrecognized(
                        rel,
                        "dir",
                        "no attempt directory (YYYYMMDD_HHMMSS) below it",
                    );
                    // Evidence packs below stay listed under their own reason.
                    self.out
                        .unrecognized
                        .extend(below.into_iter().filter(|u| u.kind == "evidence_pack"));
                } else {
                    self.out.unrecognized.extend(below);
                }
                Ok(n)
            }
            // The convenience copy runs/<nickname>/report.json: recognized, never an attempt.
            EntryKind::File if name == "report.json" && has_attempt_child => Ok(0),
            EntryKind::File => {
                self.unrecognized(rel, "file", "not part of an attempt directory");
                Ok(0)
            }
            EntryKind::Symlink => {
                self.unrecognized(rel, "other", "symlink (never followed)");
                Ok(0)
            }
            other => {
                let reason = format!("a {} (not part of an attempt directory)", other.what());
                self.unrecognized(rel, "other", &reason);
                Ok(0)
            }
        }
    }

    /// A subtree that cannot be listed: reported, and its indexed attempts kept.
    fn unlisted(&mut self, rel: String) -> usize {
        tracing::warn!(path = %rel, "runs/ subtree cannot be listed (permission); its attempts are kept as indexed");
        self.unrecognized(rel.clone(), "dir", "cannot be listed (permission denied)");
        self.out.unlisted.push(rel);
        // Counted as holding attempts, so its parent is not reported as attempt-less.
        1
    }
}

#[cfg(test)]
mod tests;
