//! The indexer: turns the workspace into index rows. Called by the watcher (`refresh_paths` for
//! debounced events, `full_scan` at start and on reconcile) and by `invarlockd scan`.
//!
//! Cost model: one `stat` per file to detect change by (name, size, mtime); a changed attempt is
//! read once (report.json into memory, parsed once without token arrays, sha256 over the same
//! bytes; events.jsonl streamed) on a blocking thread, a bounded number at a time; rows are
//! written through the single writer in transactions of `BATCH` attempts.
mod attempt;
mod batch;
mod copy;
mod evidence;
mod refresh;
mod scan;
mod upkeep;
pub mod walk;

use crate::config::{IndexConfig, Workspace};
use crate::fsx::{Dir, FsError, Limits};
use crate::storage::{Storage, StorageError};
use crate::timezone::TimeZone;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const BATCH: usize = 500;

#[derive(Clone, Debug)]
pub struct IndexSettings {
    pub workspace: Workspace,
    pub index: IndexConfig,
    pub limits: Limits,
}

type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

#[derive(Clone)]
pub struct Indexer {
    store: Storage,
    cfg: Arc<IndexSettings>,
    tz: TimeZone,
    clock: Clock,
    /// One indexing operation at a time (the watcher and `POST /v1/rescan` may overlap).
    lock: Arc<tokio::sync::Mutex<()>>,
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("indexing task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    /// A filesystem error that is not an absence: the scan stopped, the index is as it was.
    #[error("scan aborted: {0}")]
    Fs(#[from] FsError),
}

impl IndexError {
    /// The cause under which a failed scan is counted.
    pub fn cause(&self) -> crate::metrics::ScanCause {
        use crate::metrics::ScanCause;
        match self {
            IndexError::Io(_) => ScanCause::Filesystem,
            IndexError::Storage(StorageError::Dir(..)) => ScanCause::Filesystem,
            IndexError::Storage(_) => ScanCause::Database,
            IndexError::Join(_) => ScanCause::Internal,
            IndexError::Fs(_) => ScanCause::Filesystem,
        }
    }
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct ScanSummary {
    pub attempts_seen: u64,
    /// Attempts read (new or changed).
    pub parsed: u64,
    pub unchanged: u64,
    pub removed: u64,
    pub unrecognized: u64,
    /// Attempts or subtrees that could not be read (permission): kept as indexed.
    pub unreadable: u64,
    pub evidence_dirs: u64,
    pub evidence_files_read: u64,
    pub certificates: u64,
    pub mappings: u64,
    #[serde(serialize_with = "ser_ms")]
    pub duration: Duration,
}

fn ser_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

#[derive(Debug, Default, Clone)]
pub struct RefreshOutcome {
    /// Call again with the same paths after this long (a report still settling, an attempt that
    /// will turn stale).
    pub recheck_after: Option<Duration>,
}

fn min_opt(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

impl Indexer {
    /// The configured size caps, for other readers of the workspace (retention's checks).
    pub fn limits(&self) -> Limits {
        self.cfg.limits
    }

    pub fn new(store: Storage, cfg: IndexSettings) -> Self {
        let tz = TimeZone::parse(&cfg.index.timezone).unwrap_or(TimeZone::Local);
        Indexer {
            store,
            cfg: Arc::new(cfg),
            tz,
            clock: Arc::new(SystemTime::now),
            lock: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// Replaces the wall clock (tests of age-dependent statuses).
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    pub fn store(&self) -> &Storage {
        &self.store
    }

    pub fn settings(&self) -> &IndexSettings {
        &self.cfg
    }

    pub fn timezone(&self) -> TimeZone {
        self.tz
    }

    /// runs/ opened by handle; everything below it is opened through it, following nothing.
    /// A runs/ that does not exist is `None` (nothing to index); any other error stops.
    fn runs_dir(&self) -> Result<Option<Arc<Dir>>, FsError> {
        match Dir::open_root(&self.cfg.workspace.runs, "runs") {
            Ok(d) => Ok(Some(Arc::new(d))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Logs an aborted scan (the watcher counts it in `invarlockd_scans_aborted_total`).
    fn aborted(e: FsError) -> IndexError {
        tracing::error!(error = %e, "scan aborted by a filesystem error; the index is kept as it was");
        IndexError::Fs(e)
    }
}
