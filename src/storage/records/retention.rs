//! Retention plans and their moves. A plan's state is the intent of the operation under way:
//! `applying`, `restoring` and `purging` are committed before the filesystem is touched, and
//! each move's new state commits together with its audit entry.

use super::audit::{self, AuditEntry};
use super::sqlite::Db;
use crate::storage::StorageError;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PlanRow {
    /// The workspace whose attempts the plan moves (only its daemon may apply it).
    #[sqlx(default)]
    pub workspace: String,
    pub id: String,
    pub created_at: String,
    pub expires_at: String,
    pub policy: String,
    pub plan: String,
    pub snapshot: String,
    pub state: String,
    pub applied_at: Option<String>,
    pub restored_at: Option<String>,
    pub purged_at: Option<String>,
    pub bytes_reclaimed: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MoveRow {
    pub plan_id: String,
    pub attempt_id: String,
    pub from_path: String,
    pub trash_path: String,
    pub bytes: i64,
    pub state: String,
}

// What follows up to `impl Db` is the plans' logic apart from SQL, shared by both backends
// (`storage::postgres::plans` is the PostgreSQL twin of this file's queries).

/// The column stamped when a plan reaches a state.
pub(crate) fn stamp_column(state: &str) -> Option<&'static str> {
    match state {
        "applied" => Some("applied_at"),
        "restored" => Some("restored_at"),
        "purged" => Some("purged_at"),
        _ => None,
    }
}

/// Why an apply may not begin: the plan left `planned` (another apply, an expiry) meanwhile.
pub(crate) fn no_longer_planned(plan_id: &str) -> StorageError {
    StorageError::Corrupt(format!("plan {plan_id} is no longer planned"))
}

/// Refuses a state change from a state not in `from`.
pub(crate) fn check_state(plan_id: &str, state: &str, from: &[&str]) -> Result<(), StorageError> {
    if from.contains(&state) {
        Ok(())
    } else {
        Err(StorageError::Corrupt(format!(
            "plan {plan_id} is {state}, expected one of {from:?}"
        )))
    }
}

/// The last applied plan as `/v1/status` reads it: id, applied_at, bytes_reclaimed, state.
pub(crate) type LastApply = (String, Option<String>, i64, String);

/// `/v1/status`'s retention object: bytes in trash and the last apply.
pub(crate) fn status_json(trash_bytes: i64, last: Option<LastApply>) -> serde_json::Value {
    serde_json::json!({
        "trash_bytes": trash_bytes,
        "last_apply": last.map(|(id, at, bytes, state)| serde_json::json!({
            "plan_id": id, "applied_at": at, "bytes_reclaimed": bytes, "state": state
        })),
    })
}

impl Db {
    pub(super) async fn insert_plan(&self, p: &PlanRow) -> Result<(), StorageError> {
        sqlx::query(
            "insert into retention_plans (id, created_at, expires_at, policy, plan, snapshot, state) values (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&p.id)
        .bind(&p.created_at)
        .bind(&p.expires_at)
        .bind(&p.policy)
        .bind(&p.plan)
        .bind(&p.snapshot)
        .bind(&p.state)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// A plan by id (ids are unique across workspaces), naming its workspace.
    pub(super) async fn plan(&self, id: &str) -> Result<Option<PlanRow>, StorageError> {
        let row: Option<PlanRow> = sqlx::query_as("select * from retention_plans where id = ?")
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        Ok(row.map(|p| PlanRow {
            workspace: self.own.to_string(),
            ..p
        }))
    }

    pub(super) async fn moves(&self, plan_id: &str) -> Result<Vec<MoveRow>, StorageError> {
        Ok(sqlx::query_as(
            "select plan_id, attempt_id, from_path, trash_path, bytes, state from retention_moves where plan_id = ? order by attempt_id",
        )
        .bind(plan_id)
        .fetch_all(&self.reader)
        .await?)
    }

    /// The intent of an apply: the plan becomes `applying` with every move `pending`, in one
    /// transaction, before anything is moved. Fails if the plan is no longer `planned`.
    pub(super) async fn begin_apply(
        &self,
        plan_id: &str,
        moves: &[MoveRow],
    ) -> Result<(), StorageError> {
        let mut tx = self.writer.begin().await?;
        let changed = sqlx::query(
            "update retention_plans set state = 'applying' where id = ? and state = 'planned'",
        )
        .bind(plan_id)
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() != 1 {
            return Err(no_longer_planned(plan_id));
        }
        for m in moves {
            sqlx::query(
                "insert into retention_moves (plan_id, attempt_id, from_path, trash_path, bytes, state) values (?, ?, ?, ?, ?, 'pending')",
            )
            .bind(plan_id)
            .bind(&m.attempt_id)
            .bind(&m.from_path)
            .bind(&m.trash_path)
            .bind(m.bytes)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Moves a plan from one state to another (an intent such as `restoring`, or the end of
    /// one), optionally with the bytes reclaimed and an audit entry, in one transaction.
    pub(super) async fn set_plan_state(
        &self,
        plan_id: &str,
        from: &[&str],
        to: &str,
        bytes: Option<i64>,
        entry: Option<&AuditEntry>,
    ) -> Result<(), StorageError> {
        let mut tx = self.writer.begin().await?;
        let (state,): (String,) = sqlx::query_as("select state from retention_plans where id = ?")
            .bind(plan_id)
            .fetch_one(&mut *tx)
            .await?;
        check_state(plan_id, &state, from)?;
        let sql = match stamp_column(to) {
            Some(col) => format!("update retention_plans set state = ?1, {col} = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') where id = ?2"),
            None => "update retention_plans set state = ?1 where id = ?2".to_string(),
        };
        sqlx::query(&sql)
            .bind(to)
            .bind(plan_id)
            .execute(&mut *tx)
            .await?;
        if let Some(b) = bytes {
            sqlx::query("update retention_plans set bytes_reclaimed = ? where id = ?")
                .bind(b)
                .bind(plan_id)
                .execute(&mut *tx)
                .await?;
        }
        if to == "purged" {
            sqlx::query("update retention_moves set state = 'purged', updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') where plan_id = ? and state = 'moved'")
                .bind(plan_id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(e) = entry {
            audit::append(&mut tx, e).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records that one move happened (or was undone), with its audit entry, atomically.
    pub(super) async fn record_move(
        &self,
        m: &MoveRow,
        state: &str,
        entry: &AuditEntry,
    ) -> Result<(), StorageError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "update retention_moves set state = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') where plan_id = ? and attempt_id = ?",
        )
        .bind(state)
        .bind(&m.plan_id)
        .bind(&m.attempt_id)
        .execute(&mut *tx)
        .await?;
        audit::append(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Plans in one state (those left mid-operation by a crash, at start).
    pub(super) async fn plans_in(&self, state: &str) -> Result<Vec<String>, StorageError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("select id from retention_plans where state = ? order by id")
                .bind(state)
                .fetch_all(&self.reader)
                .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Applied plans whose grace period is over (their trash can be purged).
    pub(super) async fn purgeable(
        &self,
        applied_before: &str,
    ) -> Result<Vec<String>, StorageError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "select id from retention_plans where state = 'applied' and applied_at <= ? order by applied_at",
        )
        .bind(applied_before)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Bytes in trash: moved by applied plans, not purged or restored.
    pub(super) async fn trash_bytes(&self) -> Result<i64, StorageError> {
        let (trash,): (i64,) = sqlx::query_as(
            "select coalesce(sum(bytes), 0) from retention_moves where state = 'moved'",
        )
        .fetch_one(&self.reader)
        .await?;
        Ok(trash)
    }

    /// For `/v1/status`: bytes in trash (moved, not purged) and the last apply.
    pub(super) async fn retention_status(&self) -> Result<serde_json::Value, StorageError> {
        let trash = self.trash_bytes().await?;
        let last: Option<LastApply> = sqlx::query_as(
            "select id, applied_at, bytes_reclaimed, state from retention_plans where applied_at is not null order by applied_at desc limit 1",
        )
        .fetch_optional(&self.reader)
        .await?;
        Ok(status_json(trash, last))
    }
}
