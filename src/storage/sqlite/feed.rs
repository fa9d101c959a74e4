//! SQLite: reading the attempt history as a feed, for the live event stream.

use crate::storage::feed::HistoryEvent;
use crate::storage::StorageError;
use sqlx::SqlitePool;

async fn last_seq(pool: &SqlitePool) -> Result<i64, StorageError> {
    let (n,): (Option<i64>,) = sqlx::query_as("select max(seq) from attempt_history")
        .fetch_one(pool)
        .await?;
    Ok(n.unwrap_or(0))
}

async fn after(pool: &SqlitePool, seq: i64, limit: u32) -> Result<Vec<HistoryEvent>, StorageError> {
    Ok(sqlx::query_as(
        "select seq, attempt_id, event, status, reason from attempt_history where seq > ? order by seq limit ?",
    )
    .bind(seq)
    .bind(limit as i64)
    .fetch_all(pool)
    .await?)
}

impl super::Index {
    pub async fn history_last_seq(&self) -> Result<i64, StorageError> {
        last_seq(&self.reader).await
    }

    pub async fn history_after(
        &self,
        seq: i64,
        limit: u32,
    ) -> Result<Vec<HistoryEvent>, StorageError> {
        after(&self.reader, seq, limit).await
    }
}
