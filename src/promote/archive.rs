//! Writing an archive directory under `reports/` atomically and immutably: build it in a
//! temporary directory inside `reports/` (same filesystem), fsync every file and the directory,
//! then rename it into place. A crash leaves only a temporary directory, removed at start.

use super::name::{PromotionName, TEMP_PREFIX};
use crate::domain::Sha256;
use crate::fsx::{Dir, FileKind, FsError, Limits};
use std::fs;
use std::io;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("reports/{0} already exists with different content")]
    Conflict(String),
    #[error(transparent)]
    Fs(#[from] FsError),
}

/// One evidence file of an archive, with its exact bytes.
pub struct EvidenceFile {
    pub name: &'static str,
    pub bytes: Vec<u8>,
}

impl EvidenceFile {
    pub fn kind(&self) -> FileKind {
        if self.name.ends_with(".cert.json") {
            FileKind::Certificate
        } else {
            FileKind::Report
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    Created,
    /// The directory already holds byte-identical evidence; nothing was written.
    AlreadyIdentical,
}

/// Creates `reports/<name>/` with `files` plus `metadata.json`. An existing directory with the
/// same evidence bytes is accepted as-is (idempotent); any difference is a conflict. Every
/// file is created `O_EXCL|O_NOFOLLOW` in a fresh random temporary directory opened by
/// handle, fsynced, and the directory is renamed into place without replacing anything.
pub fn write_archive(
    reports_path: &Path,
    name: &PromotionName,
    files: &[EvidenceFile],
    metadata: &[u8],
    limits: &Limits,
) -> Result<Written, ArchiveError> {
    let reports = Dir::open_root(reports_path, "reports")?;
    match same_evidence(&reports, name, files, limits)? {
        Some(true) => return Ok(Written::AlreadyIdentical),
        Some(false) => return Err(ArchiveError::Conflict(name.to_string())),
        None => {}
    }
    let (tmp_name, tmp) = reports.create_temp_dir(&format!("{TEMP_PREFIX}{name}-"))?;
    let result = (|| {
        for f in files {
            tmp.create_new(f.name, &f.bytes)?;
        }
        tmp.create_new("metadata.json", metadata)?;
        tmp.sync()?;
        test_hooks::delay_before_rename();
        match reports.rename_noreplace(&tmp_name, &reports, name.as_str()) {
            Ok(()) => {}
            Err(FsError::Io { source, .. }) if source.kind() == io::ErrorKind::AlreadyExists => {
                return Err(ArchiveError::Conflict(name.to_string()))
            }
            Err(e) => return Err(e.into()),
        }
        reports.sync().map_err(ArchiveError::from)
    })();
    if result.is_err() {
        // Our own random name; remove_dir_all never follows a symlink.
        let _ = fs::remove_dir_all(reports_path.join(&tmp_name));
    }
    result.map(|()| Written::Created)
}

/// `Some(true)`: `reports/<name>` holds these exact evidence bytes; `Some(false)`: something
/// else is there (other bytes, a symlink, a file); `None`: the name is free.
pub fn same_evidence(
    reports: &Dir,
    name: &PromotionName,
    files: &[EvidenceFile],
    limits: &Limits,
) -> Result<Option<bool>, FsError> {
    let dir = match reports.open_dir(name.as_str()) {
        Ok(d) => d,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) if e.is_refusal() => return Ok(Some(false)),
        Err(e) => return Err(e),
    };
    for f in files {
        match dir.read(f.name, f.kind(), limits) {
            Ok(existing) if Sha256::of(&existing) == Sha256::of(&f.bytes) => {}
            Ok(_) => return Ok(Some(false)),
            Err(e) if e.is_not_found() || e.is_refusal() => return Ok(Some(false)),
            Err(e) => return Err(e),
        }
    }
    Ok(Some(true))
}

/// fsync of a directory (makes a rename in it durable).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir).and_then(|d| d.sync_all())
}

/// Removes temporary directories left by a crash mid-promotion. Returns how many were removed.
pub fn clean_leftovers(reports: &Path) -> io::Result<usize> {
    let mut removed = 0;
    let entries = match fs::read_dir(reports) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            fs::remove_dir_all(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// A delay between writing and renaming, to widen the crash window in the SIGKILL test. Read
/// from `INVARLOCKD_TEST_PROMOTE_DELAY_MS`; absent in production.
mod test_hooks {
    pub fn delay_before_rename() {
        if let Some(ms) = std::env::var("INVARLOCKD_TEST_PROMOTE_DELAY_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
        {
            std::thread::sleep(std::time::Duration::from_millis(ms));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Limits = Limits {
        report_bytes: 1 << 20,
        events_bytes: 1 << 20,
        certificate_bytes: 1 << 20,
        metadata_bytes: 1 << 20,
        hashed_file_bytes: 1 << 20,
    };

    fn files(report: &[u8]) -> Vec<EvidenceFile> {
        vec![EvidenceFile {
            name: "report.json",
            bytes: report.to_vec(),
        }]
    }

    #[test]
    fn an_archive_appears_whole_and_the_same_bytes_again_are_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let name = PromotionName::parse("q8").unwrap();
        assert_eq!(
            write_archive(dir.path(), &name, &files(b"{}"), b"{\"m\":1}", &L).unwrap(),
            Written::Created
        );
        assert_eq!(fs::read(dir.path().join("q8/report.json")).unwrap(), b"{}");
        assert_eq!(
            fs::read(dir.path().join("q8/metadata.json")).unwrap(),
            b"{\"m\":1}"
        );
        assert_eq!(
            write_archive(dir.path(), &name, &files(b"{}"), b"{\"m\":2}", &L).unwrap(),
            Written::AlreadyIdentical
        );
        assert_eq!(
            fs::read(dir.path().join("q8/metadata.json")).unwrap(),
            b"{\"m\":1}"
        );
    }

    #[test]
    fn different_bytes_under_an_existing_name_are_a_conflict_and_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let name = PromotionName::parse("q8").unwrap();
        write_archive(dir.path(), &name, &files(b"{}"), b"{}", &L).unwrap();
        let err = write_archive(dir.path(), &name, &files(b"{\"x\":1}"), b"{}", &L).unwrap_err();
        assert!(matches!(err, ArchiveError::Conflict(_)));
        assert_eq!(fs::read(dir.path().join("q8/report.json")).unwrap(), b"{}");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary leftovers"
        );
    }

    #[test]
    fn leftovers_of_a_crash_are_cleaned_and_archives_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(format!("{TEMP_PREFIX}q8-1"))).unwrap();
        fs::create_dir_all(dir.path().join("kept")).unwrap();
        assert_eq!(clean_leftovers(dir.path()).unwrap(), 1);
        assert!(dir.path().join("kept").exists());
    }
}
