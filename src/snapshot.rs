//! What `GET /v1/status` shows of the two databases, kept in memory so that the endpoint every
//! dashboard polls touches no database.
//!
//! The writer side publishes: every commit to the index or the records (indexer batches and
//! scans, promotions, verifications, retention apply/restore/purge) settles its database's
//! change generation, which wakes [`StatusPublisher::run`]; it recomputes the counts once for
//! however many commits came in meanwhile and swaps the new snapshot in. Readers only borrow it.
//!
//! Each snapshot carries the generations it was computed at (read before its queries, so a
//! lower bound of what it contains). That gives the two guarantees the API needs without a
//! query: a request waits (briefly) until the snapshot covers every write committed before it
//! arrived (read-your-writes after a POST), and the ETag layer tags `/v1/status` only while the
//! snapshot is exactly at the live generations (no stale 304).

use crate::storage::records::Records;
use crate::storage::{Storage, StorageError};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Mutex};
use tokio_util::sync::CancellationToken;

/// The database part of `/v1/status`.
#[derive(Debug)]
pub struct StatusSnapshot {
    /// The `index` object: attempts by status, nicknames, unrecognized, certificates,
    /// evidence_dirs, mappings, last_index_event_at, db_size_bytes.
    pub index: Value,
    /// The `retention` object: trash_bytes, last_apply, runs_bytes.
    pub retention: Value,
    /// `(epoch, generation)` of the index and of the records when the queries began.
    index_gen: (u64, u64),
    records_gen: (u64, u64),
}

#[derive(Clone)]
pub struct StatusPublisher {
    store: Storage,
    records: Records,
    tx: Arc<watch::Sender<Arc<StatusSnapshot>>>,
    /// One recompute at a time, so snapshots are published in generation order.
    computing: Arc<Mutex<()>>,
}

/// How long a request waits for the snapshot to catch up with a write committed before it
/// arrived; past that it gets the newest snapshot there is (the publisher is behind or failing).
const CATCH_UP: Duration = Duration::from_secs(1);

impl StatusPublisher {
    /// Computes the first snapshot (the daemon serves nothing before it exists).
    pub async fn start(store: Storage, records: Records) -> Result<StatusPublisher, StorageError> {
        let first = compute(&store, &records).await?;
        Ok(StatusPublisher {
            store,
            records,
            tx: Arc::new(watch::Sender::new(Arc::new(first))),
            computing: Arc::new(Mutex::new(())),
        })
    }

    /// Recomputes from the databases and publishes (the writer side; never called per request).
    pub async fn refresh(&self) -> Result<(), StorageError> {
        let _one = self.computing.lock().await;
        let next = compute(&self.store, &self.records).await?;
        self.tx.send_if_modified(|cur| {
            // Never replace a snapshot with an older one.
            let newer = next.index_gen >= cur.index_gen && next.records_gen >= cur.records_gen;
            if newer {
                *cur = Arc::new(next);
            }
            newer
        });
        Ok(())
    }

    /// The newest snapshot, without waiting.
    pub fn current(&self) -> Arc<StatusSnapshot> {
        self.tx.borrow().clone()
    }

    /// Whether `s` is exactly what the databases hold now (no write since, none in flight):
    /// only then may an answer built from it carry a tag derived from the live generations.
    pub fn is_live(&self, s: &StatusSnapshot) -> bool {
        self.store.generation.stable() == Some(s.index_gen)
            && self.records.generation.stable() == Some(s.records_gen)
    }

    /// A snapshot that holds every write committed before this call, waiting up to
    /// [`CATCH_UP`] for the publisher. No database is touched.
    pub async fn fresh(&self) -> Arc<StatusSnapshot> {
        let want = (
            self.store.generation.committed(),
            self.records.generation.committed(),
        );
        let covers = |s: &StatusSnapshot| {
            s.index_gen.0 == self.store.generation.epoch()
                && s.index_gen.1 >= want.0
                && s.records_gen.0 == self.records.generation.epoch()
                && s.records_gen.1 >= want.1
        };
        let now = self.current();
        if covers(&now) {
            return now;
        }
        let mut rx = self.tx.subscribe();
        let deadline = tokio::time::Instant::now() + CATCH_UP;
        loop {
            let s = rx.borrow_and_update().clone();
            if covers(&s) {
                return s;
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                _ => return s,
            }
        }
    }

    /// Recomputes after every settled write to either database until `token` is cancelled.
    /// Commits that land while a recompute runs are coalesced into the next one.
    pub async fn run(self, token: CancellationToken) {
        let mut index = self.store.generation.subscribe();
        let mut records = self.records.generation.subscribe();
        let mut failed = false;
        loop {
            tokio::select! {
                _ = token.cancelled() => return,
                r = index.changed() => if r.is_err() { return },
                r = records.changed() => if r.is_err() { return },
                // After a failure, retry even if nothing else is written.
                _ = tokio::time::sleep(Duration::from_secs(1)), if failed => {}
            }
            failed = match self.refresh().await {
                Ok(()) => false,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot recompute the status counts; /v1/status shows the last ones");
                    true
                }
            };
        }
    }
}

async fn compute(store: &Storage, records: &Records) -> Result<StatusSnapshot, StorageError> {
    // Before the queries: whatever they read holds at least these writes.
    let index_gen = (store.generation.epoch(), store.generation.settled());
    let records_gen = (records.generation.epoch(), records.generation.settled());
    let index = store.status_summary().await?;
    let mut retention = records.retention_status().await?;
    retention["runs_bytes"] = store.runs_bytes().await?.into();
    Ok(StatusSnapshot {
        index,
        retention,
        index_gen,
        records_gen,
    })
}
