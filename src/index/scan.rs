//! The full scan: a reconcile of runs/, reports/ and reports_*/, and the rebuild of an index
//! file that was deleted or replaced under the daemon.

use super::{walk, IndexError, Indexer, ScanSummary};
use crate::fsx::FsError;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Wall time of each step of a full scan, for the log line that ends it (where a slow
/// reconcile spends its time, without a profiler).
struct Steps {
    last: Instant,
    laps: Vec<(&'static str, Duration)>,
}

impl Steps {
    fn new(started: Instant) -> Self {
        Steps {
            last: started,
            laps: Vec::new(),
        }
    }

    fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        self.laps.push((name, now - self.last));
        self.last = now;
    }
}

impl std::fmt::Display for Steps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (name, d)) in self.laps.iter().enumerate() {
            let sep = if i == 0 { "" } else { " " };
            write!(f, "{sep}{name}={}ms", d.as_millis())?;
        }
        Ok(())
    }
}

impl Indexer {
    /// Full reconcile of runs/, reports/ and reports_*/.
    pub async fn full_scan(&self) -> Result<ScanSummary, IndexError> {
        let _guard = self.lock.lock().await;
        self.scan_all().await
    }

    /// When the index file was deleted or replaced while the daemon runs: builds a new index at
    /// the path with a full scan, while the old one keeps answering, then puts it in service at
    /// one instant (`Storage::adopt`). Nothing else writes the index meanwhile (this holds the
    /// indexing lock), so the new one answers exactly as the old did. Returns whether it did.
    pub async fn rebuild_if_replaced(&self) -> Result<bool, IndexError> {
        if !self.store.file_replaced() {
            return Ok(false);
        }
        let _guard = self.lock.lock().await;
        if !self.store.file_replaced() {
            return Ok(false);
        }
        tracing::warn!(path = %self.store.path.display(), "the index file was deleted or replaced; rebuilding it while serving from the file opened before");
        let fresh = self.store.open_replacement().await?;
        let builder = Indexer {
            store: fresh.clone(),
            ..self.clone()
        };
        let sum = builder.scan_all().await?;
        self.store.adopt(&fresh);
        tracing::info!(?sum, "index rebuilt and in service");
        Ok(true)
    }

    /// A full scan; the caller holds the indexing lock.
    async fn scan_all(&self) -> Result<ScanSummary, IndexError> {
        let started = Instant::now();
        let mut sum = ScanSummary::default();
        let runs_dir = self.runs_dir().map_err(Self::aborted)?;
        let runs_path = self.cfg.workspace.runs.clone();
        // The walk, and the removal of the daemon's own leftover temporary files it found,
        // run on a blocking thread. A listing error aborts the scan before anything is removed.
        let walk = tokio::task::spawn_blocking(move || -> Result<walk::RunsWalk, FsError> {
            let Some(runs) = runs_dir else {
                return Ok(walk::RunsWalk::default());
            };
            let w = walk::walk_runs(&runs, &runs_path)?;
            for rel in &w.leftovers {
                let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel.as_str()));
                if let Err(e) = runs.open_dir(parent).and_then(|d| d.remove_file(name)) {
                    tracing::warn!(path = %rel, error = %e, "cannot remove a leftover temporary file");
                }
            }
            Ok(w)
        })
        .await?
        .map_err(Self::aborted)?;
        let mut steps = Steps::new(started);
        steps.lap("walk");
        sum.attempts_seen = walk.attempts.len() as u64;
        sum.unrecognized = walk.unrecognized.len() as u64;
        sum.unreadable = walk.unlisted.len() as u64;
        let known = Arc::new(self.store.fingerprints().await?);
        let mut vanished: Vec<String> = {
            let seen: HashSet<&str> = walk.attempts.iter().map(|a| a.id.as_str()).collect();
            // Below a directory that could not be listed, nothing is known to have vanished.
            let hidden = |id: &str| {
                walk.unlisted.iter().any(|p| {
                    id.strip_prefix(p.as_str())
                        .is_some_and(|r| r.starts_with('/'))
                })
            };
            known
                .keys()
                .filter(|id| !seen.contains(id.as_str()) && !hidden(id))
                .cloned()
                .collect()
        };
        let (parsed, unchanged, gone, _) =
            self.index_dirs(walk.attempts, known.clone(), None).await?;
        steps.lap("attempts");
        sum.parsed = parsed.len() as u64;
        sum.unchanged = unchanged;
        vanished.extend(gone);
        sum.removed = self.remove_ids(&vanished, None).await?;
        self.store.replace_unrecognized(&walk.unrecognized).await?;
        steps.lap("removals");
        let (dirs, files_read, certs) = self.scan_evidence(None).await?;
        steps.lap("evidence");
        sum.evidence_dirs = dirs;
        sum.evidence_files_read = files_read;
        sum.certificates = certs;
        self.settle_running(None).await?;
        steps.lap("settle");
        sum.mappings = self.rebuild_mappings().await?;
        steps.lap("mappings");
        self.maintain_copies(None).await?;
        steps.lap("copies");
        sum.duration = started.elapsed();
        tracing::info!(?sum, steps = %steps, "full scan done");
        Ok(sum)
    }
}
