//! Paths given by clients are untrusted: they must stay inside the workspace, also after
//! following symlinks.

use std::path::{Path, PathBuf};

/// Resolves `given` (relative to the workspace root, or absolute) to a regular file inside the
/// workspace. Refuses NUL, paths that leave the workspace, and symlinks that lead out of it.
///
/// The errors never tell what lies outside the workspace: a path that is outside on its face is
/// refused before the filesystem is asked, and every later failure (missing, unreadable, a
/// symlink whose target is outside, existing or not) gets the same answer, so the caller learns
/// neither where a path resolves nor whether something exists there.
pub fn file_in_workspace(root: &Path, given: &str) -> Result<PathBuf, String> {
    if given.is_empty() {
        return Err("path is empty".into());
    }
    if given.contains('\0') {
        return Err("path contains NUL".into());
    }
    let root = root
        .canonicalize()
        .map_err(|_| "the workspace root is not usable".to_string())?;
    let joined = if Path::new(given).is_absolute() {
        PathBuf::from(given)
    } else {
        root.join(given)
    };
    let outside = || format!("{given:?} is not a path inside the workspace");
    if !joined.starts_with(&root)
        || joined
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(outside());
    }
    let not_a_file = || format!("{given:?} is not a regular file inside the workspace");
    let real = joined.canonicalize().map_err(|_| not_a_file())?;
    if !real.starts_with(&root) || !real.is_file() {
        return Err(not_a_file());
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

    #[test]
    fn refusals_say_nothing_about_what_lies_outside_the_workspace() {
        let ws = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let secret = outside.path().join("secret.json");
        std::fs::write(&secret, "{}").unwrap();
        std::os::unix::fs::symlink(&secret, ws.path().join("to_file.json")).unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("absent.json"),
            ws.path().join("dangling.json"),
        )
        .unwrap();
        let out = outside.path().to_str().unwrap();
        // A link to an existing outside file and one to a missing one are told apart by nothing.
        let a = file_in_workspace(ws.path(), "to_file.json").unwrap_err();
        let b = file_in_workspace(ws.path(), "dangling.json").unwrap_err();
        assert_eq!(a.replace("to_file", "X"), b.replace("dangling", "X"));
        for given in [
            secret.to_str().unwrap(),
            "/nonexistent/x.json",
            "../../etc/passwd",
        ] {
            let e = file_in_workspace(ws.path(), given).unwrap_err();
            assert_eq!(e, format!("{given:?} is not a path inside the workspace"));
        }
        for e in [a, b] {
            assert!(!e.contains(out), "{e}");
        }
    }
}
