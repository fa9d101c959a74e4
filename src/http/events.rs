//! `GET /v1/events`: Server-Sent Events with resumable ids.

use super::auth::Read;
use super::extract::{NoParams, Params};
use super::{ApiError, AppState};
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

/// `Last-Event-ID`: absent, or a decimal event id that fits 64 bits (what this API issues);
/// anything else (text, a negative number, a value that overflows) is a 400, never wrapped.
fn last_event_id(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(v) = headers.get("last-event-id") else {
        return Ok(None);
    };
    let text = v.to_str().unwrap_or("").trim();
    if text.is_empty() {
        // The SSE spec lets a client send an empty id to mean "none".
        return Ok(None);
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_field(
            "Last-Event-ID",
            format!("Last-Event-ID must be an event id (decimal digits), got {text:?}"),
        ));
    }
    text.parse::<u64>().map(Some).map_err(|_| {
        ApiError::bad_field(
            "Last-Event-ID",
            format!(
                "Last-Event-ID {text} is beyond any event id (at most {})",
                u64::MAX
            ),
        )
    })
}

/// Server-Sent Events; resume with Last-Event-ID.
///
/// Event types: `attempt.indexed`, `attempt.updated`, `attempt.removed`, `promotion.created`,
/// `verification.recorded`, `retention.planned`, `retention.applied`, and `reset` when the
/// events asked for are no longer buffered.
#[utoipa::path(get, path = "/v1/events", operation_id = "stream_events", tag = "index",
    params(("Last-Event-ID" = Option<String>, Header, pattern = "^[0-9]{1,20}$",
        description = "The id of the last event received (decimal, at most 18446744073709551615); events after it are replayed if still buffered, else the stream starts with a `reset` event. An id beyond the newest issued also starts from the latest with a `reset`. Anything that is not a decimal 64-bit number (text, negative, overflowing) is a 400 naming the header; it never wraps around.")),
    responses((status = 200, description = "event stream", content_type = "text/event-stream", body = String),
        (status = 400, description = "`bad_request` naming `Last-Event-ID` or a query parameter")))]
pub(super) async fn events(
    _: Read,
    _: Params<NoParams>,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let after = last_event_id(&headers)?;
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
    Ok(
        Sse::new(stream::iter(first).chain(live).take_until(stop).map(Ok))
            .keep_alive(KeepAlive::default()),
    )
}
