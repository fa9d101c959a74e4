//! `/metrics` as Prometheus and Grafana users meet it: a real daemon scraped and checked by
//! `promtool`, the contrib/ alerting rules and dashboard checked against what the daemon
//! exports, and each failure counter seen to move.
#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

mod dashboard;
mod exposition;
mod failures;
mod promql;
mod rules;
mod workflow;

/// Tests that read counter deltas run one at a time: the recorder is process-wide.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
