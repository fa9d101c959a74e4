//! The workspace `.gitignore` keeps scratch and daemon state out of version control, so that
//! `reports/` can be committed as it is.

use crate::fsx::{Dir, FileKind, FsError, Limits};
use std::io::Write;
use std::path::Path;

pub const IGNORED: [&str; 3] = ["runs/", "reports_*/", ".invarlockd/"];

/// Adds whichever of [`IGNORED`] the workspace `.gitignore` lacks; never removes a line. The
/// file is read by handle (a symlink, FIFO or over-size file is refused, never written
/// through) and replaced atomically with its old content plus the missing lines.
pub fn ensure(root: &Path) -> Result<(), FsError> {
    let dir = Dir::open_root(root, "")?;
    let (existing, mode) = match dir.open_file(".gitignore", FileKind::Metadata, &Limits::default())
    {
        Ok(f) => {
            let mode = f.mode();
            (String::from_utf8_lossy(&f.read_all()?).into_owned(), mode)
        }
        Err(e) if e.is_not_found() => (String::new(), 0o644),
        Err(e) => return Err(e),
    };
    let have: Vec<&str> = existing.lines().map(str::trim).collect();
    let missing: Vec<&str> = IGNORED
        .into_iter()
        .filter(|p| !have.contains(p) && !have.contains(&p.trim_end_matches('/')))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    dir.replace_with(".gitignore", mode, |f| {
        f.write_all(existing.as_bytes())?;
        if !existing.is_empty() && !existing.ends_with('\n') {
            f.write_all(b"\n")?;
        }
        if existing.is_empty() {
            f.write_all(
                b"# written by invarlockd: scratch runs and daemon state stay out of git\n",
            )?;
        }
        for m in missing {
            writeln!(f, "{m}")?;
        }
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_entries_are_appended_once_and_user_lines_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".gitignore"), "*.tmp\nruns\n").unwrap();
        ensure(dir.path()).unwrap();
        ensure(dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join(".gitignore")).unwrap();
        assert_eq!(text, "*.tmp\nruns\nreports_*/\n.invarlockd/\n");
    }

    #[test]
    fn a_symlinked_gitignore_is_refused_and_its_target_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("victim"), "keep\n").unwrap();
        std::os::unix::fs::symlink(outside.path().join("victim"), dir.path().join(".gitignore"))
            .unwrap();
        assert!(ensure(dir.path()).unwrap_err().is_refusal());
        assert_eq!(
            std::fs::read_to_string(outside.path().join("victim")).unwrap(),
            "keep\n"
        );
    }
}
