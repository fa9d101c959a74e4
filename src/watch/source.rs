//! The filesystem event source: inotify through a debouncer, or polling when inotify cannot be
//! used (watch limits, ENOSPC) or polling is configured (network filesystems).

use super::status::Mode;
use crate::config::{WatchConfig, WatchMode};
use notify_debouncer_full::notify::{self, PollWatcher, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{new_debouncer_opt, DebounceEventResult, Debouncer, RecommendedCache};
use std::path::{Path, PathBuf};
use tokio::sync::mpsc::UnboundedSender;

/// What the watcher loop receives from the debouncer thread.
pub enum FsSignal {
    /// Changed paths, and when the earliest of their events happened (before debouncing).
    Paths(Vec<PathBuf>, std::time::Instant),
    /// The kernel queue overflowed or the backend asked for a rescan.
    Rescan(String),
    Error(String),
}

/// Keeps the debouncer (and its thread) alive; dropping it stops watching.
#[allow(dead_code)] // held only for its Drop, which stops the watcher thread
pub enum EventSource {
    Inotify(Debouncer<RecommendedWatcher, RecommendedCache>),
    Poll(Debouncer<PollWatcher, RecommendedCache>),
}

fn handler(tx: UnboundedSender<FsSignal>) -> impl FnMut(DebounceEventResult) + Send + 'static {
    move |res: DebounceEventResult| {
        let signal = match res {
            Ok(events) => {
                if let Some(e) = events.iter().find(|e| e.need_rescan()) {
                    FsSignal::Rescan(format!("backend requested a rescan: {:?}", e.kind))
                } else {
                    // Reads are not changes: the indexer's own reads (open, close-nowrite) would
                    // otherwise come back as thousands of events after every scan.
                    let changes: Vec<_> = events
                        .into_iter()
                        .filter(|e| !e.event.kind.is_access())
                        .collect();
                    let Some(first) = changes.iter().map(|e| e.time).min() else {
                        return;
                    };
                    let mut paths: Vec<PathBuf> =
                        changes.into_iter().flat_map(|e| e.event.paths).collect();
                    paths.sort();
                    paths.dedup();
                    FsSignal::Paths(paths, first)
                }
            }
            Err(errors) => FsSignal::Error(
                errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        };
        // The receiver is gone only at shutdown.
        let _ = tx.send(signal);
    }
}

/// Starts watching `roots` recursively. Returns the source, its mode, and why polling was
/// chosen when it was.
pub fn start(
    cfg: &WatchConfig,
    roots: &[&Path],
    tx: UnboundedSender<FsSignal>,
) -> Result<(EventSource, Mode, Option<String>), notify::Error> {
    // Symlinks are never followed: an attempt dir that links out of the workspace is ignored.
    // Only changes and completed writes are asked of the kernel: with open events (notify 8
    // always subscribed to them) a reconcile's own directory reads overflowed inotify's 16k
    // queue at 100k attempts, and each overflow forced another full reconcile.
    let base = notify::Config::default()
        .with_follow_symlinks(false)
        .with_event_kinds(notify::EventKindMask::CORE | notify::EventKindMask::ACCESS_CLOSE);
    if cfg.mode == WatchMode::Auto {
        match start_inotify(cfg, roots, tx.clone(), base) {
            Ok(src) => return Ok((src, Mode::Inotify, None)),
            Err(e) => {
                tracing::warn!(error = %e, "inotify unavailable, falling back to polling");
                let reason = format!("inotify unavailable: {e}");
                let src = start_poll(cfg, roots, tx, base)?;
                return Ok((src, Mode::Poll, Some(reason)));
            }
        }
    }
    let src = start_poll(cfg, roots, tx, base)?;
    Ok((
        src,
        Mode::Poll,
        Some("watch.mode = \"poll\" in configuration".into()),
    ))
}

fn start_inotify(
    cfg: &WatchConfig,
    roots: &[&Path],
    tx: UnboundedSender<FsSignal>,
    base: notify::Config,
) -> Result<EventSource, notify::Error> {
    let mut d = new_debouncer_opt::<_, RecommendedWatcher, _>(
        cfg.debounce,
        None,
        handler(tx),
        RecommendedCache::default(),
        base,
    )?;
    for root in roots {
        d.watch(root, RecursiveMode::Recursive)?;
    }
    Ok(EventSource::Inotify(d))
}

fn start_poll(
    cfg: &WatchConfig,
    roots: &[&Path],
    tx: UnboundedSender<FsSignal>,
    base: notify::Config,
) -> Result<EventSource, notify::Error> {
    let mut d = new_debouncer_opt::<_, PollWatcher, _>(
        cfg.debounce,
        None,
        handler(tx),
        RecommendedCache::default(),
        base.with_poll_interval(cfg.poll_interval),
    )?;
    for root in roots {
        d.watch(root, RecursiveMode::Recursive)?;
    }
    Ok(EventSource::Poll(d))
}
