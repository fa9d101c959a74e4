//! Walking runs/: attempt directories, convenience copies, everything else `unrecognized`.
//! Symlinks are followed only when their target stays inside the workspace.

use crate::domain::{AttemptTs, Nickname};
use crate::storage::attempts::UnrecognizedRow;
use std::path::{Path, PathBuf};

/// Prefix of the temporary files invarlockd writes next to convenience copies.
pub const TMP_PREFIX: &str = ".invarlockd-tmp";
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone)]
pub struct AttemptDir {
    pub id: String,
    pub nickname: String,
    pub ts: AttemptTs,
    pub path: PathBuf,
}

#[derive(Debug, Default)]
pub struct RunsWalk {
    pub attempts: Vec<AttemptDir>,
    pub unrecognized: Vec<UnrecognizedRow>,
}

/// Canonical directories a symlink may point into.
#[derive(Debug, Clone)]
pub struct Fence {
    roots: Vec<PathBuf>,
}

impl Fence {
    pub fn new(roots: &[&Path]) -> Fence {
        Fence {
            roots: roots
                .iter()
                .filter_map(|r| std::fs::canonicalize(r).ok())
                .collect(),
        }
    }

    /// For a symlink: its canonical target if that stays inside; `None` otherwise (or dangling).
    pub fn resolve(&self, link: &Path) -> Option<PathBuf> {
        let target = std::fs::canonicalize(link).ok()?;
        self.roots
            .iter()
            .any(|r| target.starts_with(r))
            .then_some(target)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Dir,
    File,
    Other,
    Outside,
}

fn kind(path: &Path, fence: &Fence) -> (Kind, bool) {
    let Ok(md) = std::fs::symlink_metadata(path) else {
        return (Kind::Other, false);
    };
    if md.file_type().is_symlink() {
        return match fence.resolve(path).and_then(|t| std::fs::metadata(t).ok()) {
            Some(m) if m.is_dir() => (Kind::Dir, true),
            Some(m) if m.is_file() => (Kind::File, true),
            Some(_) => (Kind::Other, true),
            None => (Kind::Outside, true),
        };
    }
    if md.is_dir() {
        (Kind::Dir, false)
    } else if md.is_file() {
        (Kind::File, false)
    } else {
        (Kind::Other, false)
    }
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .into_owned()
}

/// Walks `runs` (absolute). `label` is how runs/ is named in unrecognized paths.
pub fn walk_runs(runs: &Path, fence: &Fence) -> RunsWalk {
    let mut out = RunsWalk::default();
    if runs.is_dir() {
        visit(runs, runs, &mut Vec::new(), fence, &mut out, 0);
    }
    out.attempts.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// Walks one directory below runs/ (for a changed path); same rules as the full walk.
pub fn walk_subtree(runs: &Path, dir: &Path, fence: &Fence) -> RunsWalk {
    let mut out = RunsWalk::default();
    let Ok(r) = dir.strip_prefix(runs) else {
        return out;
    };
    let mut parts: Vec<String> = r.iter().map(|c| c.to_string_lossy().into_owned()).collect();
    if dir.is_dir() {
        visit(runs, dir, &mut parts, fence, &mut out, 0);
    }
    out
}

/// Walks one top-level entry `runs/<name>` exactly as the full walk would classify it, so that
/// a refresh can replace the unrecognized rows under it (the entry may be gone: nothing then).
pub fn walk_top(runs: &Path, name: &str, fence: &Fence) -> RunsWalk {
    let mut out = RunsWalk::default();
    let path = runs.join(name);
    if std::fs::symlink_metadata(&path).is_ok() {
        entry(
            runs,
            path,
            name.to_string(),
            &mut Vec::new(),
            false,
            fence,
            &mut out,
            0,
        );
    }
    out
}

/// Returns the number of attempts found below `dir`.
fn visit(
    runs: &Path,
    dir: &Path,
    parts: &mut Vec<String>,
    fence: &Fence,
    out: &mut RunsWalk,
    depth: usize,
) -> usize {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut entries: Vec<_> = rd.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    let has_attempt_child = entries
        .iter()
        .any(|e| e.file_name().to_str().is_some_and(AttemptTs::is_timestamp) && !parts.is_empty());
    let mut found = 0;
    for e in entries {
        let path = e.path();
        let Some(name) = e.file_name().to_str().map(str::to_string) else {
            out.unrecognized.push(UnrecognizedRow {
                path: rel(runs, &path),
                kind: "other".into(),
                reason: "name is not UTF-8".into(),
            });
            continue;
        };
        found += entry(
            runs,
            path,
            name,
            parts,
            has_attempt_child,
            fence,
            out,
            depth,
        );
    }
    found
}

/// The `format` InvarLock 0.13+ writes into an evidence pack's `manifest.json`.
pub const EVIDENCE_PACK_FORMAT: &str = "invarlock/evidence-pack-v1";

/// Whether `dir` is an InvarLock 0.13+ evidence pack: a `manifest.json` of format
/// `invarlock/evidence-pack-v1` (published with `manifest.signature.json`). Such a directory
/// has no `runs/<ts>` layout and must never be read as attempts or certificates.
pub fn is_evidence_pack(dir: &Path) -> bool {
    super::evidence::read_small_file(&dir.join("manifest.json"), 16 << 20)
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
        path,
        kind: "evidence_pack".into(),
        reason: format!(
            "unsupported_invarlock_version: InvarLock 0.13+ evidence pack ({EVIDENCE_PACK_FORMAT}); invarlockd reads the runs/ layout of InvarLock {}",
            crate::verify::SUPPORTED_RANGE
        ),
    }
}

/// Classifies one entry of a directory being visited; returns the attempts found at or below it.
#[allow(clippy::too_many_arguments)] // the walk's state, passed down rather than bundled
fn entry(
    runs: &Path,
    path: PathBuf,
    name: String,
    parts: &mut Vec<String>,
    has_attempt_child: bool,
    fence: &Fence,
    out: &mut RunsWalk,
    depth: usize,
) -> usize {
    if name.starts_with(TMP_PREFIX) {
        return 0;
    }
    let (k, via_link) = kind(&path, fence);
    match k {
        Kind::Outside => {
            tracing::debug!(path = %path.display(), "ignoring a symlink that leaves the workspace");
            0
        }
        Kind::Dir if AttemptTs::is_timestamp(&name) => {
            let nick = parts.join("/");
            match (Nickname::parse(&nick), AttemptTs::parse(&name)) {
                (Ok(_), Ok(ts)) => {
                    out.attempts.push(AttemptDir {
                        id: format!("{nick}/{name}"),
                        nickname: nick,
                        ts,
                        path,
                    });
                    1
                }
                _ => {
                    out.unrecognized.push(UnrecognizedRow {
                        path: rel(runs, &path),
                        kind: "dir".into(),
                        reason: "timestamp directory without a valid nickname above it".into(),
                    });
                    0
                }
            }
        }
        Kind::Dir if is_evidence_pack(&path) => {
            out.unrecognized.push(evidence_pack_row(rel(runs, &path)));
            0
        }
        Kind::Dir => {
            if depth >= MAX_DEPTH || (via_link && depth > 0) {
                out.unrecognized.push(UnrecognizedRow {
                    path: rel(runs, &path),
                    kind: "dir".into(),
                    reason: "not descended into (symlink or too deep)".into(),
                });
                return 0;
            }
            let mut sub = RunsWalk::default();
            parts.push(name);
            let n = visit(runs, &path, parts, fence, &mut sub, depth + 1);
            parts.pop();
            out.attempts.extend(sub.attempts);
            if n == 0 {
                out.unrecognized.push(UnrecognizedRow {
                    path: rel(runs, &path),
                    kind: "dir".into(),
                    reason: "no attempt directory (YYYYMMDD_HHMMSS) below it".into(),
                });
                // Evidence packs below stay listed under their own reason.
                out.unrecognized.extend(
                    sub.unrecognized
                        .into_iter()
                        .filter(|u| u.kind == "evidence_pack"),
                );
            } else {
                out.unrecognized.extend(sub.unrecognized);
            }
            n
        }
        Kind::File if name == "report.json" && has_attempt_child => {
            // The convenience copy runs/<nickname>/report.json: recognized, never an attempt.
            0
        }
        Kind::File | Kind::Other => {
            out.unrecognized.push(UnrecognizedRow {
                path: rel(runs, &path),
                kind: if k == Kind::File { "file" } else { "other" }.into(),
                reason: "not part of an attempt directory".into(),
            });
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_nicknames_copies_strays_and_outside_symlinks_are_classified() {
        let ws = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let runs = ws.path().join("runs");
        for d in [
            "team/quant8/20261128_204141",
            "base/20261128_204115",
            "empty/notes",
        ] {
            std::fs::create_dir_all(runs.join(d)).unwrap();
        }
        std::fs::write(runs.join("base/report.json"), "{}").unwrap();
        std::fs::write(runs.join("stray.txt"), "x").unwrap();
        std::fs::create_dir_all(outside.path().join("20261128_000000")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(
            outside.path().join("20261128_000000"),
            runs.join("base/20261128_000000"),
        )
        .unwrap();
        let fence = Fence::new(&[ws.path()]);
        let w = walk_runs(&runs, &fence);
        let ids: Vec<_> = w.attempts.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["base/20261128_204115", "team/quant8/20261128_204141"]);
        let un: Vec<_> = w.unrecognized.iter().map(|u| u.path.as_str()).collect();
        assert_eq!(un, ["empty", "stray.txt"]);
    }

    #[test]
    fn an_evidence_pack_is_unrecognized_with_its_reason_and_never_read_as_attempts() {
        let ws = tempfile::tempdir().unwrap();
        let runs = ws.path().join("runs");
        let pack = runs.join("packs/eval-1");
        // A pack holds runs/{baseline,subject}/report.json, never a timestamp directory; a
        // timestamp-named directory inside must not be taken for an attempt either.
        std::fs::create_dir_all(pack.join("runs/subject")).unwrap();
        std::fs::create_dir_all(pack.join("20261128_204141")).unwrap();
        std::fs::write(
            pack.join("manifest.json"),
            r#"{"format": "invarlock/evidence-pack-v1", "files": {}}"#,
        )
        .unwrap();
        std::fs::write(pack.join("manifest.signature.json"), "{}").unwrap();
        std::fs::create_dir_all(runs.join("base/20261128_204115")).unwrap();
        let w = walk_runs(&runs, &Fence::new(&[ws.path()]));
        let ids: Vec<_> = w.attempts.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["base/20261128_204115"]);
        let un: Vec<_> = w
            .unrecognized
            .iter()
            .map(|u| (u.path.as_str(), u.kind.as_str()))
            .collect();
        assert_eq!(un, [("packs", "dir"), ("packs/eval-1", "evidence_pack")]);
        assert!(w.unrecognized[1].reason.contains("0.3.4 to 0.4.0"));
    }
}
