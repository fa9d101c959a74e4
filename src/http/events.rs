//! `GET /v1/events`: Server-Sent Events with resumable ids.

use super::auth::Read;
use super::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use futures::stream::{self, Stream, StreamExt};
use std::convert::Infallible;
use tokio::sync::broadcast::error::RecvError;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/events", get(events))
}

fn to_sse(e: &crate::events::Event) -> SseEvent {
    SseEvent::default()
        .id(e.id.to_string())
        .event(e.kind)
        .data(serde_json::to_string(e).unwrap_or_default())
}

async fn events(
    _: Read,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let sub = state.events.subscribe(after);
    let mut last = after.unwrap_or(0);
    let mut first: Vec<SseEvent> = Vec::new();
    if sub.gap {
        // Tell the client to refetch state: events it asked for are older than the ring.
        first.push(
            SseEvent::default()
                .event("reset")
                .data("{\"reason\":\"events since Last-Event-ID are no longer buffered\"}"),
        );
    }
    for e in &sub.backlog {
        last = last.max(e.id);
        first.push(to_sse(e));
    }
    let live = stream::unfold((sub.live, last), |(mut rx, last)| async move {
        loop {
            match rx.recv().await {
                // The backlog already covered these.
                Ok(e) if e.id <= last => continue,
                Ok(e) => {
                    let id = e.id;
                    return Some((to_sse(&e), (rx, id)));
                }
                Err(RecvError::Lagged(_)) => {
                    return Some((
                        SseEvent::default()
                            .event("reset")
                            .data("{\"reason\":\"client too slow; events dropped\"}"),
                        (rx, last),
                    ))
                }
                Err(RecvError::Closed) => return None,
            }
        }
    });
    // End with the daemon, or graceful shutdown would wait for every subscriber forever.
    let stop = state.shutdown.clone().cancelled_owned();
    Sse::new(stream::iter(first).chain(live).take_until(stop).map(Ok))
        .keep_alive(KeepAlive::default())
}
