//! Paths given by clients are untrusted: they must name a regular file inside the workspace,
//! reached without following any symlink.
//!
//! The errors never tell what lies outside the workspace: a path that is outside on its face is
//! refused before the filesystem is asked, and every later failure (missing, unreadable, a
//! symlink, whatever it points to) gets the same answer, so the caller learns neither where a
//! path resolves nor whether something exists there.

use crate::fsx::{Dir, FileKind, FsError, Limits};
use std::path::{Component, Path};

/// Turns `given` (relative to the workspace root, or absolute below it) into a
/// workspace-relative path. Refuses NUL, `..`, and absolute paths elsewhere.
pub fn relative_in_workspace(root: &Path, given: &str) -> Result<String, String> {
    if given.is_empty() {
        return Err("path is empty".into());
    }
    if given.contains('\0') {
        return Err("path contains NUL".into());
    }
    let outside = || format!("{given:?} is not a path inside the workspace");
    let p = Path::new(given);
    let rel = if p.is_absolute() {
        let canonical = root.canonicalize().ok();
        p.strip_prefix(root)
            .ok()
            .or_else(|| canonical.as_deref().and_then(|c| p.strip_prefix(c).ok()))
            .ok_or_else(outside)?
    } else {
        p
    };
    if rel.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(outside());
    }
    Ok(rel.to_string_lossy().into_owned())
}

/// Reads the certificate at `given` through the workspace root's handle: no symlink is
/// followed, only a regular file within `limits.certificate_bytes` is read.
pub fn read_certificate(root: &Path, given: &str, limits: &Limits) -> Result<Vec<u8>, String> {
    let rel = relative_in_workspace(root, given)?;
    let not_a_file = || format!("{given:?} is not a regular file inside the workspace");
    let dir =
        Dir::open_root(root, "").map_err(|_| "the workspace root is not usable".to_string())?;
    dir.read(&rel, FileKind::Certificate, limits)
        .map_err(|e| match e {
            e @ FsError::TooLarge { .. } => e.to_string(),
            _ => not_a_file(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_leaving_the_workspace_directly_or_through_symlinks_are_refused() {
        let ws = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let l = Limits::default();
        std::fs::write(outside.path().join("cert.json"), "{}").unwrap();
        std::fs::create_dir_all(ws.path().join("reports/x")).unwrap();
        std::fs::write(ws.path().join("reports/x/cert.json"), "{}").unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("cert.json"),
            ws.path().join("reports/x/link.json"),
        )
        .unwrap();
        assert!(read_certificate(ws.path(), "reports/x/cert.json", &l).is_ok());
        let abs = ws.path().join("reports/x/cert.json");
        assert!(read_certificate(ws.path(), abs.to_str().unwrap(), &l).is_ok());
        assert!(read_certificate(ws.path(), "reports/x/link.json", &l).is_err());
        assert!(read_certificate(ws.path(), "../etc/passwd", &l).is_err());
        assert!(read_certificate(
            ws.path(),
            outside.path().join("cert.json").to_str().unwrap(),
            &l
        )
        .is_err());
        assert!(read_certificate(ws.path(), "reports/x", &l).is_err());
        assert!(read_certificate(ws.path(), "a\0b", &l).is_err());
    }

    #[test]
    fn refusals_say_nothing_about_what_lies_outside_the_workspace() {
        let ws = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let l = Limits::default();
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
        let a = read_certificate(ws.path(), "to_file.json", &l).unwrap_err();
        let b = read_certificate(ws.path(), "dangling.json", &l).unwrap_err();
        assert_eq!(a.replace("to_file", "X"), b.replace("dangling", "X"));
        for given in [
            secret.to_str().unwrap(),
            "/nonexistent/x.json",
            "../../etc/passwd",
        ] {
            let e = read_certificate(ws.path(), given, &l).unwrap_err();
            assert_eq!(e, format!("{given:?} is not a path inside the workspace"));
        }
        for e in [a, b] {
            assert!(!e.contains(out), "{e}");
        }
    }
}
