//! The durable records: the audit log, recorded verifications, retention plans and moves, and
//! the intents of mutations in flight. They live in `<state>/records.db`, apart from the index
//! (`index.db`, a cache that may be deleted at any moment), so that deleting the cache never
//! touches what invarlockd did. See docs/records.md for why this is a separate SQLite file.
//!
//! Every public method is one operation that owns its transaction: no pool or transaction is
//! handed out, and no sqlx type crosses this boundary except the row structs, so a PostgreSQL
//! implementation is a second `impl` of the same methods (issue 12), not a rewrite of callers.

pub mod audit;
mod legacy;
pub mod retention;

use super::StorageError;
use serde::{de::DeserializeOwned, Serialize};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use crate::domain::WorkspaceId;

pub use audit::{AuditEntry, AuditRow, ChainCheck};
pub use retention::{MoveRow, PlanRow};

#[derive(Clone, Debug)]
pub struct Records {
    pub path: PathBuf,
    /// The daemon's workspace: every record written is its own. A SQLite records file holds
    /// this workspace alone.
    own: WorkspaceId,
    writer: SqlitePool,
    reader: SqlitePool,
    /// Moves after every committed write to the records (conditional GETs).
    pub generation: super::generation::Generation,
}

/// A mutation that records its intent before touching the filesystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntentKind {
    Promotion,
}

impl IntentKind {
    fn as_str(self) -> &'static str {
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
            writer,
            reader,
            generation,
        })
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }

    // --- audit -------------------------------------------------------------------------------

    /// The daemon's own workspace.
    pub fn workspace(&self) -> &WorkspaceId {
        &self.own
    }

    fn holds(&self, scope: Option<&str>) -> bool {
        scope.is_none_or(|w| w == self.own.as_str())
    }

    fn stamp_audit(&self, mut rows: Vec<AuditRow>) -> Vec<AuditRow> {
        for r in &mut rows {
            r.workspace = self.own.to_string();
        }
        rows
    }

    /// A page of entries of one workspace (or of all) after `after` (an entry's `position`),
    /// in the order they were appended.
    pub async fn audit_page(
        &self,
        scope: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<AuditRow>, StorageError> {
        if !self.holds(scope) {
            return Ok(Vec::new());
        }
        Ok(self.stamp_audit(audit::list(&self.reader, after, limit).await?))
    }

    /// Walks one workspace's chain (each workspace has its own).
    pub async fn check_chain(&self, workspace: &str) -> Result<ChainCheck, StorageError> {
        if !self.holds(Some(workspace)) {
            return Ok(ChainCheck::empty());
        }
        audit::check_chain(&self.reader).await
    }

    /// Appends one entry on its own.
    pub async fn append_audit(&self, entry: &AuditEntry) -> Result<AuditRow, StorageError> {
        let mut tx = self.writer.begin().await?;
        let row = audit::append(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(self.stamp_audit(vec![row]).remove(0))
    }

    // --- verifications -----------------------------------------------------------------------

    /// Records a verification result with its audit entry, in one transaction.
    pub async fn record_verification(
        &self,
        promotion: &str,
        ok: bool,
        result: &serde_json::Value,
        entry: &AuditEntry,
    ) -> Result<i64, StorageError> {
        let mut tx = self.writer.begin().await?;
        let (seq,): (i64,) = sqlx::query_as(
            "insert into verifications (promotion, ok, result, actor) values (?, ?, ?, ?) returning seq",
        )
        .bind(promotion)
        .bind(ok)
        .bind(result.to_string())
        .bind(entry.actor.as_deref())
        .fetch_one(&mut *tx)
        .await?;
        audit::append(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// The verifications recorded for a promotion of `workspace`, newest first.
    pub async fn verifications_of(
        &self,
        workspace: &str,
        promotion: &str,
        limit: u32,
    ) -> Result<Vec<VerificationRow>, StorageError> {
        if !self.holds(Some(workspace)) {
            return Ok(Vec::new());
        }
        let mut rows: Vec<VerificationRow> = sqlx::query_as(
            "select seq, promotion, ok, result, actor, created_at from verifications where promotion = ? order by seq desc limit ?",
        )
        .bind(promotion)
        .bind(limit as i64)
        .fetch_all(&self.reader)
        .await?;
        for r in &mut rows {
            r.workspace = self.own.to_string();
        }
        Ok(rows)
    }

    // --- intents -----------------------------------------------------------------------------

    /// Records (durably) what a mutation is about to do; returns the intent's id.
    pub async fn open_intent<T: Serialize>(
        &self,
        kind: IntentKind,
        detail: &T,
    ) -> Result<i64, StorageError> {
        let detail = serde_json::to_string(detail)
            .map_err(|e| StorageError::Corrupt(format!("intent detail: {e}")))?;
        let (id,): (i64,) = sqlx::query_as(
            "insert into intents (kind, detail, state) values (?, ?, 'open') returning id",
        )
        .bind(kind.as_str())
        .bind(detail)
        .fetch_one(&self.writer)
        .await?;
        Ok(id)
    }

    /// Closes an intent as done and appends the audit entries of what it did, atomically:
    /// either both are recorded or neither is.
    pub async fn complete_intent(
        &self,
        id: i64,
        entries: &[AuditEntry],
    ) -> Result<Vec<AuditRow>, StorageError> {
        let mut tx = self.writer.begin().await?;
        let closed = sqlx::query(
            "update intents set state = 'done', closed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') where id = ? and state = 'open'",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if closed.rows_affected() != 1 {
            return Err(StorageError::Corrupt(format!("intent {id} is not open")));
        }
        let mut rows = Vec::with_capacity(entries.len());
        for e in entries {
            rows.push(audit::append(&mut tx, e).await?);
        }
        tx.commit().await?;
        Ok(self.stamp_audit(rows))
    }

    /// Closes an intent whose effects were undone.
    pub async fn roll_back_intent(&self, id: i64) -> Result<(), StorageError> {
        sqlx::query(
            "update intents set state = 'rolled_back', closed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') where id = ? and state = 'open'",
        )
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Intents left open by a crash, oldest first. A detail that does not parse stops here
    /// (fail closed): recovery must not guess what a corrupt intent meant.
    pub async fn open_intents<T: DeserializeOwned>(
        &self,
        kind: IntentKind,
    ) -> Result<Vec<(i64, T)>, StorageError> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "select id, detail from intents where state = 'open' and kind = ? order by id",
        )
        .bind(kind.as_str())
        .fetch_all(&self.writer)
        .await?;
        rows.into_iter()
            .map(|(id, d)| {
                serde_json::from_str(&d)
                    .map(|t| (id, t))
                    .map_err(|e| StorageError::Corrupt(format!("intent {id}: {e}")))
            })
            .collect()
    }

    /// Size of the database file plus its WAL.
    pub fn db_size(&self) -> u64 {
        let wal = PathBuf::from(format!("{}-wal", self.path.display()));
        [self.path.clone(), wal]
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }
}

#[cfg(test)]
mod tests;
