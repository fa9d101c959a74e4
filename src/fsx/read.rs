//! Opening and reading regular files, bounded by the cap of their kind.

use super::dir::{join, Dir, EntryKind, Stat};
use super::{refused, FileKind, FsError, Limits};
use rustix::fs::{Mode, OFlags};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, Read};

/// `O_NONBLOCK`: opening a FIFO returns at once (and is then refused by `fstat`) instead of
/// waiting for a writer. `O_NOCTTY`: a terminal never becomes the daemon's.
const FILE_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC)
    .union(OFlags::NONBLOCK)
    .union(OFlags::NOCTTY);

/// An open regular file and its `fstat`, readable up to its cap: the first byte past the cap
/// is an error (`FileTooLarge`), so a file growing while it is read is never read beyond it.
#[derive(Debug)]
pub struct Limited {
    file: File,
    pub stat: Stat,
    cap: u64,
    read: u64,
    label: String,
    key: &'static str,
}

impl Dir {
    /// Opens the regular file `rel` below this directory. Refuses symlinks (at any component),
    /// FIFOs, sockets, devices and directories without blocking, and files over the cap of
    /// `kind` without reading them.
    pub fn open_file(&self, rel: &str, kind: FileKind, l: &Limits) -> Result<Limited, FsError> {
        let (parent, name) = self.parent_of(rel)?;
        let base = parent.as_ref().unwrap_or(self);
        let label = join(&self.label, rel);
        let fd = rustix::fs::openat(&base.fd, name, FILE_FLAGS, Mode::empty())
            .map_err(|e| FsError::from_open(&label, e))?;
        let st = rustix::fs::fstat(&fd).map_err(|e| FsError::io(&label, e.into()))?;
        let stat = Stat::from_raw(&st);
        if stat.kind != EntryKind::File {
            let what = stat.kind.what();
            let metric = match stat.kind {
                EntryKind::Fifo => "fifo",
                EntryKind::Socket => "socket",
                EntryKind::Device => "device",
                EntryKind::Dir => "directory",
                _ => "other",
            };
            return Err(refused(
                FsError::WrongType {
                    path: label,
                    what,
                    expected: "regular file",
                },
                metric,
            ));
        }
        let cap = kind.cap(l);
        if stat.size > cap {
            return Err(refused(
                FsError::TooLarge {
                    path: label,
                    size: stat.size,
                    cap,
                    key: kind.key(),
                },
                "too_large",
            ));
        }
        Ok(Limited {
            file: File::from(fd),
            stat,
            cap,
            read: 0,
            label,
            key: kind.key(),
        })
    }

    /// Reads the regular file `rel` whole (at most the cap of `kind`).
    pub fn read(&self, rel: &str, kind: FileKind, l: &Limits) -> Result<Vec<u8>, FsError> {
        self.open_file(rel, kind, l)?.read_all()
    }
}

impl Limited {
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Permission bits, so a replacement can keep them.
    pub fn mode(&self) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        self.file
            .metadata()
            .map_or(0o644, |m| m.permissions().mode() & 0o7777)
    }

    fn too_large(&self) -> FsError {
        refused(
            FsError::TooLarge {
                path: self.label.clone(),
                size: self.read,
                cap: self.cap,
                key: self.key,
            },
            "too_large",
        )
    }

    /// Maps an error of a read through this file to an [`FsError`].
    pub fn error(&self, e: io::Error) -> FsError {
        if e.kind() == io::ErrorKind::FileTooLarge {
            self.too_large()
        } else {
            FsError::io(&self.label, e)
        }
    }

    /// The whole content (the file may have changed size since `fstat`: at most cap bytes).
    pub fn read_all(mut self) -> Result<Vec<u8>, FsError> {
        let mut buf = Vec::with_capacity(self.stat.size.min(self.cap) as usize);
        match self.read_to_end(&mut buf) {
            Ok(_) => Ok(buf),
            Err(e) => Err(self.error(e)),
        }
    }

    /// sha256 (hex) and length of the content, streamed.
    pub fn sha256(mut self) -> Result<(String, u64), FsError> {
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut n = 0u64;
        loop {
            match self.read(&mut buf) {
                Ok(0) => break,
                Ok(k) => {
                    h.update(&buf[..k]);
                    n += k as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.error(e)),
            }
        }
        Ok((hex::encode(h.finalize()), n))
    }
}

impl Read for Limited {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Ask for one byte more than the cap allows, so growth past the cap is seen.
        let allowed = (self.cap + 1 - self.read).min(buf.len() as u64) as usize;
        if allowed == 0 {
            return Ok(0);
        }
        let n = self.file.read(&mut buf[..allowed])?;
        self.read += n as u64;
        if self.read > self.cap {
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                format!("{} grew over the {} cap", self.label, self.key),
            ));
        }
        Ok(n)
    }
}
