//! Moving an attempt directory to trash and back, by handle (issue 10).
//!
//! `runs/` and the nickname directories below it are opened with `O_NOFOLLOW` through
//! [`crate::fsx`], and the move itself is one `renameat(RENAME_NOREPLACE)` between two open
//! directory handles. A nickname swapped for a symlink between plan and apply is refused rather
//! than followed, so a directory outside the workspace can never be moved into trash (and later
//! purged). If the attempt directory itself is swapped for a symlink after it was checked, the
//! rename moves the link, never what it points to, and a purge removes only the link.
//!
//! Only [`FsError::NotFound`] means absent: a refusal or an I/O error is returned as such.

use crate::config::Workspace;
use crate::fsx::{Dir, EntryKind, FsError};

/// What a move found.
#[derive(Debug, PartialEq, Eq)]
pub enum Moved {
    Moved,
    /// Nothing at the source (a crash after the rename, or the attempt was deleted).
    SourceMissing,
}

fn split(attempt_id: &str) -> (&str, &str) {
    attempt_id.rsplit_once('/').unwrap_or(("", attempt_id))
}

/// `<state>/trash/<plan>/<attempt>`, relative to the state directory.
fn trash_rel(plan_id: &str, attempt_id: &str) -> String {
    format!("trash/{plan_id}/{attempt_id}")
}

/// The entry `name` of `dir` must be a real directory (not a symlink, FIFO, file...).
fn require_dir(dir: &Dir, name: &str) -> Result<Option<()>, FsError> {
    match dir.stat(name) {
        Ok(st) if st.kind == EntryKind::Dir => Ok(Some(())),
        Ok(st) if st.kind == EntryKind::Symlink => Err(crate::fsx::refused(
            FsError::Symlink(format!("{}/{name}", dir.label())),
            "symlink",
        )),
        Ok(st) => Err(FsError::WrongType {
            path: format!("{}/{name}", dir.label()),
            what: st.kind.what(),
            expected: "directory",
        }),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// `runs/<attempt>` → `<state>/trash/<plan>/<attempt>` (one rename on the same filesystem).
pub fn to_trash(ws: &Workspace, plan_id: &str, attempt_id: &str) -> Result<Moved, FsError> {
    let (nick, ts) = split(attempt_id);
    let runs = Dir::open_root(&ws.runs, "runs")?;
    let from = match runs.open_dir(nick) {
        Ok(d) => d,
        Err(e) if e.is_not_found() => return Ok(Moved::SourceMissing),
        Err(e) => return Err(e),
    };
    if require_dir(&from, ts)?.is_none() {
        return Ok(Moved::SourceMissing);
    }
    let to =
        Dir::open_root(&ws.state, "state")?.create_dir_all(&format!("trash/{plan_id}/{nick}"))?;
    from.rename_noreplace(ts, &to, ts)?;
    to.sync()?;
    from.sync()?;
    Ok(Moved::Moved)
}

/// Whether `<state>/trash/<plan>/<attempt>` exists (as anything: it is ours to restore).
pub fn in_trash(ws: &Workspace, plan_id: &str, attempt_id: &str) -> Result<bool, FsError> {
    let state = Dir::open_root(&ws.state, "state")?;
    match state.stat(&trash_rel(plan_id, attempt_id)) {
        Ok(_) => Ok(true),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Where a restore stands for one move, found before anything moves.
#[derive(Debug, PartialEq, Eq)]
pub enum RestoreCheck {
    /// In trash, and its place under `runs/` is free.
    Ready,
    /// Not in trash (never moved, or already back).
    NotInTrash,
    /// In trash, but something is at its place under `runs/` again.
    Occupied,
}

/// Checks one move before a restore: the trash entry must be a directory the daemon put there
/// (a symlink planted in trash is refused, never followed), and `runs/<attempt>` must be free.
pub fn check_restore(
    ws: &Workspace,
    plan_id: &str,
    attempt_id: &str,
) -> Result<RestoreCheck, FsError> {
    let (nick, ts) = split(attempt_id);
    let state = Dir::open_root(&ws.state, "state")?;
    let trash = match state.open_dir(&format!("trash/{plan_id}/{nick}")) {
        Ok(d) => d,
        Err(e) if e.is_not_found() => return Ok(RestoreCheck::NotInTrash),
        Err(e) => return Err(e),
    };
    if require_dir(&trash, ts)?.is_none() {
        return Ok(RestoreCheck::NotInTrash);
    }
    let runs = Dir::open_root(&ws.runs, "runs")?;
    match runs.stat(attempt_id) {
        Ok(_) => Ok(RestoreCheck::Occupied),
        Err(e) if e.is_not_found() => Ok(RestoreCheck::Ready),
        Err(e) => Err(e),
    }
}

/// `<state>/trash/<plan>/<attempt>` → `runs/<attempt>`, refusing to replace anything there
/// (`AlreadyExists`) and to move anything but a directory.
pub fn restore(ws: &Workspace, plan_id: &str, attempt_id: &str) -> Result<Moved, FsError> {
    let (nick, ts) = split(attempt_id);
    let state = Dir::open_root(&ws.state, "state")?;
    let from = match state.open_dir(&format!("trash/{plan_id}/{nick}")) {
        Ok(d) => d,
        Err(e) if e.is_not_found() => return Ok(Moved::SourceMissing),
        Err(e) => return Err(e),
    };
    if require_dir(&from, ts)?.is_none() {
        return Ok(Moved::SourceMissing);
    }
    let to = Dir::open_root(&ws.runs, "runs")?.create_dir_all(nick)?;
    from.rename_noreplace(ts, &to, ts)?;
    to.sync()?;
    from.sync()?;
    Ok(Moved::Moved)
}

/// Removes `<state>/trash/<plan>` and everything below it without following any symlink
/// (std's `remove_dir_all` unlinks links and walks by handle); absent is fine.
pub fn purge(ws: &Workspace, plan_id: &str) -> Result<(), FsError> {
    let state = Dir::open_root(&ws.state, "state")?;
    let rel = format!("trash/{plan_id}");
    match state.stat(&rel) {
        Ok(_) => {}
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e),
    }
    match std::fs::remove_dir_all(ws.state.join(&rel)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(FsError::Io {
            path: format!("state/{rel}"),
            source: e,
        }),
    }
}
