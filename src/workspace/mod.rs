//! What counts as a workspace, creating one only when asked, and finding one from the current
//! directory the way git finds `.git`. A mistyped `--workspace` must be refused, not turned into
//! a new empty workspace that serves nothing.

pub mod lock;

use crate::config::Workspace;
use std::path::{Path, PathBuf};

pub use lock::{DaemonLock, LockInfo};

/// Name of the daemon's state directory inside a workspace (the marker [`discover`] looks for).
pub const STATE_DIR: &str = ".invarlockd";

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error(
        "{root} does not exist; expected an InvarLock workspace (a directory holding runs/ or \
         reports/). To create one there: invarlockd init {root} (or serve --init)"
    )]
    Missing { root: String },
    #[error(
        "{root} is not an InvarLock workspace: expected {runs} or {reports} (or the daemon state \
         {state}). To make it one: invarlockd init {root} (or serve --init)"
    )]
    NotAWorkspace {
        root: String,
        runs: String,
        reports: String,
        state: String,
    },
    #[error("cannot create {path}: {source}")]
    Create {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Locked(#[from] lock::LockError),
}

/// Refuses a directory that is not a workspace: neither runs/, reports/ nor the state directory.
pub fn check(ws: &Workspace) -> Result<(), WorkspaceError> {
    if !ws.root.is_dir() {
        return Err(WorkspaceError::Missing {
            root: ws.root.display().to_string(),
        });
    }
    if [&ws.runs, &ws.reports, &ws.state]
        .iter()
        .any(|d| d.is_dir())
    {
        return Ok(());
    }
    Err(WorkspaceError::NotAWorkspace {
        root: ws.root.display().to_string(),
        runs: ws.runs.display().to_string(),
        reports: ws.reports.display().to_string(),
        state: ws.state.display().to_string(),
    })
}

/// Creates runs/, reports/ and the state directory; returns the ones that did not exist.
pub fn init(ws: &Workspace) -> Result<Vec<PathBuf>, WorkspaceError> {
    let mut created = Vec::new();
    for dir in [&ws.root, &ws.runs, &ws.reports, &ws.state] {
        if dir.is_dir() {
            continue;
        }
        std::fs::create_dir_all(dir).map_err(|source| WorkspaceError::Create {
            path: dir.display().to_string(),
            source,
        })?;
        if dir != &ws.root {
            created.push(dir.clone());
        }
    }
    Ok(created)
}

/// The result of walking up from a directory: the workspace found, and every directory looked at
/// (so a client that finds no token can say where it looked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    pub found: Option<PathBuf>,
    pub looked: Vec<PathBuf>,
}

/// The nearest of `start` and its ancestors holding a `.invarlockd/` state directory.
pub fn discover(start: &Path) -> Discovery {
    let start = std::path::absolute(start).unwrap_or_else(|_| start.to_path_buf());
    let mut looked = Vec::new();
    for dir in start.ancestors() {
        looked.push(dir.to_path_buf());
        if dir.join(STATE_DIR).is_dir() {
            return Discovery {
                found: Some(dir.to_path_buf()),
                looked,
            };
        }
    }
    Discovery {
        found: None,
        looked,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn ws(root: &Path) -> Workspace {
        let mut cfg = Config::default();
        cfg.workspace.root = root.to_path_buf();
        cfg.workspace()
    }

    #[test]
    fn a_missing_directory_is_refused_and_the_error_says_how_to_create_one() {
        let dir = tempfile::tempdir().unwrap();
        let err = check(&ws(&dir.path().join("wokrspace"))).unwrap_err();
        assert!(matches!(err, WorkspaceError::Missing { .. }));
        assert!(err.to_string().contains("invarlockd init"), "{err}");
        assert!(!dir.path().join("wokrspace").exists(), "nothing created");
    }

    #[test]
    fn a_directory_without_runs_or_reports_is_refused_naming_what_was_expected() {
        let dir = tempfile::tempdir().unwrap();
        let err = check(&ws(dir.path())).unwrap_err().to_string();
        assert!(err.contains("runs") && err.contains("reports"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn init_creates_a_workspace_that_check_then_accepts() {
        let dir = tempfile::tempdir().unwrap();
        let w = ws(&dir.path().join("new"));
        let created = init(&w).unwrap();
        assert_eq!(
            created,
            vec![w.runs.clone(), w.reports.clone(), w.state.clone()]
        );
        check(&w).unwrap();
        assert!(
            init(&w).unwrap().is_empty(),
            "a second init creates nothing"
        );
    }

    #[test]
    fn discovery_walks_up_to_the_nearest_state_directory_and_lists_where_it_looked() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("ws/runs/nick/20260101_000000");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::create_dir_all(dir.path().join("ws/.invarlockd")).unwrap();
        let d = discover(&deep);
        assert_eq!(d.found.as_deref(), Some(dir.path().join("ws").as_path()));
        assert_eq!(d.looked.len(), 4);

        let none = discover(dir.path());
        assert_eq!(none.found, None);
        assert_eq!(none.looked.first().map(PathBuf::as_path), Some(dir.path()));
        assert_eq!(
            none.looked.last().map(PathBuf::as_path),
            Some(Path::new("/"))
        );
    }
}
