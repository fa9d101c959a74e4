//! The `unrecognized` table: entries of runs/ that are not attempts, recomputed by scans.

use super::super::Tx;
use crate::storage::attempts::UnrecognizedRow;
use crate::storage::StorageError;
use sqlx::SqlitePool;

/// Replaces the whole unrecognized list (it is recomputed by every full scan).
pub(super) async fn replace_unrecognized(
    tx: &mut Tx<'_>,
    rows: &[UnrecognizedRow],
) -> Result<(), StorageError> {
    sqlx::query("delete from unrecognized")
        .execute(&mut **tx)
        .await?;
    insert_unrecognized(tx, rows).await
}

/// Replaces the unrecognized rows for one top-level entry of runs/ (`top` and below it).
pub(super) async fn replace_unrecognized_under(
    tx: &mut Tx<'_>,
    top: &str,
    rows: &[UnrecognizedRow],
) -> Result<(), StorageError> {
    // A prefix test without LIKE, whose wildcards a directory name may contain.
    sqlx::query(
        "delete from unrecognized where path = ?1 or substr(path, 1, length(?1) + 1) = ?1 || '/'",
    )
    .bind(top)
    .execute(&mut **tx)
    .await?;
    insert_unrecognized(tx, rows).await
}

async fn insert_unrecognized(
    tx: &mut Tx<'_>,
    rows: &[UnrecognizedRow],
) -> Result<(), StorageError> {
    for r in rows {
        sqlx::query("insert or replace into unrecognized (path, kind, reason) values (?, ?, ?)")
            .bind(&r.path)
            .bind(&r.kind)
            .bind(&r.reason)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

pub(super) async fn list_unrecognized(
    pool: &SqlitePool,
    limit: u32,
) -> Result<Vec<UnrecognizedRow>, StorageError> {
    Ok(
        sqlx::query_as("select path, kind, reason from unrecognized order by path limit ?")
            .bind(limit as i64)
            .fetch_all(pool)
            .await?,
    )
}
