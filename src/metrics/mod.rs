//! Every Prometheus metric the daemon exports, in one place: names and HELP texts (`catalogue`),
//! the functions the rest of the code calls to record them (`record`), and the process-wide
//! recorder with its histogram buckets and scrape-time collection (this file).
//!
//! Callers never name a metric themselves: `crate::metrics::file_refused(Refusal::Symlink)`,
//! not `metrics::counter!("...")`. That keeps names, units and label sets (always bounded: enums,
//! route templates, fixed strings) consistent and lets the catalogue pre-register every series,
//! so a scrape shows every metric with `# HELP` and `# TYPE` from the first second, not only
//! once something has gone wrong.
//!
//! Inside this module the `metrics` crate is spelled `::metrics` (this module shadows it at the
//! crate root only).

mod catalogue;
mod process;
mod record;
mod scrape;

pub use catalogue::{Kind, Metric, CATALOGUE};
pub use record::*;
pub use scrape::render;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

/// Request latencies: sub-millisecond reads of the index up to a 30 s request timeout.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Index work: a refresh of a few attempts (milliseconds) up to a full reconcile of 100k
/// attempts (minutes).
pub const SCAN_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
    1800.0,
];

/// The process-wide Prometheus recorder (the `metrics` facade has exactly one global recorder,
/// so every `Application` in a process, e.g. in tests, shares it). Installed on first use; the
/// catalogue is described and pre-registered then.
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let mut builder = PrometheusBuilder::new()
                .set_buckets(LATENCY_BUCKETS)
                .expect("latency buckets are not empty");
            for m in CATALOGUE.iter().filter(|m| m.kind == Kind::Histogram) {
                if m.buckets != LATENCY_BUCKETS {
                    builder = builder
                        .set_buckets_for_metric(Matcher::Full(m.name.into()), m.buckets)
                        .expect("catalogue buckets are not empty");
                }
            }
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder is installed (never in this crate).
            if ::metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics may be empty");
            }
            catalogue::describe_and_register();
            spawn_upkeep(handle.clone());
            handle
        })
        .clone()
}

/// Histogram samples pile up in memory until drained; a daemon nobody scrapes would grow
/// without bound, so a background thread drains them every few seconds.
fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(Duration::from_secs(5));
            handle.run_upkeep();
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the metrics upkeep thread");
    }
}

#[cfg(test)]
mod tests;
