//! Taking over the records that an `index.db` of an earlier version still holds (before the
//! split, the audit log, verifications and retention plans lived in the index). Runs once, on a
//! records database that is still empty; the index migration that follows drops the old tables.

use crate::storage::StorageError;
use sqlx::SqlitePool;
use std::path::Path;

const TABLES: [(&str, &str); 4] = [
    (
        "audit_log",
        "seq, at, action, subject, actor, detail, prev_hash, hash, created_at",
    ),
    (
        "verifications",
        "seq, promotion, ok, result, actor, created_at",
    ),
    (
        "retention_plans",
        "id, created_at, expires_at, policy, plan, snapshot, state, applied_at, restored_at, purged_at, bytes_reclaimed",
    ),
    (
        "retention_moves",
        "plan_id, attempt_id, from_path, trash_path, bytes, state, updated_at",
    ),
];

pub(super) async fn import(writer: &SqlitePool, index: &Path) -> Result<(), StorageError> {
    let mut conn = writer.acquire().await?;
    let (ours,): (i64,) = sqlx::query_as(
        "select (select count(*) from audit_log) + (select count(*) from retention_plans) + (select count(*) from verifications)",
    )
    .fetch_one(&mut *conn)
    .await?;
    if ours > 0 {
        return Ok(());
    }
    sqlx::query("attach database ? as legacy")
        .bind(index.to_string_lossy().into_owned())
        .execute(&mut *conn)
        .await?;
    let result = async {
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let mut copied = 0u64;
        for (table, cols) in TABLES {
            let (present,): (i64,) = sqlx::query_as(
                "select count(*) from legacy.sqlite_master where type = 'table' and name = ?",
            )
            .bind(table)
            .fetch_one(&mut *tx)
            .await?;
            if present == 1 {
                copied += sqlx::query(&format!(
                    "insert into main.{table} ({cols}) select {cols} from legacy.{table}"
                ))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
        }
        tx.commit().await?;
        if copied > 0 {
            tracing::info!(rows = copied, index = %index.display(), "took over the records of an older index.db");
        }
        Ok::<(), StorageError>(())
    }
    .await;
    sqlx::query("detach database legacy")
        .execute(&mut *conn)
        .await?;
    result
}
