//! The files of one attempt, listed by handle (never following a link).

use crate::fsx::{Dir, EntryKind, FsError};

pub(super) struct Listed {
    pub(super) name: String,
    pub(super) size: u64,
    pub(super) mtime_ns: i64,
    pub(super) kind: EntryKind,
}

/// Lists every file below `dir` (recursively, by handle). Errors propagate: a listing that
/// failed is never taken for an empty one.
pub(super) fn list(
    dir: &Dir,
    prefix: &str,
    out: &mut Vec<Listed>,
    depth: usize,
) -> Result<(), FsError> {
    for e in dir.entries()? {
        let name = format!("{prefix}{}", e.name.to_string_lossy());
        if e.stat.kind == EntryKind::Dir && depth < 16 {
            match dir.open_dir(&e.name.to_string_lossy()) {
                Ok(sub) => list(&sub, &format!("{name}/"), out, depth + 1)?,
                Err(err) if err.is_not_found() => {}
                // Swapped for a symlink or a file since it was listed: listed as it is now.
                Err(err) if err.is_refusal() => out.push(Listed {
                    name,
                    size: 0,
                    mtime_ns: e.stat.mtime_ns,
                    kind: EntryKind::Symlink,
                }),
                Err(err) => return Err(err),
            }
        } else if e.stat.kind != EntryKind::Dir {
            out.push(Listed {
                name,
                size: e.stat.size,
                mtime_ns: e.stat.mtime_ns,
                kind: e.stat.kind,
            });
        }
    }
    Ok(())
}
