//! All SQL of the daemon lives under this module. SQLite through sqlx: WAL, `synchronous=NORMAL`,
//! a busy timeout, foreign keys, one writer connection and a separate read pool.
//!
//! Functions take a pool or a transaction (the caller owns the transaction); nothing outside this
//! module builds SQL, so another backend can be added here without touching the indexer or API.

pub mod attempts;
pub mod evidence;
pub mod feed;
pub mod generation;
pub mod mappings;
mod pinned;
pub mod promotions;
pub mod records;
pub mod retention;
pub mod runs;

use base64::Engine as _;
use serde::{de::DeserializeOwned, Serialize};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

pub type Tx<'a> = Transaction<'a, Sqlite>;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database: {0}")]
    Db(sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create {0}: {1}")]
    Dir(PathBuf, std::io::Error),
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

/// Every database error passes through here, which is where it is counted.
impl From<sqlx::Error> for StorageError {
    fn from(e: sqlx::Error) -> Self {
        crate::metrics::db_error(&e);
        StorageError::Db(e)
    }
}

#[derive(Clone, Debug)]
pub struct Storage {
    pub path: PathBuf,
    /// The file the pools are pinned to.
    file: pinned::FileId,
    writer: SqlitePool,
    reader: SqlitePool,
    /// Moves after every committed write to the index (conditional GETs).
    pub generation: generation::Generation,
}

impl Storage {
    /// Opens (creating if needed) the index at `path` and applies the embedded migrations.
    pub async fn open(path: &Path) -> Result<Storage, StorageError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| StorageError::Dir(parent.to_path_buf(), e))?;
        }
        let opts = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("cache_size", "-16000")
            .pragma("temp_store", "memory");
        // Pinned to this file: see `pinned` for why no connection may reopen the path.
        let id = pinned::create(path).map_err(|e| StorageError::Dir(path.to_path_buf(), e))?;
        let generation = generation::Generation::default();
        let writer = pinned::pool(
            opts.clone(),
            path,
            id,
            1,
            Duration::from_secs(60),
            Some(&generation),
        )
        .await?;
        sqlx::migrate!("./migrations/index").run(&writer).await?;
        let reader = pinned::pool(
            opts.read_only(true),
            path,
            id,
            4,
            Duration::from_secs(30),
            None,
        )
        .await?;
        Ok(Storage {
            path: path.to_path_buf(),
            file: id,
            writer,
            reader,
            generation,
        })
    }

    /// Whether the path no longer names the file this index was opened on (deleted or
    /// replaced while the daemon runs). The daemon keeps serving the file it opened.
    pub fn file_replaced(&self) -> bool {
        pinned::FileId::of(&self.path).map_or(true, |now| now != self.file)
    }

    /// The single writer connection. Hold transactions on it briefly.
    pub fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    pub fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// `BEGIN IMMEDIATE`-equivalent: the writer pool has one connection, so a transaction on it
    /// never races another writer of this process.
    pub async fn begin(&self) -> Result<Tx<'static>, StorageError> {
        Ok(self.writer.begin().await?)
    }

    pub async fn check_writable(&self) -> Result<(), StorageError> {
        let mut tx = self.begin().await?;
        sqlx::query("insert into index_meta (key, value) values ('writable_check', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) on conflict (key) do update set value = excluded.value")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Counts for `/v1/status`: attempts by status, nicknames, unrecognized entries,
    /// certificates, evidence dirs, last index event and database size.
    pub async fn status_summary(&self) -> Result<serde_json::Value, StorageError> {
        let by_status = attempts::count_by_status(&self.reader).await?;
        let mut counts = serde_json::Map::new();
        let mut total = 0i64;
        for st in crate::report::AttemptStatus::ALL {
            let n = by_status
                .iter()
                .find(|(s, _)| s == st.as_str())
                .map_or(0, |(_, n)| *n);
            total += n;
            counts.insert(st.as_str().into(), n.into());
        }
        counts.insert("total".into(), total.into());
        let nicknames = attempts::nickname_count(&self.reader).await?;
        let last = attempts::last_index_event(&self.reader).await?;
        let (unrecognized,): (i64,) = sqlx::query_as("select count(*) from unrecognized")
            .fetch_one(&self.reader)
            .await?;
        let (certificates,): (i64,) = sqlx::query_as("select count(*) from certificates")
            .fetch_one(&self.reader)
            .await?;
        let (evidence,): (i64,) = sqlx::query_as("select count(*) from evidence_dirs")
            .fetch_one(&self.reader)
            .await?;
        let (mappings,): (i64,) = sqlx::query_as("select count(*) from mappings")
            .fetch_one(&self.reader)
            .await?;
        Ok(serde_json::json!({
            "attempts": counts,
            "nicknames": nicknames,
            "unrecognized": unrecognized,
            "certificates": certificates,
            "evidence_dirs": evidence,
            "mappings": mappings,
            "last_index_event_at": last,
            "db_size_bytes": self.db_size(),
        }))
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

/// Keyset pagination: a page query fetches `limit + 1` rows, and the extra row only says that
/// another page exists. Returns the page and, when there is a next one, the key of its last row.
pub fn split_page<T, K>(
    mut rows: Vec<T>,
    limit: u32,
    key: impl FnOnce(&T) -> K,
) -> (Vec<T>, Option<K>) {
    if rows.len() <= limit as usize {
        return (rows, None);
    }
    rows.truncate(limit as usize);
    let next = rows.last().map(key);
    (rows, next)
}

/// Opaque keyset page tokens: base64url(JSON of the last row's sort key).
pub fn encode_token<T: Serialize>(key: &T) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(key).unwrap_or_default())
}

pub fn decode_token<T: DeserializeOwned>(token: &str) -> Option<T> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn opening_applies_migrations_and_the_index_is_writable() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(&dir.path().join("state/index.db"))
            .await
            .unwrap();
        s.check_writable().await.unwrap();
        let summary = s.status_summary().await.unwrap();
        assert_eq!(summary["attempts"]["total"], 0);
        let (mode,): (String,) = sqlx::query_as("pragma journal_mode")
            .fetch_one(s.reader())
            .await
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn page_tokens_round_trip_and_garbage_is_rejected() {
        let t = encode_token(&("20261128_204141", "a/b"));
        assert_eq!(decode_token::<(String, String)>(&t).unwrap().1, "a/b");
        assert!(decode_token::<(String, String)>("!!").is_none());
    }
}
