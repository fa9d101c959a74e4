//! Commits owed: before a promotion writes its archives, a small file under
//! `<state>/git/pending/` records which directories it is about to create (name and the sha256
//! of the `metadata.json` that identifies this very promotion). The file is removed once the
//! commit is in the branch and the user's index knows it. A file left by a crash, a held lock or
//! a failing git is worked off at the next start and by the retry loop; committing is
//! idempotent (a commit whose files HEAD already holds is not made), so nothing is committed
//! twice.

use crate::domain::Sha256;
use serde::{Deserialize, Serialize};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PlannedDir {
    pub name: String,
    pub metadata_sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Owed {
    pub archives: Vec<PlannedDir>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A recorded owed commit: its file and content.
#[derive(Debug, Clone)]
pub struct Ticket {
    pub path: PathBuf,
    pub owed: Owed,
}

pub fn dir(state: &Path) -> PathBuf {
    state.join("git").join("pending")
}

/// Records the commit owed for `archives` durably (write, fsync, rename, fsync the directory).
pub fn record(state: &Path, archives: Vec<PlannedDir>) -> io::Result<Ticket> {
    let dir = dir(state);
    std::fs::create_dir_all(&dir)?;
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let now = chrono::Utc::now();
    // Sortable names: owed commits are worked off in promotion order.
    let stem = format!(
        "{}-{}-{seq:06}",
        now.format("%Y%m%dT%H%M%S%.9fZ"),
        std::process::id()
    );
    let owed = Owed {
        archives,
        created_at: now,
    };
    let tmp = dir.join(format!(".{stem}.tmp"));
    let path = dir.join(format!("{stem}.json"));
    {
        let mut f = std::fs::File::create_new(&tmp)?;
        f.write_all(&serde_json::to_vec(&owed).map_err(io::Error::other)?)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    std::fs::File::open(&dir)?.sync_all()?;
    Ok(Ticket { path, owed })
}

/// Every owed commit, oldest first. Unreadable or foreign files are errors, never skipped:
/// they may be owed commits.
pub fn list(state: &Path) -> io::Result<Vec<Ticket>> {
    let dir = dir(state);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // `.…tmp`: a record being written, or one a crash interrupted before its rename (whose
        // promotion wrote nothing yet); removed by `clean_interrupted` at start.
        if name.starts_with('.') || !name.ends_with(".json") {
            continue;
        }
        let bytes = std::fs::read(entry.path())?;
        let owed: Owed = serde_json::from_slice(&bytes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", entry.path().display()),
            )
        })?;
        out.push(Ticket {
            path: entry.path(),
            owed,
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Removes records a crash interrupted before they were complete (start-up only).
pub fn clean_interrupted(state: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir(state)) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with('.') {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

pub fn settle(ticket: &Ticket) -> io::Result<()> {
    match std::fs::remove_file(&ticket.path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Whether `reports/<name>` is the archive this promotion made: its metadata.json has the
/// recorded sha256. Absent means the promotion never got that far (or was undone).
pub fn is_ours(reports: &Path, d: &PlannedDir) -> io::Result<Option<Vec<u8>>> {
    match std::fs::read(reports.join(&d.name).join("metadata.json")) {
        Ok(b) if Sha256::of(&b).hex() == d.metadata_sha256 => Ok(Some(b)),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owed_commits_are_listed_oldest_first_until_settled() {
        let state = tempfile::tempdir().unwrap();
        let a = record(
            state.path(),
            vec![PlannedDir {
                name: "a".into(),
                metadata_sha256: "00".into(),
            }],
        )
        .unwrap();
        let b = record(state.path(), vec![]).unwrap();
        let listed = list(state.path()).unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].owed, a.owed);
        settle(&a).unwrap();
        let listed = list(state.path()).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].owed, b.owed);
    }
}
