//! PostgreSQL: the registry of the fleet's workspaces (shared table `workspaces`): each daemon
//! upserts its own row at start and touches `last_contact_at` on every heartbeat; every daemon
//! reads all rows (which workspaces exist, and where each index schema is).

use super::{retry, Index};
use crate::storage::workspace::{now, Own, WorkspaceRow};
use crate::storage::StorageError;

impl Index {
    /// Upserts this daemon's row: id, index schema, host, public URL, start and contact time.
    pub async fn register(&self, own: &Own) -> Result<(), StorageError> {
        retry!(async {
            let mut tx = self.begin().await?;
            sqlx::query(
                "insert into workspaces (id, index_schema, host, public_url, started_at, last_contact_at)
                 values ($1, $2, $3, $4, $5, $6)
                 on conflict (id) do update set index_schema = excluded.index_schema, host = excluded.host,
                    public_url = excluded.public_url, started_at = excluded.started_at,
                    last_contact_at = excluded.last_contact_at",
            )
            .bind(&self.own)
            .bind(&self.schema)
            .bind(&own.host)
            .bind(own.public_url())
            .bind(&own.started_at)
            .bind(now())
            .execute(&mut *tx)
            .await?;
            self.commit(tx).await
        })
    }

    /// This daemon is alive now. A registry that lost its row (a database restored from an
    /// older backup) gets it back.
    pub async fn heartbeat(&self, own: &Own) -> Result<(), StorageError> {
        // Not a commit of the index: no generation moves for it.
        let touched = sqlx::query("update workspaces set last_contact_at = $2 where id = $1")
            .bind(&self.own)
            .bind(now())
            .execute(self.pool())
            .await?;
        if touched.rows_affected() == 0 {
            self.register(own).await?;
        }
        Ok(())
    }

    pub async fn workspaces(&self) -> Result<Vec<WorkspaceRow>, StorageError> {
        Ok(sqlx::query_as(
            "select id, host, public_url, started_at, last_contact_at from workspaces order by id",
        )
        .fetch_all(self.pool())
        .await?)
    }
}
