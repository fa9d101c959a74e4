//! Directory handles: opened once, then every lookup is relative to the handle with
//! `O_NOFOLLOW`, so what a path means cannot change between a check and a use.

use super::{components, refused, FsError};
use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use std::ffi::OsString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::path::Path;

/// Flags of every directory open: never follow, never block, never leak into children.
pub(super) const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC)
    .union(OFlags::NONBLOCK);

/// An open directory. `label` is its workspace-relative name, used in messages (never a path
/// outside the workspace).
#[derive(Debug)]
pub struct Dir {
    pub(super) fd: OwnedFd,
    pub(super) label: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    Fifo,
    Socket,
    Device,
    Unknown,
}

impl EntryKind {
    pub(super) fn of(mode: u32) -> EntryKind {
        match FileType::from_raw_mode(mode as _) {
            FileType::RegularFile => EntryKind::File,
            FileType::Directory => EntryKind::Dir,
            FileType::Symlink => EntryKind::Symlink,
            FileType::Fifo => EntryKind::Fifo,
            FileType::Socket => EntryKind::Socket,
            FileType::CharacterDevice | FileType::BlockDevice => EntryKind::Device,
            _ => EntryKind::Unknown,
        }
    }

    /// How refusals and the `kind` metric label name it.
    pub fn what(self) -> &'static str {
        match self {
            EntryKind::File => "regular file",
            EntryKind::Dir => "directory",
            EntryKind::Symlink => "symlink",
            EntryKind::Fifo => "fifo",
            EntryKind::Socket => "socket",
            EntryKind::Device => "device",
            EntryKind::Unknown => "special file",
        }
    }
}

/// What `lstat`/`fstat` said, reduced to what the daemon uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub kind: EntryKind,
    pub size: u64,
    pub mtime_ns: i64,
}

impl Stat {
    pub(super) fn from_raw(st: &rustix::fs::Stat) -> Stat {
        let ns = (st.st_mtime as i128) * 1_000_000_000 + st.st_mtime_nsec as i128;
        Stat {
            kind: EntryKind::of(st.st_mode),
            size: st.st_size.max(0) as u64,
            mtime_ns: ns.clamp(0, i64::MAX as i128) as i64,
        }
    }
}

/// One directory entry, with its own `lstat` (symlinks are reported as symlinks).
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: OsString,
    pub stat: Stat,
}

impl Entry {
    pub fn name_str(&self) -> Option<&str> {
        self.name.to_str()
    }
}

pub(super) fn join(label: &str, rel: &str) -> String {
    match (label, rel) {
        ("", r) | (".", r) => r.to_string(),
        (l, "") => l.to_string(),
        (l, r) => format!("{l}/{r}"),
    }
}

impl Dir {
    /// Opens a configured root (runs/, reports/, the workspace, the state directory). Its own
    /// path is the operator's choice and may go through symlinks; nothing below it may.
    pub fn open_root(path: &Path, label: &str) -> Result<Dir, FsError> {
        let flags = DIR_FLAGS.difference(OFlags::NOFOLLOW);
        match rustix::fs::open(path, flags, Mode::empty()) {
            Ok(fd) => Ok(Dir {
                fd,
                label: label.to_string(),
            }),
            Err(e) => Err(FsError::from_open(label, e)),
        }
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Opens the directory `rel` below this one, component by component, following nothing.
    pub fn open_dir(&self, rel: &str) -> Result<Dir, FsError> {
        let parts = components(rel)?;
        let mut cur: Option<OwnedFd> = None;
        let mut label = self.label.clone();
        for c in parts {
            label = join(&label, c);
            let base = cur.as_ref().map_or(self.fd.as_fd(), |f| f.as_fd());
            match rustix::fs::openat(base, c, DIR_FLAGS, Mode::empty()) {
                Ok(fd) => cur = Some(fd),
                Err(rustix::io::Errno::NOTDIR) | Err(rustix::io::Errno::LOOP) => {
                    return Err(self.classify_not_dir(base, c, &label))
                }
                Err(e) => return Err(FsError::from_open(&label, e)),
            }
        }
        let fd = match cur {
            Some(fd) => fd,
            None => self.fd.try_clone().map_err(|e| FsError::io(&label, e))?,
        };
        Ok(Dir { fd, label })
    }

    /// A component that did not open as a directory: a symlink, or some other type.
    fn classify_not_dir(&self, base: BorrowedFd<'_>, name: &str, label: &str) -> FsError {
        match rustix::fs::statat(base, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => {
                let kind = EntryKind::of(st.st_mode);
                if kind == EntryKind::Symlink {
                    refused(FsError::Symlink(label.to_string()), "symlink")
                } else {
                    FsError::WrongType {
                        path: label.to_string(),
                        what: kind.what(),
                        expected: "directory",
                    }
                }
            }
            Err(e) => FsError::from_open(label, e),
        }
    }

    /// `lstat` of `rel` below this directory (its parents are walked without following).
    pub fn stat(&self, rel: &str) -> Result<Stat, FsError> {
        let (parent, name) = self.parent_of(rel)?;
        let base = parent.as_ref().unwrap_or(self);
        match rustix::fs::statat(base.fd.as_fd(), name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Stat::from_raw(&st)),
            Err(e) => Err(FsError::from_open(&join(&self.label, rel), e)),
        }
    }

    /// `fstat` of this directory.
    pub fn stat_self(&self) -> Result<Stat, FsError> {
        rustix::fs::fstat(&self.fd)
            .map(|st| Stat::from_raw(&st))
            .map_err(|e| FsError::io(&self.label, e.into()))
    }

    /// The directory holding `rel` (None: this one) and the last component.
    pub(super) fn parent_of<'a>(&self, rel: &'a str) -> Result<(Option<Dir>, &'a str), FsError> {
        let parts = components(rel)?;
        let Some((last, dirs)) = parts.split_last() else {
            return Err(FsError::WrongType {
                path: join(&self.label, rel),
                what: "empty path",
                expected: "file name",
            });
        };
        if dirs.is_empty() {
            return Ok((None, last));
        }
        Ok((Some(self.open_dir(&dirs.join("/"))?), last))
    }

    /// Every entry with its `lstat`, sorted by name. Any error (listing or stat, other than an
    /// entry vanishing meanwhile) is returned, never read as an empty directory.
    pub fn entries(&self) -> Result<Vec<Entry>, FsError> {
        let mut rd =
            rustix::fs::Dir::read_from(&self.fd).map_err(|e| FsError::io(&self.label, e.into()))?;
        let mut out = Vec::new();
        while let Some(e) = rd.read() {
            let e = e.map_err(|e| FsError::io(&self.label, e.into()))?;
            let raw = e.file_name().to_bytes();
            if raw == b"." || raw == b".." {
                continue;
            }
            let name = OsString::from_vec(raw.to_vec());
            match rustix::fs::statat(&self.fd, e.file_name(), AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => out.push(Entry {
                    name,
                    stat: Stat::from_raw(&st),
                }),
                Err(rustix::io::Errno::NOENT) => continue,
                Err(err) => {
                    let label = join(&self.label, &name.to_string_lossy());
                    return Err(FsError::io(&label, err.into()));
                }
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Creates (if needed) and opens the directory `rel` below this one, following nothing.
    pub fn create_dir_all(&self, rel: &str) -> Result<Dir, FsError> {
        let mut cur = self.open_dir("")?;
        for c in components(rel)? {
            match rustix::fs::mkdirat(&cur.fd, c, Mode::from_raw_mode(0o755)) {
                Ok(()) | Err(rustix::io::Errno::EXIST) => {}
                Err(e) => return Err(FsError::io(&join(&cur.label, c), e.into())),
            }
            cur = cur.open_dir(c)?;
        }
        Ok(cur)
    }

    /// Removes the entry `name` of this directory (a file or symlink, never followed).
    pub fn remove_file(&self, name: &str) -> Result<(), FsError> {
        rustix::fs::unlinkat(&self.fd, name, AtFlags::empty())
            .map_err(|e| FsError::from_open(&join(&self.label, name), e))
    }
}
