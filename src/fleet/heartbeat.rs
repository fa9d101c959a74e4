//! The heartbeat: every [`HEARTBEAT`] the daemon proves it can write to its database, which
//! (on a shared database) is also its `last_contact_at` in the workspace registry. Losing the
//! database makes the daemon `degraded` (it keeps serving what it can from memory and from the
//! files); getting it back queues a reconcile, which writes whatever changed meanwhile.

use super::health::Transition;
use crate::http::AppState;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the database is probed. Short enough that `/readyz` says `degraded` within a few
/// seconds of an outage, long enough to cost nothing (one tiny write).
pub const HEARTBEAT: Duration = Duration::from_secs(2);

/// How long one probe may take before the database counts as lost: a dead server makes a
/// query wait for the pool's acquire timeout, which is far longer.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// One probe of the database, bounded by [`PROBE_TIMEOUT`].
pub async fn probe(state: &AppState) -> Result<(), String> {
    let work = async {
        state
            .store
            .check_writable()
            .await
            .map_err(|e| e.to_string())?;
        // On a shared database, this is the `last_contact_at` the other daemons see.
        state.store.heartbeat().await.map_err(|e| e.to_string())?;
        Ok::<(), String>(())
    };
    match tokio::time::timeout(PROBE_TIMEOUT, work).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "no answer within {}",
            humantime::format_duration(PROBE_TIMEOUT)
        )),
    }
}

/// Records what a probe found; on the way back, asks for the catch-up.
pub fn record(state: &AppState, result: Result<(), String>) {
    let health = &state.fleet.health;
    match result {
        Ok(()) => {
            if health.ok() == Transition::Back {
                tracing::warn!(
                    workspace = %state.fleet.identity.id,
                    "the database is back; reconciling what changed while it was away"
                );
                catch_up(state);
            }
        }
        Err(e) => {
            if health.failed(e.clone()) == Transition::Lost {
                tracing::error!(
                    workspace = %state.fleet.identity.id,
                    error = %e,
                    "lost the database; serving what is known, writes resume when it is back"
                );
            }
        }
    }
}

/// A full reconcile: the index writes that failed during the outage are redone from the files
/// (the filesystem is the truth the index caches). A full rescan queue already serves this.
fn catch_up(state: &AppState) {
    let _ = state.rescan.try_send(());
    state.fleet.health.caught_up();
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = state.status.refresh().await {
            tracing::warn!(error = %e, "cannot recompute the status counts after the outage");
        }
        refresh_view(&state).await;
    });
}

/// Probes every [`HEARTBEAT`] until `token` is cancelled.
pub async fn run(state: AppState, token: CancellationToken) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = token.cancelled() => return,
            _ = tick.tick() => {}
        }
        let result = tokio::select! {
            _ = token.cancelled() => return,
            r = probe(&state) => r,
        };
        let ok = result.is_ok();
        record(&state, result);
        // Only other daemons change the registry; on a database of one workspace re-reading
        // it would only move this daemon's own contact time (and the status ETag with it).
        if ok && state.fleet.shared() {
            refresh_view(&state).await;
        }
    }
}

/// Re-reads the registry and every workspace's counts for `/v1/status` (bounded like a probe:
/// a slow database delays the view, never the heartbeat).
pub async fn refresh_view(state: &AppState) {
    let read = super::registry::read_view(&state.store);
    match tokio::time::timeout(PROBE_TIMEOUT, read).await {
        Ok(Ok(view)) => state.fleet.publish(view),
        Ok(Err(e)) => tracing::warn!(error = %e, "cannot read the workspace registry"),
        Err(_) => tracing::warn!("the workspace registry did not answer in time"),
    }
}
