//! A database's change generation, for conditional GETs: a counter that moves after every
//! committed write, read without touching the database.
//!
//! SQLite's commit hook marks a write as in flight *before* its commit becomes visible; when the
//! single writer connection goes back to its pool (after the commit) the mark turns into one more
//! generation. Both halves live in one atomic word, so a reader sees either "stable at N" (every
//! visible commit counted) or "in flight" (answer without a tag) and never a tag that outlives the
//! data it was computed from.

use sqlx::sqlite::SqlitePoolOptions;
use sqlx::Sqlite;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// One write in flight, in the high bits; the generation is the low 48 bits.
const IN_FLIGHT: u64 = 1 << 48;

#[derive(Debug, Clone)]
pub struct Generation(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    /// Random per open: a restart or a reopened database never repeats an earlier tag.
    epoch: u64,
    word: AtomicU64,
    /// Set while a commit that changes nothing an answer shows (the writability probe) is
    /// made: it moves no generation, so tags and kept pages stay valid.
    unseen: std::sync::atomic::AtomicBool,
    /// Told the new generation whenever a write settles: what is derived from the data (the
    /// status snapshot) is recomputed after each commit instead of per request.
    settled: tokio::sync::watch::Sender<u64>,
}

impl Default for Generation {
    fn default() -> Self {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        h.write_u32(std::process::id());
        Generation(Arc::new(Inner {
            epoch: h.finish(),
            word: AtomicU64::new(0),
            unseen: Default::default(),
            settled: tokio::sync::watch::Sender::new(0),
        }))
    }
}

impl Generation {
    /// `(epoch, generation)` when no write is in flight; `None` while one is.
    pub fn stable(&self) -> Option<(u64, u64)> {
        let w = self.0.word.load(Ordering::SeqCst);
        (w < IN_FLIGHT).then_some((self.0.epoch, w))
    }

    /// Writes settled so far: data read after this call holds at least these (a lower bound).
    pub fn settled(&self) -> u64 {
        self.0.word.load(Ordering::SeqCst) % IN_FLIGHT
    }

    /// Writes settled or in flight: what a reader must wait for to see every write that
    /// committed before this call (an upper bound).
    pub fn committed(&self) -> u64 {
        let w = self.0.word.load(Ordering::SeqCst);
        (w % IN_FLIGHT) + u64::from(w >= IN_FLIGHT)
    }

    pub fn epoch(&self) -> u64 {
        self.0.epoch
    }

    /// Changes (to the new generation) after every settled write.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.0.settled.subscribe()
    }

    fn begin_write(&self) {
        self.0.word.fetch_add(IN_FLIGHT, Ordering::SeqCst);
    }

    /// Every write marked in flight is now committed (or rolled back): count it once.
    fn settle(&self) {
        if let Ok(w) = self
            .0
            .word
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |w| {
                (w >= IN_FLIGHT).then(|| (w % IN_FLIGHT) + 1)
            })
        {
            self.0.settled.send_replace((w % IN_FLIGHT) + 1);
        }
    }

    /// On a new writer connection: a replaced connection may have died with a write in flight,
    /// and every commit of this one marks its write in flight.
    pub async fn attach(&self, conn: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
        self.settle();
        let hook = self.clone();
        let mut handle = conn.lock_handle().await?;
        handle.set_commit_hook(move || {
            if !hook.0.unseen.load(Ordering::SeqCst) {
                hook.begin_write();
            }
            true
        });
        Ok(())
    }

    /// For a server database, which has no commit hook: the write is in flight from here until
    /// the returned mark is dropped (after its commit, or its failure).
    pub(crate) fn writing(&self) -> WriteMark {
        self.begin_write();
        WriteMark(self.clone())
    }

    /// While the guard lives, commits move no generation. Only for a write that changes
    /// nothing any answer is derived from, made on the single writer (so no other commit can
    /// happen meanwhile): the heartbeat's writability probe, which would otherwise move every
    /// tag and empty the page cache every two seconds. (A rebuilt index being filled shares
    /// the generation; one of its commits missed here is covered by `advance` at adoption.)
    pub fn unseen(&self) -> Unseen {
        self.0.unseen.store(true, Ordering::SeqCst);
        Unseen(self.clone())
    }

    /// Another database was put in service (a rebuilt index): one more generation, so no tag
    /// computed from the old one is taken for the new.
    pub fn advance(&self) {
        let w = self.0.word.fetch_add(1, Ordering::SeqCst) + 1;
        self.0.settled.send_replace(w % IN_FLIGHT);
    }

    /// The writer connection is back in its pool: what it committed is visible.
    pub fn released(&self) {
        self.settle();
    }

    /// Options for the writer pool (one connection) that keep this generation: a commit hook on
    /// every new connection, settled whenever the connection returns to the pool or is replaced.
    pub fn writer_pool(&self) -> SqlitePoolOptions {
        let on_connect = self.clone();
        let on_release = self.clone();
        SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            // A connection closed for age would skip the release hook and leave the mark set.
            .max_lifetime(None)
            .idle_timeout(None)
            .after_connect(move |conn, _| {
                let g = on_connect.clone();
                Box::pin(async move { g.attach(conn).await })
            })
            .after_release(move |_: &mut <Sqlite as sqlx::Database>::Connection, _| {
                let g = on_release.clone();
                Box::pin(async move {
                    g.released();
                    Ok(true)
                })
            })
    }
}

/// A write in flight on a server database (see `Generation::writing`).
pub(crate) struct WriteMark(Generation);

impl Drop for WriteMark {
    fn drop(&mut self) {
        self.0.settle();
    }
}

/// See [`Generation::unseen`].
pub struct Unseen(Generation);

impl Drop for Unseen {
    fn drop(&mut self) {
        self.0 .0.unseen.store(false, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The release that settles a write may run on another task: poll with a deadline.
    async fn settled_after(g: &Generation, after: Option<u64>) -> (u64, u64) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            match g.stable() {
                Some(now) if after.is_none_or(|a| now.1 > a) => return now,
                _ if std::time::Instant::now() > deadline => panic!("generation never settled"),
                _ => tokio::task::yield_now().await,
            }
        }
    }

    #[tokio::test]
    async fn a_commit_moves_the_generation_and_a_read_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let g = Generation::default();
        let pool = g
            .writer_pool()
            .connect_with(
                sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(dir.path().join("g.db"))
                    .create_if_missing(true),
            )
            .await
            .unwrap();
        sqlx::query("create table t (x)")
            .execute(&pool)
            .await
            .unwrap();
        let before = settled_after(&g, None).await;
        sqlx::query("select count(*) from t")
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(settled_after(&g, None).await, before, "a read is no change");
        let mut tx = pool.begin().await.unwrap();
        sqlx::query("insert into t values (1)")
            .execute(&mut *tx)
            .await
            .unwrap();
        assert_eq!(g.stable(), Some(before), "nothing is visible before commit");
        tx.commit().await.unwrap();
        let after = settled_after(&g, Some(before.1)).await;
        assert_eq!(after.0, before.0, "same epoch while open");
    }
}
