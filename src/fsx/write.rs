//! Writing: every file the daemon writes is created with `O_CREAT|O_EXCL|O_NOFOLLOW` under a
//! fresh random name in a directory opened by handle, fsynced, then renamed into place. A
//! symlink planted at any name can therefore never redirect a write, and a reader sees the old
//! file or the new one, never a partial one.

use super::dir::{join, Dir, EntryKind, Stat};
use super::FsError;
use rustix::fs::{AtFlags, Mode, OFlags, RenameFlags};
use std::fs::File;
use std::io::Write;

/// Prefix of the daemon's temporary files; listing code skips such names.
pub const TEMP_FILE_PREFIX: &str = ".invarlockd-tmp";

const CREATE_FLAGS: OFlags = OFlags::WRONLY
    .union(OFlags::CREATE)
    .union(OFlags::EXCL)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

/// A name nobody can predict (so nobody can plant something there first).
pub fn random_name(prefix: &str) -> String {
    let mut b = [0u8; 12];
    // getrandom fails only without any entropy source; a time-based fallback still gives a
    // fresh name, and O_EXCL refuses whatever exists.
    if getrandom::fill(&mut b).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        b[..12].copy_from_slice(&t.to_le_bytes()[..12]);
    }
    format!("{prefix}{}", hex::encode(b))
}

impl Dir {
    /// Creates the new file `name` (refusing anything already there, symlinks included),
    /// writes it through `fill`, and fsyncs it.
    pub fn create_new_with(
        &self,
        name: &str,
        mode: u32,
        fill: impl FnOnce(&mut File) -> std::io::Result<()>,
    ) -> Result<(), FsError> {
        let label = join(&self.label, name);
        let fd = rustix::fs::openat(&self.fd, name, CREATE_FLAGS, Mode::from_raw_mode(mode))
            .map_err(|e| FsError::from_open(&label, e))?;
        let mut f = File::from(fd);
        fill(&mut f)
            .and_then(|()| f.sync_all())
            .map_err(|e| FsError::io(&label, e))
    }

    /// Creates the new file `name` holding `bytes` (see [`Dir::create_new_with`]).
    pub fn create_new(&self, name: &str, bytes: &[u8]) -> Result<(), FsError> {
        self.create_new_with(name, 0o644, |f| f.write_all(bytes))
    }

    /// Replaces `name` atomically: a fresh temporary file, fsynced, renamed over `name`. The
    /// temporary file is removed if anything fails (ENOSPC leaves nothing behind).
    pub fn replace_with(
        &self,
        name: &str,
        mode: u32,
        fill: impl FnOnce(&mut File) -> std::io::Result<()>,
    ) -> Result<Stat, FsError> {
        let tmp = random_name(&format!("{TEMP_FILE_PREFIX}-"));
        let result = self.create_new_with(&tmp, mode, fill).and_then(|()| {
            rustix::fs::renameat(&self.fd, tmp.as_str(), &self.fd, name)
                .map_err(|e| FsError::io(&join(&self.label, name), e.into()))
        });
        if let Err(e) = result {
            let _ = rustix::fs::unlinkat(&self.fd, tmp.as_str(), AtFlags::empty());
            return Err(e);
        }
        self.sync()?;
        self.stat(name)
    }

    /// Creates a fresh, empty directory named `<prefix><random>` and opens it.
    pub fn create_temp_dir(&self, prefix: &str) -> Result<(String, Dir), FsError> {
        let name = random_name(prefix);
        rustix::fs::mkdirat(&self.fd, name.as_str(), Mode::from_raw_mode(0o755))
            .map_err(|e| FsError::io(&join(&self.label, &name), e.into()))?;
        let dir = self.open_dir(&name)?;
        Ok((name, dir))
    }

    /// Renames `from` (in this directory) to `to` in `target`, refusing to replace anything
    /// that exists there (an empty directory included).
    pub fn rename_noreplace(&self, from: &str, target: &Dir, to: &str) -> Result<(), FsError> {
        let label = join(&target.label, to);
        match rustix::fs::renameat_with(&self.fd, from, &target.fd, to, RenameFlags::NOREPLACE) {
            Ok(()) => Ok(()),
            Err(rustix::io::Errno::EXIST) | Err(rustix::io::Errno::NOTEMPTY) => Err(FsError::io(
                &label,
                std::io::ErrorKind::AlreadyExists.into(),
            )),
            // A filesystem without RENAME_NOREPLACE: rename(2) still refuses a non-empty
            // directory, and callers check the name is free first.
            Err(rustix::io::Errno::INVAL) => rustix::fs::renameat(&self.fd, from, &target.fd, to)
                .map_err(|e| FsError::from_open(&join(&self.label, from), e)),
            Err(e) => Err(FsError::from_open(&join(&self.label, from), e)),
        }
    }

    /// fsync of the directory itself (makes renames and creations in it durable).
    pub fn sync(&self) -> Result<(), FsError> {
        rustix::fs::fsync(&self.fd).map_err(|e| FsError::io(&self.label, e.into()))
    }
}

/// Removes the daemon's own leftover temporary files (regular files named
/// `.invarlockd-tmp…`) from `dir`; anything else with such a name is left alone.
pub fn clean_temp_files(dir: &Dir) -> Result<usize, FsError> {
    let mut n = 0;
    for e in dir.entries()? {
        let Some(name) = e.name_str() else { continue };
        if name.starts_with(TEMP_FILE_PREFIX) && e.stat.kind == EntryKind::File {
            match dir.remove_file(name) {
                Ok(()) => n += 1,
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(n)
}
