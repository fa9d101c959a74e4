//! Writing an archive directory under `reports/` atomically and immutably: build it in a
//! temporary directory inside `reports/` (same filesystem), fsync every file and the directory,
//! then rename it into place. A crash leaves only a temporary directory, removed at start.

use super::name::{PromotionName, TEMP_PREFIX};
use crate::domain::Sha256;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("reports/{0} already exists with different content")]
    Conflict(String),
    #[error("i/o on {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ArchiveError + '_ {
    move |source| ArchiveError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One evidence file of an archive, with its exact bytes.
pub struct EvidenceFile {
    pub name: &'static str,
    pub bytes: Vec<u8>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    Created,
    /// The directory already holds byte-identical evidence; nothing was written.
    AlreadyIdentical,
}

/// Creates `reports/<name>/` with `files` plus `metadata.json`. An existing directory with the
/// same evidence bytes is accepted as-is (idempotent); any difference is a conflict.
pub fn write_archive(
    reports: &Path,
    name: &PromotionName,
    files: &[EvidenceFile],
    metadata: &[u8],
) -> Result<Written, ArchiveError> {
    let target = reports.join(name.as_str());
    if target.symlink_metadata().is_ok() {
        return match same_evidence(&target, files)? {
            true => Ok(Written::AlreadyIdentical),
            false => Err(ArchiveError::Conflict(name.to_string())),
        };
    }
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = reports.join(format!(
        "{TEMP_PREFIX}{}-{}-{seq}",
        name,
        std::process::id()
    ));
    fs::create_dir(&tmp).map_err(io_err(&tmp))?;
    let result = (|| {
        for f in files {
            write_synced(&tmp.join(f.name), &f.bytes)?;
        }
        write_synced(&tmp.join("metadata.json"), metadata)?;
        sync_dir(&tmp)?;
        test_hooks::delay_before_rename();
        // rename(2) refuses a non-empty target, so a racing writer can never be overwritten.
        fs::rename(&tmp, &target).map_err(|e| {
            if target.exists() {
                ArchiveError::Conflict(name.to_string())
            } else {
                ArchiveError::Io {
                    path: target.clone(),
                    source: e,
                }
            }
        })?;
        sync_dir(reports)
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result.map(|()| Written::Created)
}

fn same_evidence(dir: &Path, files: &[EvidenceFile]) -> Result<bool, ArchiveError> {
    for f in files {
        match fs::read(dir.join(f.name)) {
            Ok(existing) => {
                if Sha256::of(&existing) != Sha256::of(&f.bytes) {
                    return Ok(false);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(io_err(&dir.join(f.name))(e)),
        }
    }
    Ok(true)
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), ArchiveError> {
    let mut f = File::create_new(path).map_err(io_err(path))?;
    f.write_all(bytes).map_err(io_err(path))?;
    f.sync_all().map_err(io_err(path))
}

pub fn sync_dir(dir: &Path) -> Result<(), ArchiveError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
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
            write_archive(dir.path(), &name, &files(b"{}"), b"{\"m\":1}").unwrap(),
            Written::Created
        );
        assert_eq!(fs::read(dir.path().join("q8/report.json")).unwrap(), b"{}");
        assert_eq!(
            fs::read(dir.path().join("q8/metadata.json")).unwrap(),
            b"{\"m\":1}"
        );
        assert_eq!(
            write_archive(dir.path(), &name, &files(b"{}"), b"{\"m\":2}").unwrap(),
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
        write_archive(dir.path(), &name, &files(b"{}"), b"{}").unwrap();
        let err = write_archive(dir.path(), &name, &files(b"{\"x\":1}"), b"{}").unwrap_err();
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
