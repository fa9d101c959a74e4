//! One daemon per workspace: an exclusive `flock` on `<state>/daemon.lock`, held for the life of
//! the process (the kernel drops it when the process dies, even by SIGKILL, so a crash never
//! leaves a stale lock). The file also records the holder's PID and URL: a second daemon names
//! the PID it lost to, and CLI clients inside the workspace find the daemon's address there.

use rustix::fs::{flock, FlockOperation};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

pub const LOCK_FILE: &str = "daemon.lock";

/// What the lock holder wrote into the lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    pub pid: u32,
    /// Where the holder's HTTP API answers; absent while it is still starting.
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another invarlockd (PID {pid}) already holds {path}: one daemon per workspace \
         (stop it first, or talk to it{url})",
        pid = holder.as_ref().map_or("unknown".to_string(), |h| h.pid.to_string()),
        url = holder.as_ref().and_then(|h| h.url.as_deref()).map_or(String::new(), |u| format!(" at {u}"))
    )]
    Held {
        path: String,
        holder: Option<LockInfo>,
    },
    #[error("cannot lock {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// The held lock; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct DaemonLock {
    file: File,
    path: PathBuf,
}

impl DaemonLock {
    /// Takes the lock without waiting and records this process's PID in it.
    pub fn acquire(state_dir: &Path) -> Result<DaemonLock, LockError> {
        let path = state_dir.join(LOCK_FILE);
        let shown = path.display().to_string();
        let io = |source| LockError::Io {
            path: shown.clone(),
            source,
        };
        // No truncation on open: the file may belong to a live holder whose PID we must report.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) => {
                return Err(LockError::Held {
                    path: shown.clone(),
                    holder: read_info(&path),
                })
            }
            Err(e) => return Err(io(e.into())),
        }
        let mut lock = DaemonLock { file, path };
        lock.record(&LockInfo {
            pid: std::process::id(),
            url: None,
        })
        .map_err(io)?;
        Ok(lock)
    }

    /// Rewrites the holder information (e.g. once the listener is bound and the URL known).
    pub fn record(&mut self, info: &LockInfo) -> std::io::Result<()> {
        let text = serde_json::to_string(info).map_err(std::io::Error::other)?;
        self.file.set_len(0)?;
        self.file.rewind()?;
        self.file.write_all(format!("{text}\n").as_bytes())?;
        self.file.sync_data()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// What the lock file says, if it holds a record (the holder may have died since: callers treat
/// it as a hint, e.g. a URL to try).
pub fn read_info(path: &Path) -> Option<LockInfo> {
    let mut text = String::new();
    // The record is one short line; a bigger file is not ours.
    File::open(path)
        .ok()?
        .take(4096)
        .read_to_string(&mut text)
        .ok()?;
    serde_json::from_str(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_state_directory_is_refused_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = DaemonLock::acquire(dir.path()).unwrap();
        first
            .record(&LockInfo {
                pid: std::process::id(),
                url: Some("http://127.0.0.1:1".into()),
            })
            .unwrap();
        let err = DaemonLock::acquire(dir.path()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!("PID {}", std::process::id())),
            "{text}"
        );
        assert!(text.contains("http://127.0.0.1:1"), "{text}");
        drop(first);
        DaemonLock::acquire(dir.path()).expect("released when dropped");
    }

    #[test]
    fn the_lock_file_tells_clients_the_holders_pid_and_url() {
        let dir = tempfile::tempdir().unwrap();
        let mut lock = DaemonLock::acquire(dir.path()).unwrap();
        let info = LockInfo {
            pid: 7,
            url: Some("http://127.0.0.1:8765".into()),
        };
        lock.record(&info).unwrap();
        assert_eq!(read_info(lock.path()), Some(info));
    }
}
