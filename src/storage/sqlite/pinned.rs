//! Pools pinned to one database file. The index may be deleted (and recreated by another
//! process) while the daemon runs; a pool that lazily opened new connections by path would then
//! split its answers between the old, unlinked file and the new one (seen as a plan alternating
//! 404/200). So every connection is opened eagerly and kept (no idle timeout, no lifetime), and
//! any connection opened later must find the path still naming the file the pool started on, or
//! it fails: an error, never an answer from another database. The daemon keeps serving from the
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

/// A pool of exactly `n` connections to the file `id` names, all opened now and kept.
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
    SqlitePoolOptions::new()
        .max_connections(n)
        .min_connections(n)
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
        .await
}
