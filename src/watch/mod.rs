//! Watches the workspace and keeps the index current: filesystem events through a debouncer,
//! a full reconcile at start, every `reconcile_interval`, on a backend overflow or error, and on
//! request (`POST /v1/rescan`). Data flows one way: filesystem → watcher → indexer → index.

mod source;
pub mod status;

use crate::config::WatchConfig;
use crate::index::Indexer;
use source::FsSignal;
use status::{Mode, WatchStatus};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub struct Watcher {
    pub indexer: Indexer,
    pub events: crate::events::EventBus,
    pub cfg: WatchConfig,
    /// Directories watched recursively (runs/ and reports/).
    pub roots: Vec<PathBuf>,
    pub status: Arc<WatchStatus>,
}

impl Watcher {
    /// Runs until `shutdown` is cancelled.
    pub async fn run(self, mut rescan_rx: mpsc::Receiver<()>, shutdown: CancellationToken) {
        let (tx, mut rx) = mpsc::unbounded_channel();
        // Events start flowing before the initial scan, so nothing written during it is lost.
        let roots: Vec<&std::path::Path> = self.roots.iter().map(|p| p.as_path()).collect();
        let _source = match source::start(&self.cfg, &roots, tx) {
            Ok((src, mode, reason)) => {
                tracing::info!(
                    ?mode,
                    reason = reason.as_deref().unwrap_or(""),
                    "watching workspace"
                );
                self.status.update(|s| {
                    s.watcher.mode = mode;
                    s.watcher.mode_reason = reason;
                });
                Some(src)
            }
            Err(e) => {
                // Without any event source the reconcile loop still keeps the index correct.
                tracing::error!(error = %e, "cannot watch the workspace; relying on reconcile scans");
                self.status.update(|s| {
                    s.watcher.mode = Mode::Poll;
                    s.watcher.healthy = false;
                    s.source_failed = true;
                    s.watcher.last_error = Some(format!("no event source: {e}"));
                    s.watcher.mode_reason = Some("reconcile scans only".into());
                });
                None
            }
        };

        self.status
            .update(|s| s.initial_scan.started_at = Some(chrono::Utc::now()));
        self.reconcile("initial").await;
        self.status.update(|s| {
            s.initial_scan.done = true;
            s.initial_scan.finished_at = Some(chrono::Utc::now());
        });

        let mut reconcile = tokio::time::interval(self.cfg.reconcile_interval);
        reconcile.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        reconcile.tick().await;
        let mut pending: BTreeMap<PathBuf, Instant> = BTreeMap::new();
        loop {
            let next_recheck = pending.values().min().copied();
            tokio::select! {
                _ = shutdown.cancelled() => break,
                Some(signal) = rx.recv() => match signal {
                    FsSignal::Paths(mut paths, mut first) => {
                        // Under load, batches queue up while a refresh runs: merge what is
                        // already waiting into one refresh instead of one refresh per batch.
                        let mut deferred = None;
                        while let Ok(next) = rx.try_recv() {
                            match next {
                                FsSignal::Paths(more, at) => {
                                    paths.extend(more);
                                    first = first.min(at);
                                }
                                other => {
                                    deferred = Some(other);
                                    break;
                                }
                            }
                        }
                        paths.sort();
                        paths.dedup();
                        if deferred.is_some() {
                            // A rescan or error signal follows: a full reconcile covers the paths too.
                            self.reconcile("overflow or watcher error").await;
                            continue;
                        }
                        crate::metrics::watcher_events(paths.len());
                        self.status.update(|s| {
                            s.watcher.last_event_at = Some(chrono::Utc::now());
                            s.watcher.events_seen += paths.len() as u64;
                        });
                        self.refresh(paths, Some(first), &mut pending).await;
                    }
                    FsSignal::Rescan(why) => {
                        tracing::warn!(%why, "event queue overflow; rescanning");
                        self.reconcile("overflow").await;
                    }
                    FsSignal::Error(e) => {
                        tracing::warn!(error = %e, "watcher error; rescanning");
                        self.status.update(|s| s.watcher.last_error = Some(e));
                        self.reconcile("watcher error").await;
                    }
                },
                Some(()) = rescan_rx.recv() => self.reconcile("requested").await,
                _ = reconcile.tick() => self.reconcile("interval").await,
                _ = sleep_until_opt(next_recheck) => {
                    let now = Instant::now();
                    let due: Vec<PathBuf> = pending.iter().filter(|(_, t)| **t <= now).map(|(p, _)| p.clone()).collect();
                    for p in &due {
                        pending.remove(p);
                    }
                    self.refresh(due, None, &mut pending).await;
                }
            }
            self.status
                .update(|s| s.watcher.pending_rechecks = pending.len());
        }
        tracing::info!("watcher stopped");
    }

    /// `first_event`: when the earliest filesystem event behind `paths` happened (None for
    /// rechecks the watcher scheduled itself).
    async fn refresh(
        &self,
        paths: Vec<PathBuf>,
        first_event: Option<std::time::Instant>,
        pending: &mut BTreeMap<PathBuf, Instant>,
    ) {
        if paths.is_empty() {
            return;
        }
        let started = std::time::Instant::now();
        let result = self.indexer.refresh_paths(&paths).await;
        self.events.drain_history(self.indexer.store()).await;
        // Visible now (when it worked): in the index (API) and on the event stream.
        crate::metrics::refreshed(started.elapsed(), first_event.filter(|_| result.is_ok()));
        match result {
            Ok(outcome) => {
                if let Some(after) = outcome.recheck_after {
                    let at = Instant::now() + after.max(Duration::from_millis(50));
                    for p in paths {
                        pending.insert(p, at);
                    }
                }
            }
            Err(e) => {
                // A failed refresh is repaired by a reconcile rather than lost.
                tracing::warn!(error = %e, "refresh failed; reconciling");
                crate::metrics::scan_aborted(crate::metrics::ScanKind::Refresh, e.cause());
                self.status
                    .update(|s| s.watcher.last_error = Some(e.to_string()));
                self.reconcile("refresh failure").await;
            }
        }
    }

    async fn reconcile(&self, why: &'static str) {
        let started = std::time::Instant::now();
        let result = self.indexer.full_scan().await;
        self.events.drain_history(self.indexer.store()).await;
        let ms = started.elapsed().as_millis() as u64;
        crate::metrics::reconciled(started.elapsed());
        match result {
            Ok(summary) => {
                tracing::info!(why, ms, ?summary, "reconcile done");
                self.status.update(|s| {
                    s.watcher.last_reconcile_at = Some(chrono::Utc::now());
                    s.watcher.last_reconcile_ms = Some(ms);
                    s.watcher.reconciles += 1;
                    // A failed scan made the watcher unhealthy; a good one heals it (unless
                    // there is no event source at all), so the gauge follows the watcher.
                    s.watcher.healthy = !s.source_failed;
                    s.scan.degraded = false;
                    s.scan.last_ok_at = s.watcher.last_reconcile_at;
                });
            }
            Err(e) => {
                tracing::error!(why, error = %e, "reconcile failed");
                crate::metrics::scan_aborted(crate::metrics::ScanKind::Full, e.cause());
                let aborted = matches!(e, crate::index::IndexError::Fs(_));
                self.status.update(|s| {
                    s.watcher.healthy = false;
                    s.watcher.last_error = Some(format!("reconcile failed: {e}"));
                    if aborted {
                        s.scan.degraded = true;
                        s.scan.aborted += 1;
                        s.scan.last_error = Some(e.to_string());
                        s.scan.last_error_at = Some(chrono::Utc::now());
                    }
                });
            }
        }
    }
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
