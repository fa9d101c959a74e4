//! The durable records: the audit log, recorded verifications, retention plans and moves, and
//! the intents of mutations in flight. They live in `<state>/records.db`, apart from the index
//! (`index.db`, a cache that may be deleted at any moment), so that deleting the cache never
//! touches what invarlockd did. See docs/records.md for why this is a separate SQLite file.
//!
//! Every public method is one operation that owns its transaction: no pool or transaction is
//! handed out, and no sqlx type crosses this boundary except the row structs. Each is the
//! backend's method of the same name: SQLite (`sqlite.rs`, `retention.rs`) or PostgreSQL
//! (`storage::postgres::records`, the records of every workspace of a fleet in shared tables).

pub mod audit;
mod legacy;
pub mod retention;
mod sqlite;

use super::StorageError;
use crate::domain::WorkspaceId;
use serde::{de::DeserializeOwned, Serialize};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

pub use audit::{AuditEntry, AuditRow, ChainCheck};
pub use retention::{MoveRow, PlanRow};

#[derive(Clone, Debug)]
pub struct Records {
    pub path: PathBuf,
    /// The daemon's workspace: every record written is its own. A SQLite records file holds
    /// this workspace alone.
    own: WorkspaceId,
    backend: Backend,
    /// Moves after every committed write to the records (conditional GETs).
    pub generation: super::generation::Generation,
}

#[derive(Clone, Debug)]
enum Backend {
    Sqlite(sqlite::Db),
    Postgres(super::postgres::records::Db),
}

/// `Records` methods that are one operation of the backend's of the same name.
macro_rules! operations {
    ($($(#[$doc:meta])* fn $name:ident(&self $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty;)*) => {
        impl Records {
            $(
                $(#[$doc])*
                pub async fn $name(&self $(, $arg: $ty)*) -> Result<$ret, StorageError> {
                    match &self.backend {
                        Backend::Sqlite(db) => db.$name($($arg),*).await,
                        Backend::Postgres(db) => db.$name($($arg),*).await,
                    }
                }
            )*
        }
    };
}

operations! {
    /// A page of entries of one workspace (or of all) after `after` (an entry's `position`),
    /// in the order they were appended.
    fn audit_page(&self, scope: Option<&str>, after: i64, limit: u32) -> Vec<AuditRow>;
    /// Walks one workspace's chain (each workspace has its own).
    fn check_chain(&self, workspace: &str) -> ChainCheck;
    /// Appends one entry on its own.
    fn append_audit(&self, entry: &AuditEntry) -> AuditRow;
    /// Records a verification result with its audit entry, in one transaction.
    fn record_verification(
        &self,
        promotion: &str,
        ok: bool,
        result: &serde_json::Value,
        entry: &AuditEntry,
    ) -> i64;
    /// The verifications recorded for a promotion of `workspace`, newest first.
    fn verifications_of(&self, workspace: &str, promotion: &str, limit: u32) -> Vec<VerificationRow>;
    /// Closes an intent as done and appends the audit entries of what it did, atomically:
    /// either both are recorded or neither is.
    fn complete_intent(&self, id: i64, entries: &[AuditEntry]) -> Vec<AuditRow>;
    /// Closes an intent whose effects were undone.
    fn roll_back_intent(&self, id: i64) -> ();

    // Retention plans and moves (see retention.rs).
    fn insert_plan(&self, p: &PlanRow) -> ();
    /// A plan by id (ids are unique across workspaces), naming its workspace.
    fn plan(&self, id: &str) -> Option<PlanRow>;
    fn moves(&self, plan_id: &str) -> Vec<MoveRow>;
    /// The intent of an apply: the plan becomes `applying` with every move `pending`, in one
    /// transaction, before anything is moved. Fails if the plan is no longer `planned`.
    fn begin_apply(&self, plan_id: &str, moves: &[MoveRow]) -> ();
    /// Moves a plan from one state to another, optionally with the bytes reclaimed and an
    /// audit entry, in one transaction.
    fn set_plan_state(
        &self,
        plan_id: &str,
        from: &[&str],
        to: &str,
        bytes: Option<i64>,
        entry: Option<&AuditEntry>,
    ) -> ();
    /// Records that one move happened (or was undone), with its audit entry, atomically.
    fn record_move(&self, m: &MoveRow, state: &str, entry: &AuditEntry) -> ();
    /// The own workspace's plans in one state (those left mid-operation by a crash, at start).
    fn plans_in(&self, state: &str) -> Vec<String>;
    /// The own workspace's applied plans whose grace period is over.
    fn purgeable(&self, applied_before: &str) -> Vec<String>;
    /// Bytes in the own workspace's trash: moved by applied plans, not purged or restored.
    fn trash_bytes(&self) -> i64;
    /// For `/v1/status`: bytes in trash and the last apply of the own workspace.
    fn retention_status(&self) -> serde_json::Value;
}

/// A mutation that records its intent before touching the filesystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntentKind {
    Promotion,
}

impl IntentKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            IntentKind::Promotion => "promotion",
        }
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct VerificationRow {
    #[sqlx(default)]
    pub workspace: String,
    pub seq: i64,
    pub promotion: String,
    pub ok: bool,
    /// JSON text.
    pub result: String,
    pub actor: Option<String>,
    pub created_at: String,
}

fn options(path: &Path) -> Result<SqliteConnectOptions, StorageError> {
    // synchronous=FULL: a committed intent or audit entry is on disk before the filesystem
    // change it announces (NORMAL in WAL mode may lose the last commits on power loss).
    Ok(SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true))
}

impl Records {
    /// Opens (creating if needed) `records.db` and applies its migrations. With `legacy_index`,
    /// a fresh records database first takes over the records an older `index.db` still holds.
    /// What is recorded from here on is `workspace`'s.
    pub async fn open(
        path: &Path,
        legacy_index: Option<&Path>,
        workspace: &WorkspaceId,
    ) -> Result<Records, StorageError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| StorageError::Dir(parent.to_path_buf(), e))?;
        }
        let opts = options(path)?;
        let generation = super::generation::Generation::default();
        let writer = generation
            .writer_pool()
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(opts.clone())
            .await?;
        sqlx::migrate!("./migrations/records").run(&writer).await?;
        if let Some(old) = legacy_index.filter(|p| p.exists()) {
            legacy::import(&writer, old).await?;
        }
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts.read_only(true))
            .await?;
        Ok(Records {
            path: path.to_path_buf(),
            own: workspace.clone(),
            backend: Backend::Sqlite(sqlite::Db {
                writer,
                reader,
                own: workspace.clone(),
            }),
            generation,
        })
    }

    /// Opens the records where `database` says: `sqlite_path` (taking over `legacy_index`'s)
    /// for SQLite, else the server.
    pub async fn open_in(
        database: &super::Database,
        sqlite_path: &Path,
        legacy_index: Option<&Path>,
        workspace: &WorkspaceId,
    ) -> Result<Records, StorageError> {
        match database {
            super::Database::Sqlite => Records::open(sqlite_path, legacy_index, workspace).await,
            super::Database::Postgres(url) => Records::open_postgres(url, workspace).await,
        }
    }

    /// Opens the records of `workspace` in the PostgreSQL database at `url` (shared with the
    /// other daemons of a fleet; the tables are created or migrated first).
    pub async fn open_postgres(
        url: &str,
        workspace: &WorkspaceId,
    ) -> Result<Records, StorageError> {
        let generation = super::generation::Generation::default();
        let db = super::postgres::records::Db::open(url, workspace, &generation).await?;
        Ok(Records {
            path: PathBuf::new(),
            own: workspace.clone(),
            backend: Backend::Postgres(db),
            generation,
        })
    }

    /// The daemon's own workspace.
    pub fn workspace(&self) -> &WorkspaceId {
        &self.own
    }

    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(db) => db.close().await,
            Backend::Postgres(db) => db.close().await,
        }
    }

    /// Records (durably) what a mutation is about to do; returns the intent's id.
    pub async fn open_intent<T: Serialize>(
        &self,
        kind: IntentKind,
        detail: &T,
    ) -> Result<i64, StorageError> {
        let detail = serde_json::to_string(detail)
            .map_err(|e| StorageError::Corrupt(format!("intent detail: {e}")))?;
        match &self.backend {
            Backend::Sqlite(db) => db.open_intent(kind, &detail).await,
            Backend::Postgres(db) => db.open_intent(kind, &detail).await,
        }
    }

    /// Intents left open by a crash, oldest first. A detail that does not parse stops here
    /// (fail closed): recovery must not guess what a corrupt intent meant.
    pub async fn open_intents<T: DeserializeOwned>(
        &self,
        kind: IntentKind,
    ) -> Result<Vec<(i64, T)>, StorageError> {
        let rows = match &self.backend {
            Backend::Sqlite(db) => db.open_intents(kind).await?,
            Backend::Postgres(db) => db.open_intents(kind).await?,
        };
        rows.into_iter()
            .map(|(id, d)| {
                serde_json::from_str(&d)
                    .map(|t| (id, t))
                    .map_err(|e| StorageError::Corrupt(format!("intent {id}: {e}")))
            })
            .collect()
    }

    /// Size of the database file plus its WAL (0 on a server database).
    pub fn db_size(&self) -> u64 {
        super::sqlite_file_size(&self.path)
    }
}

#[cfg(test)]
mod tests;
