//! Conditional GETs for what dashboards poll: one layer, not per-handler copies.
//!
//! A tag is a hash of what can change the answer (the change generations of the databases the
//! route reads, each with its per-open epoch, plus the watcher's version and git state for `/v1/status`) and of
//! the request's path and normalised query. A matching `If-None-Match` gets 304 before the handler
//! runs, so no query is made. While a write is in flight the answer carries no tag at all, nor
//! does `/v1/status` while its in-memory snapshot (crate::snapshot) lags the databases.

use super::auth::Read;
use super::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::OnceLock;

/// What a route's answers are derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// The index cache only (attempts, runs, mappings).
    Index,
    /// The durable records only (audit, plans).
    Records,
    /// Both databases (promotions: archives from the index, verifications from the records).
    Both,
    /// Both databases, the watcher and the git state (`/v1/status`).
    Status,
}

/// `router` with its GET answers tagged as coming from `source`.
pub fn tagged(
    router: axum::Router<AppState>,
    state: &AppState,
    source: Source,
) -> axum::Router<AppState> {
    router.route_layer(axum::middleware::from_fn_with_state(
        (state.clone(), source),
        conditional,
    ))
}

/// Files served from disk (`/report`, `/events` of an attempt) can change before the index
/// notices; they are not tagged from the generations.
fn taggable(path: &str) -> bool {
    let p = path.trim_end_matches('/');
    !(p.starts_with("/v1/attempts/") && (p.ends_with("/report") || p.ends_with("/events")))
}

async fn conditional(
    State((state, source)): State<(AppState, Source)>,
    req: Request,
    next: Next,
) -> Response {
    if req.method() != Method::GET || !taggable(req.uri().path()) {
        return next.run(req).await;
    }
    // Authorisation first: a 304 tells a caller that nothing changed, which only a reader may
    // learn.
    let (mut parts, body) = req.into_parts();
    if let Err(e) = Read::from_request_parts(&mut parts, &state).await {
        return e.into_response();
    }
    let req = Request::from_parts(parts, body);
    // Read before the handler runs: the answer is at least as new as the tag.
    let tag = tag_for(&state, source, req.uri());
    if let Some(t) = &tag {
        if matches(req.headers(), t) {
            let mut resp = StatusCode::NOT_MODIFIED.into_response();
            set_headers(resp.headers_mut(), Some(t));
            return resp;
        }
    }
    let uri = req.uri().clone();
    let star = star(req.headers());
    let mut resp = next.run(req).await;
    // Read again after: a write that committed while the handler ran may or may not be in the
    // answer, so the answer gets no tag (seqlock-style validation).
    let ok =
        resp.status() == StatusCode::OK && tag.is_some() && tag == tag_for(&state, source, &uri);
    set_headers(resp.headers_mut(), tag.as_ref().filter(|_| ok));
    // `*` matches any current representation (RFC 9110 §13.1.2), so only once the handler
    // found one: a missing resource is still a 404.
    if star && resp.status() == StatusCode::OK {
        let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
        set_headers(not_modified.headers_mut(), tag.as_ref().filter(|_| ok));
        return not_modified;
    }
    resp
}

fn star(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == "*")
}

fn set_headers(h: &mut HeaderMap, tag: Option<&HeaderValue>) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Some(t) = tag {
        h.insert(header::ETAG, t.clone());
    }
}

/// Keys unknown to anyone outside this process: tags are opaque and never repeat across runs.
fn hasher() -> impl Hasher {
    static KEYS: OnceLock<std::collections::hash_map::RandomState> = OnceLock::new();
    KEYS.get_or_init(Default::default).build_hasher()
}

fn tag_for(state: &AppState, source: Source, uri: &axum::http::Uri) -> Option<HeaderValue> {
    // On a shared database other daemons write too, and no counter here sees it: only the
    // status (whose fleet part is a snapshot hashed below) is tagged; lists and items are
    // always answered in full rather than risk a stale 304.
    if state.fleet.shared() && source != Source::Status {
        return None;
    }
    let mut h = hasher();
    source.hash(&mut h);
    if source != Source::Records {
        state.store.generation.stable()?.hash(&mut h);
    }
    if source != Source::Index {
        state.records.generation.stable()?.hash(&mut h);
    }
    if source == Source::Status {
        // Its counts come from a snapshot, not from the databases: tagged only while the
        // snapshot is at the live generations hashed above, so the tag names what is served.
        if !state.status.is_live(&state.status.current()) {
            return None;
        }
        state.watch.version().hash(&mut h);
        state.git.status_version().hash(&mut h);
        state.fleet.health.version().hash(&mut h);
        state.fleet.view_version().hash(&mut h);
    }
    uri.path().hash(&mut h);
    // The same parameters in another order or encoding are the same question.
    let mut pairs: Vec<(String, String)> =
        form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    pairs.sort();
    pairs.hash(&mut h);
    HeaderValue::from_str(&format!("\"{:016x}\"", h.finish())).ok()
}

/// `If-None-Match` with weak comparison (RFC 9110 §13.1.2): any listed tag (`*` is decided
/// after the handler, see [`star`]).
fn matches(headers: &HeaderMap, tag: &HeaderValue) -> bool {
    let want = tag.as_bytes();
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|t| t.trim_start_matches("W/").as_bytes() == want)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_lists_weak_tags_and_star_are_understood() {
        let tag = HeaderValue::from_static("\"abc\"");
        let mut h = HeaderMap::new();
        assert!(!matches(&h, &tag));
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"x\", W/\"abc\""),
        );
        assert!(matches(&h, &tag));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(!matches(&h, &tag) && star(&h));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"abcd\""));
        assert!(!matches(&h, &tag));
    }

    #[test]
    fn attempt_files_are_not_tagged_but_their_detail_is() {
        assert!(taggable("/v1/attempts/a/20261128_204141"));
        assert!(!taggable("/v1/attempts/a/20261128_204141/report"));
        assert!(!taggable("/v1/attempts/a/20261128_204141/events/"));
        assert!(taggable("/v1/runs/report"));
    }
}
