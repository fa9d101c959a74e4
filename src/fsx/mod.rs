//! The one way invarlockd opens, lists and writes workspace files.
//!
//! Anyone may write anything into `runs/` and `reports/`, so every path below a configured root
//! is walked by handle, one component at a time (`openat` with `O_NOFOLLOW`): a symlink is
//! never followed, not even inside the workspace, and a component swapped for a symlink between
//! a check and a use is caught by the kernel rather than by a racy check. Only regular files
//! are read (`fstat` after an `O_NONBLOCK` open, so a FIFO can never block), each kind of file
//! up to its own size cap (`[limits]`), and reads stop at cap + 1 bytes even if the file grows.
//!
//! Errors keep "absent" apart from "could not look": only [`FsError::NotFound`] means absent;
//! a refusal says what was refused; anything else is an I/O error the caller must not read as
//! absence (a scan that meets one is aborted).

mod dir;
mod read;
mod write;

pub use dir::{Dir, Entry, EntryKind, Stat};
pub use read::Limited;
pub use write::{clean_temp_files, TEMP_FILE_PREFIX};

use serde::{Deserialize, Serialize};
use std::io;

/// What a file is read as; each kind has its own size cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// An attempt's report.json, and report copies under reports/.
    Report,
    /// events.jsonl (streamed, never held whole).
    Events,
    /// A certificate (`*.cert.json`).
    Certificate,
    /// metadata.json of an archive, the workspace .gitignore.
    Metadata,
    /// Any other file, hashed as a stream.
    Other,
}

impl FileKind {
    pub fn cap(self, l: &Limits) -> u64 {
        match self {
            FileKind::Report => l.report_bytes,
            FileKind::Events => l.events_bytes,
            FileKind::Certificate => l.certificate_bytes,
            FileKind::Metadata => l.metadata_bytes,
            FileKind::Other => l.hashed_file_bytes,
        }
    }

    /// The config key of the cap, named in refusals so an operator knows what to raise.
    pub fn key(self) -> &'static str {
        match self {
            FileKind::Report => "limits.report_bytes",
            FileKind::Events => "limits.events_bytes",
            FileKind::Certificate => "limits.certificate_bytes",
            FileKind::Metadata => "limits.metadata_bytes",
            FileKind::Other => "limits.hashed_file_bytes",
        }
    }
}

/// `[limits]`: the largest file of each kind the daemon reads. Larger files are refused
/// without being read (an over-size report makes its attempt `invalid`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub report_bytes: u64,
    pub events_bytes: u64,
    pub certificate_bytes: u64,
    pub metadata_bytes: u64,
    pub hashed_file_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        // Real 0.3.6 reports are up to ~2.3 MB, events.jsonl ~0.7 MB, certificates ~35 KB:
        // the defaults leave 25-100x headroom while bounding memory per read.
        Limits {
            report_bytes: 64 << 20,
            events_bytes: 256 << 20,
            certificate_bytes: 16 << 20,
            metadata_bytes: 1 << 20,
            hashed_file_bytes: 256 << 20,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FsError {
    /// The path does not exist (the only error that means "absent").
    #[error("{0}: not found")]
    NotFound(String),
    /// A symlink where a file or directory was expected; never followed.
    #[error("{0}: is a symlink (not followed)")]
    Symlink(String),
    /// A FIFO, socket, device or directory where a regular file was expected (or a file where
    /// a directory was expected).
    #[error("{path}: is a {what}, not a {expected}")]
    WrongType {
        path: String,
        what: &'static str,
        expected: &'static str,
    },
    #[error("{path}: {size} bytes is over the {key} cap of {cap} bytes (not read)")]
    TooLarge {
        path: String,
        size: u64,
        cap: u64,
        key: &'static str,
    },
    #[error("{path}: {source}")]
    Io { path: String, source: io::Error },
}

impl FsError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, FsError::NotFound(_))
    }

    /// A refusal of what the file is (symlink, wrong type, too large), as opposed to a failure
    /// to look at it.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            FsError::Symlink(_) | FsError::WrongType { .. } | FsError::TooLarge { .. }
        )
    }

    /// An I/O error: neither absence nor a refusal. Never to be read as "absent".
    pub fn is_io(&self) -> bool {
        matches!(self, FsError::Io { .. })
    }

    /// The daemon itself is short of something (descriptors, memory) or the device failed:
    /// every other path would fail too, so a scan stops at once.
    pub fn is_exhaustion(&self) -> bool {
        match self {
            FsError::Io { source, .. } => matches!(
                source.raw_os_error(),
                Some(
                    libc_errno::EMFILE
                        | libc_errno::ENFILE
                        | libc_errno::ENOMEM
                        | libc_errno::EIO
                        | libc_errno::ENOBUFS
                )
            ),
            _ => false,
        }
    }

    pub(crate) fn io(path: &str, source: io::Error) -> FsError {
        FsError::Io {
            path: path.to_string(),
            source,
        }
    }

    /// Maps an errno from opening `path` (with `O_NOFOLLOW`) to an error.
    pub(crate) fn from_open(path: &str, e: rustix::io::Errno) -> FsError {
        use rustix::io::Errno;
        match e {
            Errno::NOENT => FsError::NotFound(path.to_string()),
            Errno::LOOP => refused(FsError::Symlink(path.to_string()), "symlink"),
            // open(2) on a socket.
            Errno::NXIO => refused(
                FsError::WrongType {
                    path: path.to_string(),
                    what: "socket",
                    expected: "regular file",
                },
                "socket",
            ),
            e => FsError::io(path, e.into()),
        }
    }
}

/// The errno values [`FsError::is_exhaustion`] looks for (Linux numbering).
mod libc_errno {
    pub const EIO: i32 = 5;
    pub const ENOMEM: i32 = 12;
    pub const ENFILE: i32 = 23;
    pub const EMFILE: i32 = 24;
    pub const ENOBUFS: i32 = 105;
}

/// Counts a refusal in `invarlockd_files_refused_total{kind}` and returns it. `kind` is what
/// the file was: `symlink`, `too_large`, or anything else that is not a regular file.
pub fn refused(e: FsError, kind: &'static str) -> FsError {
    use crate::metrics::Refusal;
    crate::metrics::file_refused(match kind {
        "symlink" => Refusal::Symlink,
        "too_large" => Refusal::TooLarge,
        _ => Refusal::NotRegular,
    });
    tracing::debug!(error = %e, "workspace file refused");
    e
}

/// Splits a workspace-relative path into plain components; refuses `..`, absolute paths and
/// empty components so a path can never climb out of the directory it is resolved in.
pub(crate) fn components(rel: &str) -> Result<Vec<&str>, FsError> {
    let mut out = Vec::new();
    for c in rel.split('/') {
        match c {
            "" | "." => continue,
            ".." => {
                return Err(FsError::WrongType {
                    path: rel.to_string(),
                    what: "path that climbs out with ..",
                    expected: "path below the workspace",
                })
            }
            c if c.contains('\0') => {
                return Err(FsError::WrongType {
                    path: rel.to_string(),
                    what: "path containing NUL",
                    expected: "path",
                })
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
