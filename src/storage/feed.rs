//! Reading the attempt history as a feed, for the live event stream.

use super::StorageError;
use sqlx::SqlitePool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryEvent {
    pub seq: i64,
    pub attempt_id: String,
    pub event: String,
    pub status: Option<String>,
    pub reason: Option<String>,
}

pub async fn last_seq(pool: &SqlitePool) -> Result<i64, StorageError> {
    let (n,): (Option<i64>,) = sqlx::query_as("select max(seq) from attempt_history")
        .fetch_one(pool)
        .await?;
    Ok(n.unwrap_or(0))
}

pub async fn after(
    pool: &SqlitePool,
    seq: i64,
    limit: u32,
) -> Result<Vec<HistoryEvent>, StorageError> {
    Ok(sqlx::query_as(
        "select seq, attempt_id, event, status, reason from attempt_history where seq > ? order by seq limit ?",
    )
    .bind(seq)
    .bind(limit as i64)
    .fetch_all(pool)
    .await?)
}
