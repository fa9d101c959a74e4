//! All SQL of the daemon lives under this module: the index (`Storage`, a cache of the
//! workspace, SQL in `sqlite/`) and the durable records (`records::Records`).
//!
//! Callers see operations, never a pool or a transaction: each `Storage` method reads, or writes
//! in a transaction it opens and commits itself. The row types (`attempts`, `evidence`, ...) are
//! backend-neutral; a second backend is a sibling of `sqlite/` (see docs/storage.md).

pub mod attempts;
mod error;
pub mod evidence;
pub mod feed;
pub mod generation;
pub mod mappings;
mod postgres;
pub mod records;
pub mod retention;
pub mod runs;
mod scoped;
mod sqlite;
#[doc(hidden)]
pub mod testing;
pub mod workspace;

use attempts::{AttemptRow, AttemptWrite, Fingerprint, UnrecognizedRow};
use base64::Engine as _;
use evidence::{EvidenceDirRow, EvidenceFileRow, ScannedDir};
use feed::{FeedCursor, HistoryEvent};
use retention::CandidateRow;
use runs::CopyRow;
use serde::{de::DeserializeOwned, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use workspace::{Own, Stamp, WorkspaceRow};

pub use error::StorageError;

/// The index behind a `Storage`: one implementation per database (see docs/storage.md).
#[derive(Debug)]
enum Backend {
    Sqlite(sqlite::Index),
    Postgres(postgres::Index),
}

/// Where the index and the records live (`[database] url`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// `index.db` and `records.db` in the state directory (the default: `""` or `sqlite`).
    Sqlite,
    /// A PostgreSQL server shared by the daemons of a fleet (`postgres://…`).
    Postgres(String),
}

impl Database {
    pub fn parse(url: &str) -> Result<Database, String> {
        let url = url.trim();
        if url.is_empty() || url == "sqlite" || url.starts_with("sqlite:") {
            Ok(Database::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Database::Postgres(url.to_string()))
        } else {
            Err("expected empty (SQLite files in the state directory), sqlite, or postgres://user:password@host:port/database".into())
        }
    }
}

/// The index in service, numbered: a rebuild puts a new one in place (`adopt`).
#[derive(Debug)]
struct Live {
    number: u64,
    backend: Backend,
}

/// The index: a cache of the workspace that may be deleted at any moment and is rebuilt with
/// the same answers. Every method is one operation that owns its transaction; no pool,
/// transaction or SQL leaves this module.
#[derive(Clone, Debug)]
pub struct Storage {
    pub path: PathBuf,
    /// Swapped as a whole when the index is rebuilt: an operation runs on the index it found
    /// when it started, and every operation that starts after the swap runs on the new one.
    live: Arc<RwLock<Arc<Live>>>,
    /// Moves after every committed write to the index (conditional GETs), and when a rebuilt
    /// index is put in place.
    pub generation: generation::Generation,
    /// The daemon's own workspace: every write goes to it.
    own: Arc<Own>,
    /// The registry of a database that holds one workspace (SQLite): this daemon alone, kept
    /// in memory (there is no other daemon to tell).
    registry: Arc<Mutex<WorkspaceRow>>,
}

/// Counts for `/v1/status`.
#[derive(Debug, Clone, Default)]
pub struct StatusCounts {
    pub by_status: Vec<(String, i64)>,
    pub nicknames: i64,
    pub unrecognized: i64,
    pub certificates: i64,
    pub evidence_dirs: i64,
    pub mappings: i64,
    pub last_index_event_at: Option<String>,
}

impl StatusCounts {
    /// `{"pass": n, …, "total": n}`: every status, those without attempts as 0.
    pub fn attempts_json(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut counts = serde_json::Map::new();
        let mut total = 0i64;
        for st in crate::report::AttemptStatus::ALL {
            let n = self
                .by_status
                .iter()
                .find(|(s, _)| s == st.as_str())
                .map_or(0, |(_, n)| *n);
            total += n;
            counts.insert(st.as_str().into(), n.into());
        }
        counts.insert("total".into(), total.into());
        counts
    }
}

/// `Storage` methods that run one operation on the index in service: each is the backend's
/// method of the same name. A second backend adds its arm to the `match` and nothing else.
/// They act on the daemon's own workspace (the indexer's reads and writes); reads the API
/// scopes by workspace are in `scoped.rs`.
macro_rules! operations {
    ($($(#[$doc:meta])* fn $name:ident(&self $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty;)*) => {
        impl Storage {
            $(
                $(#[$doc])*
                pub async fn $name(&self $(, $arg: $ty)*) -> Result<$ret, StorageError> {
                    let live = self.live();
                    match &live.backend {
                        Backend::Sqlite(ix) => ix.$name($($arg),*).await,
                        Backend::Postgres(ix) => ix.$name($($arg),*).await,
                    }
                    .map(|mut r| {
                        r.stamp(self.own.id.as_str());
                        r
                    })
                }
            )*
        }
    };
}

operations! {
    /// A write that changes nothing visible, to prove the index is writable (`/readyz`).
    fn check_writable(&self) -> ();

    /// (status, count) for every status with attempts.
    fn attempt_counts(&self) -> Vec<(String, i64)>;

    // Attempts (what the indexer reads to decide what to write).
    fn fingerprints(&self) -> HashMap<String, Fingerprint>;
    fn fingerprint(&self, id: &str) -> Option<Fingerprint>;
    fn attempt_ids(&self) -> Vec<String>;
    fn running_attempts(&self) -> Vec<AttemptRow>;
    /// The newest attempt of `nickname` that has files and is newer than `ts`.
    fn newer_sibling_with_files(&self, nickname: &str, ts: &str) -> Option<String>;

    // Attempts (writes).
    /// Index this batch in one transaction; with `ask_before`, first the subjects whose
    /// mappings the old rows of those ids bear on.
    fn write_attempts(&self, batch: &[AttemptWrite<'_>], ask_before: Option<&[String]>) -> Vec<String>;
    /// Removes attempts in one transaction: (how many were there, subjects asked before).
    fn remove_attempts(&self, ids: &[String], ask_before: bool) -> (u64, Vec<String>);
    /// (id, status, reason) of attempts whose derived status changed, in one transaction.
    fn set_statuses(&self, changes: &[(String, String, Option<String>)]) -> ();
    fn replace_unrecognized(&self, rows: &[UnrecognizedRow]) -> ();
    fn replace_unrecognized_under(&self, tops: &[(String, Vec<UnrecognizedRow>)]) -> ();

    // Mappings.
    fn rebuild_mappings(&self) -> u64;
    fn rederive_mappings(&self, before: &[String], changed: &[String]) -> usize;

    // Evidence and promotions.
    /// Archived copies of a report (by sha256).
    fn archived_copies(&self, sha256: &str) -> Vec<String>;
    fn evidence_dirs(&self) -> Vec<EvidenceDirRow>;
    fn evidence_file_stamps(&self) -> HashMap<String, (i64, i64)>;
    fn apply_evidence_scan(&self, scanned: &[ScannedDir]) -> ();
    /// Archived report copies whose §5.4 digests are these.
    fn archived_reports_by_digest(&self, run_id: &str, report_hash: &str) -> Vec<EvidenceFileRow>;
    /// Indexed attempts whose raw report digests are these, newest first.
    fn attempts_by_digest(&self, run_id: &str, report_hash: &str) -> Vec<AttemptRow>;
    /// The newest `pass` attempt of a nickname.
    fn latest_pass(&self, nickname: &str) -> Option<String>;

    // Retention.
    fn retention_candidates(&self) -> Vec<CandidateRow>;
    /// Subject → baseline attempt pairs from the mappings.
    fn pairings(&self) -> Vec<(String, String)>;
    /// Bytes under runs/ (kept by triggers).
    fn runs_bytes(&self) -> i64;

    // Convenience copies.
    /// (nickname, attempt id, dir, report sha256) of the latest pass of each nickname.
    fn latest_passes(&self, nicknames: Option<&[String]>) -> Vec<(String, String, String, String)>;
    fn convenience_copies(&self) -> Vec<CopyRow>;
    fn record_copies(&self, written: &[CopyRow], removed: &[String]) -> ();
}

impl Storage {
    /// Opens (creating if needed) the index at `path` and applies the embedded migrations.
    /// Every write goes to `workspace`, which the registry advertises at `public_url`.
    pub async fn open(
        path: &Path,
        workspace: &crate::domain::WorkspaceId,
        public_url: Option<String>,
    ) -> Result<Storage, StorageError> {
        let generation = generation::Generation::default();
        let index = sqlite::Index::open(path, &generation).await?;
        let own = Own::new(workspace, public_url);
        let registry = Arc::new(Mutex::new(own.row()));
        Ok(Storage {
            path: path.to_path_buf(),
            live: Arc::new(RwLock::new(Arc::new(Live {
                number: 0,
                backend: Backend::Sqlite(index),
            }))),
            generation,
            own: Arc::new(own),
            registry,
        })
    }

    /// Opens the index of `workspace` in the PostgreSQL database at `url`, shared with the
    /// other daemons of a fleet, and registers the workspace there.
    pub async fn open_postgres(
        url: &str,
        workspace: &crate::domain::WorkspaceId,
        public_url: Option<String>,
    ) -> Result<Storage, StorageError> {
        let generation = generation::Generation::default();
        let own = Own::new(workspace, public_url);
        let index = postgres::Index::open(url, &own, &generation).await?;
        Ok(Storage {
            path: PathBuf::new(),
            live: Arc::new(RwLock::new(Arc::new(Live {
                number: 0,
                backend: Backend::Postgres(index),
            }))),
            generation,
            registry: Arc::new(Mutex::new(own.row())),
            own: Arc::new(own),
        })
    }

    /// Opens the index where `database` says: `sqlite_path` for SQLite, else the server.
    pub async fn open_in(
        database: &Database,
        sqlite_path: &Path,
        workspace: &crate::domain::WorkspaceId,
        public_url: Option<String>,
    ) -> Result<Storage, StorageError> {
        match database {
            Database::Sqlite => Storage::open(sqlite_path, workspace, public_url).await,
            Database::Postgres(url) => Storage::open_postgres(url, workspace, public_url).await,
        }
    }

    /// The daemon's own workspace.
    pub fn workspace(&self) -> &crate::domain::WorkspaceId {
        &self.own.id
    }

    /// The URL this daemon advertises (`server.public_url`), if any.
    pub fn public_url(&self) -> Option<String> {
        self.own.public_url()
    }

    /// Advertises `url` from now on (the next `register_workspace` writes it to the registry).
    pub fn set_public_url(&self, url: Option<String>) {
        self.own.set_public_url(url.clone());
        self.registry
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .public_url = url;
    }

    fn live(&self) -> Arc<Live> {
        self.live.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether the path no longer names the file the index in service was opened on (deleted
    /// or replaced while the daemon runs). Until a rebuilt index is adopted, the daemon keeps
    /// serving the file it opened, with the same answers.
    pub fn file_replaced(&self) -> bool {
        match &self.live().backend {
            Backend::Sqlite(ix) => ix.file_replaced(),
            // A server database has no file to lose: a live rebuild is never needed.
            Backend::Postgres(_) => false,
        }
    }

    /// A new index at the same path, not yet in service: the indexer fills it (a full scan)
    /// while this one keeps answering, then `adopt` puts it in place. Its commits move the same
    /// generation.
    pub async fn open_replacement(&self) -> Result<Storage, StorageError> {
        let live = self.live();
        match &live.backend {
            Backend::Sqlite(ix) => ix
                .release_path()
                .map_err(|e| StorageError::Dir(self.path.clone(), e))?,
            Backend::Postgres(_) => return Err(StorageError::Corrupt(
                "a live rebuild is only for an index file (file_replaced is false on PostgreSQL)"
                    .into(),
            )),
        }
        let index = sqlite::Index::open(&self.path, &self.generation).await?;
        Ok(Storage {
            path: self.path.clone(),
            live: Arc::new(RwLock::new(Arc::new(Live {
                number: live.number + 1,
                backend: Backend::Sqlite(index),
            }))),
            generation: self.generation.clone(),
            own: self.own.clone(),
            registry: self.registry.clone(),
        })
    }

    /// Puts `replacement`'s index in service, at one instant for every handle of this storage:
    /// operations already running finish on the old index, every later one runs on the new.
    pub fn adopt(&self, replacement: &Storage) {
        let new = replacement.live();
        let old = std::mem::replace(
            &mut *self.live.write().unwrap_or_else(|p| p.into_inner()),
            new,
        );
        self.generation.advance();
        tracing::info!(path = %self.path.display(), "rebuilt index in service");
        // Operations that started on the old index finish on it; once none holds it any more
        // its connections are closed (dropping them alone leaves SQLite's files open for a time).
        tokio::spawn(async move {
            while Arc::strong_count(&old) > 1 {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            tracing::debug!("old index released; closing it");
            match &old.backend {
                Backend::Sqlite(ix) => ix.close().await,
                Backend::Postgres(ix) => ix.close().await,
            }
            tracing::debug!("old index closed");
        });
    }

    /// Closes the index in service (closing checkpoints the WAL into the file).
    pub async fn close(&self) {
        match &self.live().backend {
            Backend::Sqlite(ix) => ix.close().await,
            Backend::Postgres(ix) => ix.close().await,
        }
    }

    /// The end of the attempt history: a feed starting here reports what is written next.
    pub async fn feed_head(&self) -> Result<FeedCursor, StorageError> {
        let live = self.live();
        let seq = match &live.backend {
            Backend::Sqlite(ix) => ix.history_last_seq().await?,
            Backend::Postgres(ix) => ix.history_last_seq().await?,
        };
        Ok(FeedCursor {
            backend: live.number,
            seq,
        })
    }

    /// History rows after `cursor` (at most `limit`) and the cursor after them. A cursor from
    /// an index since rebuilt is moved to the end of the new one's history, with no rows.
    pub async fn feed_after(
        &self,
        cursor: FeedCursor,
        limit: u32,
    ) -> Result<(Vec<HistoryEvent>, FeedCursor), StorageError> {
        let live = self.live();
        if live.number != cursor.backend {
            return Ok((Vec::new(), self.feed_head().await?));
        }
        let mut rows = match &live.backend {
            Backend::Sqlite(ix) => ix.history_after(cursor.seq, limit).await?,
            Backend::Postgres(ix) => ix.history_after(cursor.seq, limit).await?,
        };
        rows.stamp(self.own.id.as_str());
        let seq = rows.last().map_or(cursor.seq, |r| r.seq);
        Ok((
            rows,
            FeedCursor {
                backend: live.number,
                seq,
            },
        ))
    }

    /// Counts for `/v1/status` of the daemon's own workspace: attempts by status, nicknames,
    /// unrecognized entries, certificates, evidence dirs, last index event and database size.
    pub async fn status_summary(&self) -> Result<serde_json::Value, StorageError> {
        let c = self.status_counts(Some(self.own.id.as_str())).await?;
        let counts = c.attempts_json();
        Ok(serde_json::json!({
            "attempts": counts,
            "nicknames": c.nicknames,
            "unrecognized": c.unrecognized,
            "certificates": c.certificates,
            "evidence_dirs": c.evidence_dirs,
            "mappings": c.mappings,
            "last_index_event_at": c.last_index_event_at,
            "db_size_bytes": self.db_size(),
        }))
    }

    /// Size of the database file plus its WAL (0 on PostgreSQL: no file of this daemon's).
    pub fn db_size(&self) -> u64 {
        if matches!(self.live().backend, Backend::Postgres(_)) {
            return 0;
        }
        sqlite_file_size(&self.path)
    }

    /// A SQLite index at `path` whose own workspace is `test`, for this module's tests.
    #[cfg(test)]
    pub(crate) async fn open_test(path: &Path) -> Storage {
        let ws = crate::domain::WorkspaceId::parse("test").unwrap();
        Storage::open(path, &ws, None).await.unwrap()
    }

    /// The SQLite index in service, for this module's tests.
    #[cfg(test)]
    fn sqlite(&self) -> Arc<Live> {
        self.live()
    }
}

#[cfg(test)]
impl Live {
    fn index(&self) -> &sqlite::Index {
        match &self.backend {
            Backend::Sqlite(ix) => ix,
            Backend::Postgres(_) => panic!("a SQLite index was expected"),
        }
    }
}

/// Keyset pagination: a page query fetches `limit + 1` rows, and the extra row only says that
/// another page exists. Returns the page and, when there is a next one, the key of its last row.
pub fn split_page<T, K>(
    mut rows: Vec<T>,
    limit: u32,
    key: impl FnOnce(&T) -> K,
) -> (Vec<T>, Option<K>) {
    if rows.len() <= limit as usize {
        return (rows, None);
    }
    rows.truncate(limit as usize);
    let next = rows.last().map(key);
    (rows, next)
}

/// Bytes of a SQLite database file plus its WAL (the index and the records files alike); a
/// file that cannot be read counts 0.
pub(crate) fn sqlite_file_size(path: &Path) -> u64 {
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    [path.to_path_buf(), wal]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// Opaque keyset page tokens: base64url(JSON of the last row's sort key).
pub fn encode_token<T: Serialize>(key: &T) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(key).unwrap_or_default())
}

pub fn decode_token<T: DeserializeOwned>(token: &str) -> Option<T> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
