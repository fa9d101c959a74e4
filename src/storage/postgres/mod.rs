//! The PostgreSQL backend (issue 12): several daemons, each indexing its own workspace, share
//! one database.
//!
//! - Each workspace's index lives in a schema of its own (`ws_<digest of the id>`), with the
//!   same tables as the SQLite index (migrations/postgres/index, run per schema). Its daemon
//!   is its only writer, so index writes of two daemons never touch the same rows, and the
//!   index SQL has no workspace to get wrong. A read of several workspaces runs per schema and
//!   merges (`fleet.rs`).
//! - The registry and the durable records of every workspace are shared tables in `public`
//!   (migrations/postgres/shared), each row naming its workspace (`records.rs`).
//!
//! Every method is one operation that owns its transaction, like the SQLite backend's; a
//! transient conflict (serialization failure, deadlock) is retried inside it.

mod attempts;
mod evidence;
mod fleet;
mod mappings;
mod plans;
mod reads;
pub(super) mod records;
mod registry;
mod runs;
#[cfg(test)]
mod tests;

use super::generation::Generation;
use super::workspace::Own;
use super::StorageError;
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;

pub(super) type Tx<'a> = Transaction<'a, Postgres>;

#[derive(Debug)]
pub(super) struct Index {
    pool: PgPool,
    own: String,
    /// The own workspace's schema, quoted.
    schema: String,
    generation: Generation,
}

/// The schema of a workspace's index: a digest, because ids are case-sensitive and up to 64
/// characters while PostgreSQL folds unquoted names and cuts them at 63 bytes.
pub(super) fn schema_of(workspace: &str) -> String {
    let digest = hex::encode(Sha256::digest(workspace.as_bytes()));
    format!("ws_{}", &digest[..24])
}

/// Runs `$op` (an expression giving a future) again while it fails with a conflict that
/// PostgreSQL asks the client to retry; a client never sees one.
macro_rules! retry {
    ($op:expr) => {{
        let mut tries = 0u32;
        loop {
            match $op.await {
                Err(e) if e.is_transient() && tries < 8 => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(5 << tries)).await;
                }
                result => break result,
            }
        }
    }};
}
pub(super) use retry;

/// A pool on `url`: a few connections per daemon (the server is shared with the fleet).
pub(super) async fn connect(url: &str) -> Result<PgPool, StorageError> {
    let opts = PgConnectOptions::from_str(url)?.application_name("invarlockd");
    Ok(PgPoolOptions::new()
        .max_connections(8)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(opts)
        .await?)
}

impl Index {
    /// Opens the index of `own`'s workspace in the database at `url`: the shared tables and
    /// the workspace's schema are created or migrated.
    pub async fn open(
        url: &str,
        own: &Own,
        generation: &Generation,
    ) -> Result<Index, StorageError> {
        let pool = connect(url).await?;
        records::migrate(&pool).await?;
        let schema = schema_of(own.id.as_str());
        // The schema's migrations see only the schema (their own `_sqlx_migrations` included).
        let mut conn = pool.acquire().await?;
        sqlx::query(&format!("create schema if not exists {schema}"))
            .execute(&mut *conn)
            .await?;
        sqlx::query(&format!("set search_path to {schema}"))
            .execute(&mut *conn)
            .await?;
        let migrated = sqlx::migrate!("./migrations/postgres/index")
            .run(&mut *conn)
            .await;
        sqlx::query("reset search_path").execute(&mut *conn).await?;
        drop(conn);
        migrated?;
        // Registered by `Storage::register_workspace`, once the daemon knows that no live
        // daemon elsewhere holds the id (fleet::registry::check_unique).
        Ok(Index {
            pool,
            own: own.id.to_string(),
            schema,
            generation: generation.clone(),
        })
    }

    /// `template` with `{s}` naming the own workspace's schema.
    fn sql(&self, template: &str) -> String {
        template.replace("{s}", &self.schema)
    }

    async fn begin(&self) -> Result<Tx<'static>, StorageError> {
        Ok(self.pool.begin().await?)
    }

    /// Commits, moving the generation once the commit is visible.
    async fn commit(&self, tx: Tx<'_>) -> Result<(), StorageError> {
        let _mark = self.generation.writing();
        tx.commit().await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(super) fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn check_writable(&self) -> Result<(), StorageError> {
        retry!(async {
            let mut tx = self.begin().await?;
            sqlx::query(&self.sql(
                "insert into {s}.index_meta (key, value) values ('writable_check', {s}.now_text())
                 on conflict (key) do update set value = excluded.value",
            ))
            .execute(&mut *tx)
            .await?;
            self.commit(tx).await
        })
    }
}
