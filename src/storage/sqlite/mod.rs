//! The SQLite index: one file in WAL mode (`synchronous=NORMAL`, a busy timeout, foreign keys),
//! one writer connection and a read pool of four, both pinned to the file they opened.
//!
//! Everything here is private to `storage`: `Index` carries one method per operation of
//! `Storage` (in the submodule of its tables), and each write operation opens and commits its
//! own transaction on the single writer. Nothing outside `storage` sees a pool, a transaction
//! or SQL, so a second backend (`storage::postgres`) is a sibling of this module with the same
//! methods (see docs/storage.md).

pub(super) mod attempts;
mod evidence;
mod feed;
mod mappings;
mod pinned;
mod promotions;
pub(super) mod retention;
mod runs;

use super::generation::Generation;
use super::StorageError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

pub(super) type Tx<'a> = Transaction<'a, Sqlite>;

#[derive(Debug)]
pub(super) struct Index {
    path: PathBuf,
    /// The file the pools are pinned to.
    file: pinned::FileId,
    writer: SqlitePool,
    reader: SqlitePool,
    /// What the writer's commits move.
    generation: Generation,
    /// The `-wal` and `-shm` files these connections use, as opened (see `release_path`).
    sidecars: Vec<(PathBuf, Option<pinned::FileId>)>,
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Read connections: one per core (a read of the cached index is CPU-bound, so more only
/// queue on the cores), at least 2 so that one slow read never holds up every other.
fn read_connections() -> u32 {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 16) as u32)
}

/// Applies the index's migrations. Another process may create the same new file at the same
/// moment (the file deleted and recreated by someone else while the daemon rebuilds it): both
/// apply the first migration, and one fails on a table the other has just made. Each migration
/// is one transaction, so the loser changed nothing, and its next run finds them applied.
async fn migrate(writer: &SqlitePool) -> Result<(), sqlx::migrate::MigrateError> {
    use sqlx::migrate::MigrateError;
    static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/index");
    let mut tries = 0u64;
    loop {
        match MIGRATOR.run(writer).await {
            Err(MigrateError::ExecuteMigration(..) | MigrateError::Execute(_)) if tries < 3 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(50 * tries)).await;
            }
            done => return done,
        }
    }
}

/// SQLITE_BUSY or SQLITE_LOCKED (any extended code of them), from a query or a migration.
fn busy(e: &StorageError) -> bool {
    let db = match e {
        StorageError::Db(sqlx::Error::Database(d)) => d,
        StorageError::Migrate(sqlx::migrate::MigrateError::Execute(sqlx::Error::Database(d))) => d,
        _ => return false,
    };
    db.code()
        .and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|c| matches!(c & 0xff, 5 | 6))
}

impl Index {
    /// Opens (creating if needed) the index at `path` and applies the embedded migrations.
    /// Commits on the writer move `generation`.
    pub async fn open(path: &Path, generation: &Generation) -> Result<Index, StorageError> {
        // Another opener of the same new file (someone recreating a deleted index while the
        // daemon rebuilds it) may hold the lock that setting WAL mode or the first migration
        // needs, and SQLite answers SQLITE_BUSY there without waiting on the busy timeout.
        // Nothing is half-done by a failed open, so it is tried again.
        let mut tries = 0u32;
        loop {
            match Self::open_once(path, generation).await {
                Err(e) if busy(&e) && tries < 20 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(25 * u64::from(tries))).await;
                }
                done => return done,
            }
        }
    }

    async fn open_once(path: &Path, generation: &Generation) -> Result<Index, StorageError> {
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
        // sqlx keeps each connection's prepared statements (statement_cache_capacity, 100 by
        // default, left on): a query text seen before is not prepared again.
        // Pinned to this file: see `pinned` for why no connection may reopen the path.
        let id = pinned::create(path).map_err(|e| StorageError::Dir(path.to_path_buf(), e))?;
        let writer = pinned::pool(
            opts.clone(),
            path,
            id,
            1,
            Duration::from_secs(60),
            Some(generation),
        )
        .await?;
        if let Err(e) = migrate(&writer).await {
            pinned::close(&writer).await;
            return Err(e.into());
        }
        let reader = match pinned::pool(
            opts.read_only(true),
            path,
            id,
            read_connections(),
            Duration::from_secs(30),
            None,
        )
        .await
        {
            Ok(reader) => reader,
            Err(e) => {
                pinned::close(&writer).await;
                return Err(e.into());
            }
        };
        let sidecars = ["-wal", "-shm"]
            .iter()
            .map(|suffix| {
                let p = sidecar(path, suffix);
                let id = pinned::FileId::of(&p).ok();
                (p, id)
            })
            .collect();
        Ok(Index {
            path: path.to_path_buf(),
            file: id,
            writer,
            reader,
            generation: generation.clone(),
            sidecars,
        })
    }

    /// Whether the path no longer names the file this index was opened on, or its `-wal` or
    /// `-shm` is no longer the one these connections use (deleted: while they are open nothing
    /// else removes them). Either way the file at the path is not this index any more.
    pub fn file_replaced(&self) -> bool {
        pinned::FileId::of(&self.path).map_or(true, |now| now != self.file)
            || self
                .sidecars
                .iter()
                .any(|(p, opened)| opened.is_some() && pinned::FileId::of(p).ok() != *opened)
    }

    /// Makes the path free for a new database while this one keeps serving: removes the file
    /// and its `-wal`/`-shm` where they are still this database's own (a new database must not
    /// share a file, or read this one's WAL as its own). These connections keep their open
    /// files, and since their database file has moved SQLite neither checkpoints nor deletes
    /// the WAL by name when they close, so the new database's files are never touched by them.
    pub fn release_path(&self) -> std::io::Result<()> {
        let main = (self.path.clone(), Some(self.file));
        for (p, opened) in self.sidecars.iter().chain(std::iter::once(&main)) {
            match pinned::FileId::of(p) {
                Ok(now) if Some(now) == *opened => std::fs::remove_file(p)?,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Closing the pools checkpoints the WAL into the file.
    pub async fn close(&self) {
        pinned::close(&self.writer).await;
        pinned::close(&self.reader).await;
    }

    #[cfg(test)]
    pub fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    #[cfg(test)]
    pub async fn begin(&self) -> Result<Tx<'static>, StorageError> {
        Ok(self.writer.begin().await?)
    }

    /// A write that no answer reads (`index_meta.writable_check`): its commit moves no
    /// generation (the heartbeat makes it every two seconds).
    pub async fn check_writable(&self) -> Result<(), StorageError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("insert into index_meta (key, value) values ('writable_check', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) on conflict (key) do update set value = excluded.value")
            .execute(&mut *tx)
            .await?;
        let _unseen = self.generation.unseen();
        tx.commit().await?;
        Ok(())
    }

    /// Counts for `/v1/status`: attempts by status, nicknames, unrecognized entries,
    /// certificates, evidence dirs, mappings and the last index event.
    pub async fn status_counts(&self) -> Result<super::StatusCounts, StorageError> {
        let by_status = attempts::count_by_status(&self.reader).await?;
        let nicknames = attempts::nickname_count(&self.reader).await?;
        let last_index_event_at = attempts::last_index_event(&self.reader).await?;
        let count = |table: &'static str| {
            let sql = format!("select count(*) from {table}");
            async move {
                let (n,): (i64,) = sqlx::query_as(&sql).fetch_one(&self.reader).await?;
                Ok::<_, StorageError>(n)
            }
        };
        Ok(super::StatusCounts {
            by_status,
            nicknames,
            unrecognized: count("unrecognized").await?,
            certificates: count("certificates").await?,
            evidence_dirs: count("evidence_dirs").await?,
            mappings: count("mappings").await?,
            last_index_event_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two openers of one new file at the same moment (another process recreating the deleted
    /// index while the daemon rebuilds it) both get a migrated index.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_openers_of_one_new_index_both_get_it_migrated() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..10 {
            let path = dir.path().join(format!("{i}.db"));
            let (g1, g2) = (Generation::default(), Generation::default());
            let (a, b) = tokio::join!(Index::open(&path, &g1), Index::open(&path, &g2));
            let (a, b) = (a.unwrap(), b.unwrap());
            a.check_writable().await.unwrap();
            b.check_writable().await.unwrap();
            a.close().await;
            b.close().await;
        }
    }
}
