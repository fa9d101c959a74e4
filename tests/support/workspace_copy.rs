//! The sample workspace shipped in the repo and the plain recursive copy the suites make of it.
#![allow(dead_code)] // each suite uses its own subset

use std::path::{Path, PathBuf};

/// examples/workspace: real InvarLock 0.3.6 artifacts.
pub fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/workspace")
}

/// Copies the regular files and directories below `from` into `to` (created as needed).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// A copy of the sample workspace without its daemon state, plus the empty attempt directory
/// git cannot carry (R08: runs/ci_quant8/20261128_204243).
pub fn corpus_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&sample(), dir.path());
    let _ = std::fs::remove_dir_all(dir.path().join(".invarlockd"));
    std::fs::create_dir_all(dir.path().join("runs/ci_quant8/20261128_204243")).unwrap();
    dir
}
