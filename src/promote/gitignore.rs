//! The workspace `.gitignore` keeps scratch and daemon state out of version control, so that
//! `reports/` can be committed as it is.

use std::io::Write;
use std::path::Path;

pub const IGNORED: [&str; 3] = ["runs/", "reports_*/", ".invarlockd/"];

/// Appends whichever of [`IGNORED`] the workspace `.gitignore` lacks; never removes a line.
pub fn ensure(root: &Path) -> std::io::Result<()> {
    let path = root.join(".gitignore");
    let existing = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
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
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    if !existing.is_empty() && !existing.ends_with('\n') {
        f.write_all(b"\n")?;
    }
    if existing.is_empty() {
        f.write_all(b"# written by invarlockd: scratch runs and daemon state stay out of git\n")?;
    }
    for m in missing {
        writeln!(f, "{m}")?;
    }
    f.sync_all()
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
}
