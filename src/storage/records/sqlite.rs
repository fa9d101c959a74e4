//! The SQLite records (`<state>/records.db`): one file holds one workspace's records, so its
//! SQL knows no workspace; rows are stamped with the daemon's id and a scope naming another
//! workspace finds nothing.

use super::audit::{self, AuditEntry, AuditRow, ChainCheck};
use super::{IntentKind, VerificationRow};
use crate::domain::WorkspaceId;
use crate::storage::StorageError;
use sqlx::SqlitePool;

#[derive(Clone, Debug)]
pub(super) struct Db {
    pub(super) writer: SqlitePool,
    pub(super) reader: SqlitePool,
    pub(super) own: WorkspaceId,
}

impl Db {
    pub(super) async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }

    // --- audit -------------------------------------------------------------------------------

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
    pub(super) async fn audit_page(
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
    pub(super) async fn check_chain(&self, workspace: &str) -> Result<ChainCheck, StorageError> {
        if !self.holds(Some(workspace)) {
            return Ok(ChainCheck::empty());
        }
        audit::check_chain(&self.reader).await
    }

    /// Appends one entry on its own.
    pub(super) async fn append_audit(&self, entry: &AuditEntry) -> Result<AuditRow, StorageError> {
        let mut tx = self.writer.begin().await?;
        let row = audit::append(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(self.stamp_audit(vec![row]).remove(0))
    }

    // --- verifications -----------------------------------------------------------------------

    /// Records a verification result with its audit entry, in one transaction.
    pub(super) async fn record_verification(
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
    pub(super) async fn verifications_of(
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
    pub(super) async fn open_intent(
        &self,
        kind: IntentKind,
        detail: &str,
    ) -> Result<i64, StorageError> {
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
    pub(super) async fn complete_intent(
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
    pub(super) async fn roll_back_intent(&self, id: i64) -> Result<(), StorageError> {
        sqlx::query(
            "update intents set state = 'rolled_back', closed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') where id = ? and state = 'open'",
        )
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Intents left open by a crash, oldest first, with their details as recorded.
    pub(super) async fn open_intents(
        &self,
        kind: IntentKind,
    ) -> Result<Vec<(i64, String)>, StorageError> {
        Ok(sqlx::query_as(
            "select id, detail from intents where state = 'open' and kind = ? order by id",
        )
        .bind(kind.as_str())
        .fetch_all(&self.writer)
        .await?)
    }
}
