//! What a file of an attempt that cannot be read does to the attempt: skipped, kept as it
//! was, or the scan aborted.

use super::ReadResult;
use crate::fsx::FsError;
use crate::report::ReportAnalysis;

pub(super) fn is_permission(e: &FsError) -> bool {
    matches!(e, FsError::Io { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied)
}

/// Why reading one file of an attempt stopped the whole attempt.
pub(super) enum Stop {
    /// Permission: keep the attempt's row as it was.
    Unreadable(String),
    /// Anything else: abort the scan.
    Abort(FsError),
}

impl Stop {
    pub(super) fn into_result(self) -> Result<ReadResult, FsError> {
        match self {
            Stop::Unreadable(why) => Ok(ReadResult::Unreadable(why)),
            Stop::Abort(e) => Err(e),
        }
    }
}

/// A file that vanished or is refused is simply not hashed; other errors stop the attempt.
pub(super) fn tolerate(e: FsError) -> Result<(), Stop> {
    if e.is_not_found() || e.is_refusal() {
        Ok(())
    } else if is_permission(&e) {
        Err(Stop::Unreadable(e.to_string()))
    } else {
        Err(Stop::Abort(e))
    }
}

/// A report.json that is refused (symlink, FIFO, over the cap): the attempt is judged on a
/// report that cannot be read, with a reason that says why.
pub(super) fn refused_report(e: &FsError) -> ReportAnalysis {
    let reason = match e {
        FsError::TooLarge { size, cap, key, .. } => {
            format!("report.json is {size} bytes, over the {key} cap of {cap} bytes (not read)")
        }
        FsError::Symlink(_) => "report.json is a symlink (never followed)".to_string(),
        FsError::WrongType { what, .. } => format!("report.json is a {what}, not a regular file"),
        other => other.to_string(),
    };
    ReportAnalysis {
        size: 0,
        sha256: String::new(),
        outcome: Err(reason),
    }
}
