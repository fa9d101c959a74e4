//! The live event bus behind `GET /v1/events`: every change gets a monotonically increasing id;
//! a bounded ring of recent events lets a client resume with `Last-Event-ID` without a gap.

use serde::Serialize;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// How many past events a resuming client can catch up on.
const RING: usize = 16_384;

#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub id: u64,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub at: chrono::DateTime<chrono::Utc>,
    pub data: serde_json::Value,
}

#[derive(Clone)]
pub struct EventBus(Arc<Inner>);

struct Inner {
    /// The last attempt_history row already published (see [`EventBus::drain_history`]).
    history_seq: tokio::sync::Mutex<Option<crate::storage::feed::FeedCursor>>,
    next: AtomicU64,
    ring: Mutex<VecDeque<Event>>,
    tx: broadcast::Sender<Event>,
}

impl Default for EventBus {
    fn default() -> Self {
        // Ids start at the start time in microseconds, so they keep increasing across restarts.
        let start = chrono::Utc::now().timestamp_micros().max(1) as u64;
        let (tx, _) = broadcast::channel(RING);
        EventBus(Arc::new(Inner {
            history_seq: tokio::sync::Mutex::new(None),
            next: AtomicU64::new(start),
            ring: Mutex::new(VecDeque::with_capacity(RING)),
            tx,
        }))
    }
}

impl std::fmt::Debug for EventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventBus")
    }
}

/// A subscription: the backlog after the requested id, then live events.
pub struct Subscription {
    pub backlog: Vec<Event>,
    /// The requested id was older than the ring: some events are gone.
    pub gap: bool,
    pub live: broadcast::Receiver<Event>,
}

impl EventBus {
    pub fn publish(&self, kind: &'static str, data: serde_json::Value) {
        // Id assignment, ring insert and broadcast happen under one lock so that ids reach
        // subscribers in order.
        let mut ring = self.0.ring.lock().unwrap_or_else(|p| p.into_inner());
        let event = Event {
            id: self.0.next.fetch_add(1, Ordering::SeqCst),
            kind,
            at: chrono::Utc::now(),
            data,
        };
        if ring.len() == RING {
            ring.pop_front();
        }
        ring.push_back(event.clone());
        let _ = self.0.tx.send(event);
        crate::metrics::event_published(kind);
    }

    /// Publishes the index's attempt history written since the last call, as
    /// `attempt.indexed` / `attempt.updated` / `attempt.removed`. The history table is the
    /// single source, so every writer of the index (watcher, promote, retention) is covered.
    pub async fn drain_history(&self, store: &crate::storage::Storage) {
        let mut last = self.0.history_seq.lock().await;
        let mut cursor = match *last {
            Some(c) => c,
            // Events start now: history written before this process started is not news.
            None => match store.feed_head().await {
                Ok(c) => {
                    *last = Some(c);
                    return;
                }
                Err(_) => return,
            },
        };
        loop {
            let (rows, next) = match store.feed_after(cursor, 1000).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read attempt history for events");
                    break;
                }
            };
            cursor = next;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let kind = match r.event.as_str() {
                    "indexed" => "attempt.indexed",
                    "updated" => "attempt.updated",
                    _ => "attempt.removed",
                };
                self.publish(kind, serde_json::json!({ "attempt": r.attempt_id, "status": r.status, "reason": r.reason }));
            }
        }
        *last = Some(cursor);
    }

    /// Events after `after` (a `Last-Event-ID`), then live ones. An id this bus never issued
    /// (beyond the newest, e.g. from a daemon whose clock ran ahead) cannot be placed: the
    /// subscriber starts from the latest event with `gap` set, so it refetches state.
    pub fn subscribe(&self, after: Option<u64>) -> Subscription {
        let ring = self.0.ring.lock().unwrap_or_else(|p| p.into_inner());
        let live = self.0.tx.subscribe();
        // Ids are issued under the ring lock, so this is the next one to be issued.
        let next = self.0.next.load(Ordering::SeqCst);
        let (backlog, gap) = match after {
            None => (Vec::new(), false),
            Some(after) if after >= next => (Vec::new(), true),
            Some(after) => {
                let gap = ring
                    .front()
                    .is_some_and(|first| first.id > after.saturating_add(1));
                (ring.iter().filter(|e| e.id > after).cloned().collect(), gap)
            }
        };
        Subscription { backlog, gap, live }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resuming_subscriber_gets_exactly_the_events_after_its_last_id() {
        let bus = EventBus::default();
        bus.publish("attempt.indexed", serde_json::json!({"n": 1}));
        let first = bus.subscribe(None);
        assert!(first.backlog.is_empty());
        bus.publish("attempt.indexed", serde_json::json!({"n": 2}));
        bus.publish("attempt.removed", serde_json::json!({"n": 3}));
        let all = bus.subscribe(Some(0));
        let ids: Vec<u64> = all.backlog.iter().map(|e| e.id).collect();
        assert!(ids.windows(2).all(|w| w[1] == w[0] + 1));
        let resumed = bus.subscribe(Some(ids[0]));
        assert_eq!(
            resumed.backlog.iter().map(|e| e.id).collect::<Vec<_>>(),
            ids[1..]
        );
        assert!(!resumed.gap);
    }

    #[test]
    fn an_id_never_issued_resumes_from_the_latest_with_a_gap_and_never_wraps() {
        let bus = EventBus::default();
        bus.publish("attempt.indexed", serde_json::json!({"n": 1}));
        for after in [u64::MAX, u64::MAX - 1] {
            let sub = bus.subscribe(Some(after));
            assert!(sub.backlog.is_empty());
            assert!(sub.gap);
        }
    }
}
