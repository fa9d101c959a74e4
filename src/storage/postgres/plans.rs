//! PostgreSQL: retention plans and their moves, per workspace (a plan names the workspace whose
//! attempts it moves; only that workspace's daemon writes it). Same states and transactions as
//! the SQLite records (`storage::records::retention`), whose state checks and status object
//! serve both.

use super::records::{append, Db};
use super::retry;
use crate::storage::records::audit::AuditEntry;
use crate::storage::records::retention::{
    check_state, no_longer_planned, stamp_column, status_json, LastApply,
};
use crate::storage::records::{MoveRow, PlanRow};
use crate::storage::StorageError;

impl Db {
    pub(crate) async fn insert_plan(&self, p: &PlanRow) -> Result<(), StorageError> {
        retry!(async {
            let mut tx = self.begin().await?;
            sqlx::query(
                "insert into retention_plans (id, workspace, created_at, expires_at, policy, plan, snapshot, state)
                 values ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&p.id)
            .bind(&self.own)
            .bind(&p.created_at)
            .bind(&p.expires_at)
            .bind(&p.policy)
            .bind(&p.plan)
            .bind(&p.snapshot)
            .bind(&p.state)
            .execute(&mut *tx)
            .await?;
            self.commit(tx).await
        })
    }

    pub(crate) async fn plan(&self, id: &str) -> Result<Option<PlanRow>, StorageError> {
        Ok(sqlx::query_as(
            "select workspace, id, created_at, expires_at, policy, plan, snapshot, state, applied_at,
                    restored_at, purged_at, bytes_reclaimed from retention_plans where id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub(crate) async fn moves(&self, plan_id: &str) -> Result<Vec<MoveRow>, StorageError> {
        Ok(sqlx::query_as(
            "select plan_id, attempt_id, from_path, trash_path, bytes, state from retention_moves
             where plan_id = $1 order by attempt_id",
        )
        .bind(plan_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub(crate) async fn begin_apply(
        &self,
        plan_id: &str,
        moves: &[MoveRow],
    ) -> Result<(), StorageError> {
        retry!(async {
            let mut tx = self.begin().await?;
            let changed = sqlx::query(
                "update retention_plans set state = 'applying'
                 where id = $1 and workspace = $2 and state = 'planned'",
            )
            .bind(plan_id)
            .bind(&self.own)
            .execute(&mut *tx)
            .await?;
            if changed.rows_affected() != 1 {
                return Err(no_longer_planned(plan_id));
            }
            for m in moves {
                sqlx::query(
                    "insert into retention_moves (plan_id, attempt_id, from_path, trash_path, bytes, state)
                     values ($1, $2, $3, $4, $5, 'pending')",
                )
                .bind(plan_id)
                .bind(&m.attempt_id)
                .bind(&m.from_path)
                .bind(&m.trash_path)
                .bind(m.bytes)
                .execute(&mut *tx)
                .await?;
            }
            self.commit(tx).await
        })
    }

    pub(crate) async fn set_plan_state(
        &self,
        plan_id: &str,
        from: &[&str],
        to: &str,
        bytes: Option<i64>,
        entry: Option<&AuditEntry>,
    ) -> Result<(), StorageError> {
        retry!(async {
            let mut tx = self.begin().await?;
            // Locked to the end of the transaction: the check and the change are one step.
            let (state,): (String,) = sqlx::query_as(
                "select state from retention_plans where id = $1 and workspace = $2 for update",
            )
            .bind(plan_id)
            .bind(&self.own)
            .fetch_one(&mut *tx)
            .await?;
            check_state(plan_id, &state, from)?;
            let stamp = stamp_column(to)
                .map(|c| format!(", {c} = invarlockd_now()"))
                .unwrap_or_default();
            sqlx::query(&format!(
                "update retention_plans set state = $1, bytes_reclaimed = coalesce($3, bytes_reclaimed){stamp}
                 where id = $2"
            ))
            .bind(to)
            .bind(plan_id)
            .bind(bytes)
            .execute(&mut *tx)
            .await?;
            if to == "purged" {
                sqlx::query(
                    "update retention_moves set state = 'purged', updated_at = invarlockd_now()
                     where plan_id = $1 and state = 'moved'",
                )
                .bind(plan_id)
                .execute(&mut *tx)
                .await?;
            }
            if let Some(e) = entry {
                append(&mut tx, &self.own, e).await?;
            }
            self.commit(tx).await
        })
    }

    pub(crate) async fn record_move(
        &self,
        m: &MoveRow,
        state: &str,
        entry: &AuditEntry,
    ) -> Result<(), StorageError> {
        retry!(async {
            let mut tx = self.begin().await?;
            sqlx::query(
                "update retention_moves set state = $1, updated_at = invarlockd_now()
                 where plan_id = $2 and attempt_id = $3",
            )
            .bind(state)
            .bind(&m.plan_id)
            .bind(&m.attempt_id)
            .execute(&mut *tx)
            .await?;
            append(&mut tx, &self.own, entry).await?;
            self.commit(tx).await
        })
    }

    pub(crate) async fn plans_in(&self, state: &str) -> Result<Vec<String>, StorageError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "select id from retention_plans where workspace = $1 and state = $2 order by id",
        )
        .bind(&self.own)
        .bind(state)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    pub(crate) async fn purgeable(
        &self,
        applied_before: &str,
    ) -> Result<Vec<String>, StorageError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "select id from retention_plans where workspace = $1 and state = 'applied'
             and applied_at <= $2 order by applied_at",
        )
        .bind(&self.own)
        .bind(applied_before)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    pub(crate) async fn trash_bytes(&self) -> Result<i64, StorageError> {
        let (n,): (i64,) = sqlx::query_as(
            "select coalesce(sum(m.bytes), 0)::bigint from retention_moves m
             join retention_plans p on p.id = m.plan_id where p.workspace = $1 and m.state = 'moved'",
        )
        .bind(&self.own)
        .fetch_one(&self.pool)
        .await?;
        Ok(n)
    }

    pub(crate) async fn retention_status(&self) -> Result<serde_json::Value, StorageError> {
        let trash = self.trash_bytes().await?;
        let last: Option<LastApply> = sqlx::query_as(
            "select id, applied_at, bytes_reclaimed, state from retention_plans
             where workspace = $1 and applied_at is not null order by applied_at desc limit 1",
        )
        .bind(&self.own)
        .fetch_optional(&self.pool)
        .await?;
        Ok(status_json(trash, last))
    }
}
