//! Paths given by clients are untrusted: they must stay inside the workspace, also after
//! following symlinks.

use std::path::{Path, PathBuf};

/// Resolves `given` (relative to the workspace root, or absolute) to a regular file inside the
/// workspace. Refuses NUL, paths that leave the workspace, and symlinks that lead out of it.
pub fn file_in_workspace(root: &Path, given: &str) -> Result<PathBuf, String> {
    if given.is_empty() {
        return Err("path is empty".into());
    }
    if given.contains('\0') {
        return Err("path contains NUL".into());
    }
    let root = root
        .canonicalize()
        .map_err(|e| format!("workspace root unusable: {e}"))?;
    let joined = if Path::new(given).is_absolute() {
        PathBuf::from(given)
    } else {
        root.join(given)
    };
    let real = joined.canonicalize().map_err(|e| format!("{given}: {e}"))?;
    if !real.starts_with(&root) {
        return Err(format!(
            "{given} is outside the workspace (resolves to {})",
            real.display()
        ));
    }
    if !real.is_file() {
        return Err(format!("{given} is not a regular file"));
    }
    Ok(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_leaving_the_workspace_directly_or_through_symlinks_are_refused() {
        let ws = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("cert.json"), "{}").unwrap();
        std::fs::create_dir_all(ws.path().join("reports/x")).unwrap();
        std::fs::write(ws.path().join("reports/x/cert.json"), "{}").unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("cert.json"),
            ws.path().join("reports/x/link.json"),
        )
        .unwrap();
        assert!(file_in_workspace(ws.path(), "reports/x/cert.json").is_ok());
        assert!(file_in_workspace(ws.path(), "reports/x/link.json").is_err());
        assert!(file_in_workspace(ws.path(), "../etc/passwd").is_err());
        assert!(file_in_workspace(
            ws.path(),
            outside.path().join("cert.json").to_str().unwrap()
        )
        .is_err());
        assert!(file_in_workspace(ws.path(), "reports/x").is_err());
        assert!(file_in_workspace(ws.path(), "a\0b").is_err());
    }
}
