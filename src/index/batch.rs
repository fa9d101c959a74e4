//! Reading attempt directories on blocking threads, a bounded number at a time, and writing
//! their rows through the single writer in transactions of `BATCH` attempts.

use super::attempt::{read_attempt, ReadAttempt, ReadCtx, ReadResult};
use super::walk::AttemptDir;
use super::{min_opt, IndexError, Indexer, BATCH};
use crate::storage::attempts::{self, AttemptWrite};
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

impl Indexer {
    fn concurrency() -> usize {
        std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .clamp(1, 8)
    }

    /// Reads `dirs` (skipping unchanged ones per `known`) and writes them in batches.
    /// Returns (ids read and written, unchanged count, gone ids, min recheck). With `before`,
    /// collects the subjects that the old rows of rewritten attempts bear on (see
    /// `storage::mappings::subjects_before_change`), asked in each batch's transaction.
    pub(super) async fn index_dirs(
        &self,
        dirs: Vec<AttemptDir>,
        known: Arc<HashMap<String, attempts::Fingerprint>>,
        mut before: Option<&mut Vec<String>>,
    ) -> Result<(Vec<String>, u64, Vec<String>, Option<Duration>), IndexError> {
        let now = (self.clock)();
        let Some(runs) = self.runs_dir().map_err(Self::aborted)? else {
            // runs/ itself is gone: every attempt asked about is gone.
            return Ok((
                Vec::new(),
                0,
                dirs.into_iter().map(|d| d.id).collect(),
                None,
            ));
        };
        let limits = self.cfg.limits;
        let (tz, settle, stale) = (self.tz, self.cfg.index.settle, self.cfg.index.stale_after);
        let mut results = futures::stream::iter(dirs)
            .map(|d| {
                let known = known.clone();
                let runs = runs.clone();
                tokio::task::spawn_blocking(move || {
                    let k = known
                        .get(&d.id)
                        .map(|f| (f.listing_digest.as_str(), f.status.as_str()));
                    let ctx = ReadCtx {
                        tz,
                        now,
                        settle,
                        stale_after: stale,
                        runs: &runs,
                        limits: &limits,
                    };
                    let r = read_attempt(&d, k, ctx);
                    (d.id, r)
                })
            })
            .buffer_unordered(Self::concurrency() * 2);
        let (mut parsed, mut unchanged, mut gone, mut recheck) =
            (Vec::new(), 0u64, Vec::new(), None);
        let mut batch: Vec<ReadAttempt> = Vec::with_capacity(BATCH);
        while let Some(r) = results.next().await {
            let (id, r) = r?;
            match r.map_err(Self::aborted)? {
                ReadResult::Unchanged => unchanged += 1,
                ReadResult::Gone => gone.push(id),
                ReadResult::Unreadable(why) => {
                    // Kept as indexed: an attempt that cannot be read is not an absent one.
                    tracing::warn!(attempt = %id, %why, "attempt cannot be read; kept as indexed");
                    unchanged += 1;
                }
                ReadResult::Read(a) => {
                    parsed.push(id);
                    recheck = min_opt(recheck, a.recheck_after);
                    batch.push(*a);
                    if batch.len() >= BATCH {
                        self.write_batch(&mut batch, &known, before.as_deref_mut())
                            .await?;
                    }
                }
            }
        }
        self.write_batch(&mut batch, &known, before).await?;
        Ok((parsed, unchanged, gone, recheck))
    }

    async fn write_batch(
        &self,
        batch: &mut Vec<ReadAttempt>,
        known: &HashMap<String, attempts::Fingerprint>,
        before: Option<&mut Vec<String>>,
    ) -> Result<(), IndexError> {
        if batch.is_empty() {
            return Ok(());
        }
        let rewritten: Option<Vec<String>> = before.is_some().then(|| {
            batch
                .iter()
                .filter(|a| known.contains_key(&a.row.id))
                .map(|a| a.row.id.clone())
                .collect()
        });
        let writes: Vec<AttemptWrite> = batch
            .iter()
            .map(|a| AttemptWrite {
                row: &a.row,
                files: &a.files,
                event: match known.get(&a.row.id) {
                    None => Some("indexed"),
                    Some(f)
                        if f.status != a.row.status || f.listing_digest != a.row.listing_digest =>
                    {
                        Some("updated")
                    }
                    Some(_) => None,
                },
            })
            .collect();
        let subjects = self
            .store
            .write_attempts(&writes, rewritten.as_deref())
            .await?;
        if let Some(before) = before {
            before.extend(subjects);
        }
        batch.clear();
        Ok(())
    }

    /// Removes `ids`; with `before`, first collects the subjects their rows bear on.
    pub(super) async fn remove_ids(
        &self,
        ids: &[String],
        mut before: Option<&mut Vec<String>>,
    ) -> Result<u64, IndexError> {
        let mut n = 0;
        for chunk in ids.chunks(BATCH) {
            let (removed, subjects) = self.store.remove_attempts(chunk, before.is_some()).await?;
            n += removed;
            if let Some(before) = before.as_deref_mut() {
                before.extend(subjects);
            }
        }
        Ok(n)
    }
}
