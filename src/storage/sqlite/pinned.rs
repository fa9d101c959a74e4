//! Pools pinned to one database file. The index may be deleted (and recreated by another
//! process) while the daemon runs; a pool that lazily opened new connections by path would then
//! split its answers between the old, unlinked file and the new one (seen as a plan alternating
//! 404/200). So every connection is opened eagerly and kept (no idle timeout, no lifetime), and
//! any connection opened later must find the path still naming the file the pool started on, or
//! it fails: an error, never an answer from another database.
//!
//! The connections are opened here, not by sqlx's `min_connections` upkeep: that is a background
//! task which may still be opening a connection when `close` returns, and then parks it in the
//! closed pool, open for as long as the pool value lives. Such a connection kept a deleted index
//! file (and every descriptor SQLite defers closing while a connection holds the file's locks)
//! open after the index was closed. Without the upkeep, every connection is idle or held by an
//! operation, and `close` waits for and closes each one. The daemon keeps serving from the
//! file it opened, with the same answers, until a rebuilt index at the path is put in service
//! (`Indexer::rebuild_if_replaced`).

use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::SqlitePool;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// (device, inode) of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId(u64, u64);

impl FileId {
    pub fn of(path: &Path) -> std::io::Result<FileId> {
        let m = std::fs::metadata(path)?;
        Ok(FileId(m.dev(), m.ino()))
    }
}

/// Creates the database file if it is missing (an empty file is an empty SQLite database), so
/// that its identity is known before the first connection.
pub fn create(path: &Path) -> std::io::Result<FileId> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    FileId::of(path)
}

/// A pool of exactly `n` connections to the file `id` names, all opened now and kept; `close`
/// closes every one of them.
pub async fn pool(
    opts: SqliteConnectOptions,
    path: &Path,
    id: FileId,
    n: u32,
    acquire: Duration,
    generation: Option<&crate::storage::generation::Generation>,
) -> Result<SqlitePool, sqlx::Error> {
    let path: PathBuf = path.to_path_buf();
    let on_connect = generation.cloned();
    let on_release = generation.cloned();
    let pool = SqlitePoolOptions::new()
        .max_connections(n)
        // No background upkeep (see the module comment): the n connections are opened below.
        .min_connections(0)
        .max_lifetime(None)
        .idle_timeout(None)
        .acquire_timeout(acquire)
        .after_connect(move |conn, _meta| {
            let path = path.clone();
            let generation = on_connect.clone();
            Box::pin(async move {
                match FileId::of(&path) {
                    Ok(now) if now == id => match generation {
                        Some(g) => g.attach(conn).await,
                        None => Ok(()),
                    },
                    _ => Err(sqlx::Error::Configuration(
                        format!(
                            "{} was deleted or replaced while the daemon ran; serving from the file it opened (the index is rebuilt at the path)",
                            path.display()
                        )
                        .into(),
                    )),
                }
            })
        })
        .after_release(move |_conn, _meta| {
            if let Some(g) = &on_release {
                g.released();
            }
            Box::pin(async { Ok(true) })
        })
        .connect_with(opts)
        .await?;
    // Held together, each of the n is a connection of its own; released, they stay idle.
    let opened = futures::future::try_join_all((0..n).map(|_| pool.acquire())).await;
    if let Err(e) = opened {
        pool.close().await;
        return Err(e);
    }
    Ok(pool)
}

/// Closes every connection of `pool` (waiting at most `CLOSE_WAIT` for those still held).
///
/// sqlx's `close` alone may return with connections open: a connection given back while it runs
/// (its release hook and ping in flight when the pool was marked closed) lands in the idle queue
/// after `close` emptied it, and `close` stops waiting too early because closing an idle
/// connection hands back a permit it never took (sqlx 0.8). So close again until the pool counts
/// no connection: a closed pool opens none, a connection given back to it is closed, and one
/// parked in the idle queue is closed by the next pass.
pub async fn close(pool: &SqlitePool) {
    let deadline = std::time::Instant::now() + CLOSE_WAIT;
    pool.close().await;
    while pool.size() > 0 {
        if std::time::Instant::now() > deadline {
            tracing::warn!(
                open = pool.size(),
                "connections still held after the index was closed; they close when given back"
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        pool.close().await;
    }
}

/// How long `close` waits for connections that operations still hold.
const CLOSE_WAIT: Duration = Duration::from_secs(10);

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    /// Open descriptors of this process on `path` or its `-wal`/`-shm`.
    fn open_fds(path: &Path) -> usize {
        let p = path.to_string_lossy().into_owned();
        std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
            .filter(|l| l.to_string_lossy().starts_with(&p))
            .count()
    }

    /// A pool closed right after it was opened has closed every connection when `close`
    /// returns: none may be left open on the file (it would keep a deleted index alive and
    /// hold its locks). sqlx's background `min_connections` upkeep used to finish opening a
    /// connection after `close` had returned and park it in the closed pool.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn closing_a_just_opened_pool_leaves_no_connection_open() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..40 {
            let path = dir.path().join(format!("{i}.db"));
            let id = create(&path).unwrap();
            let opts = SqliteConnectOptions::from_str("sqlite://")
                .unwrap()
                .filename(&path)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
            let pool = pool(opts, &path, id, 4, Duration::from_secs(10), None)
                .await
                .unwrap();
            assert_eq!(pool.size(), 4, "every connection is open before use");
            // Connections just given back (still on their way to the idle queue) as well.
            let reads = (0..8).map(|_| sqlx::query("select 1").execute(&pool));
            futures::future::try_join_all(reads).await.unwrap();
            close(&pool).await;
            assert_eq!(pool.size(), 0, "round {i}: a connection outlived close");
            assert_eq!(open_fds(&path), 0, "round {i}: a file is still open");
        }
    }
}
