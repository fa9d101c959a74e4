//! What is measured when Prometheus scrapes rather than when things happen: process figures
//! (from /proc), index totals and watcher state. Reading them at
//! scrape time keeps them exact however the index was changed (watcher, promote, retention).

use super::catalogue::*;
use crate::http::AppState;

/// The text exposition of every metric, with scrape-time gauges brought up to date first.
pub async fn render(state: &AppState) -> String {
    let watch = state.watch.snapshot();
    ::metrics::gauge!(WATCHER_HEALTHY).set(if watch.watcher.healthy { 1.0 } else { 0.0 });
    if let Some(at) = watch.watcher.last_reconcile_at {
        ::metrics::gauge!(LAST_RECONCILE).set(at.timestamp_millis() as f64 / 1000.0);
    }
    // A database error leaves the previous values (and is counted by the storage layer).
    if let Ok(counts) = state.store.attempt_counts().await {
        for status in crate::report::AttemptStatus::ALL {
            let n = counts
                .iter()
                .find(|(s, _)| s == status.as_str())
                .map_or(0, |(_, n)| *n);
            ::metrics::gauge!(ATTEMPTS, "status" => status.as_str()).set(n as f64);
        }
    }
    if let Ok(runs) = state.store.runs_bytes().await {
        ::metrics::gauge!(RUNS_BYTES).set(runs as f64);
    }
    if let Ok(trash) = state.records.trash_bytes().await {
        ::metrics::gauge!(TRASH_BYTES).set(trash as f64);
    }
    ::metrics::gauge!(INDEX_DB_BYTES).set(state.store.db_size() as f64);
    ::metrics::gauge!(RECORDS_DB_BYTES).set(state.records.db_size() as f64);
    let mut text = state.metrics.render();
    super::process::render_into(&mut text);
    text
}
