//! Conditional GETs for what dashboards poll: one layer, not per-handler copies.
//!
//! A tag is a hash of what can change the answer (the change generations of the databases the
//! route reads, each with its per-open epoch, plus the watcher's version and git state for `/v1/status`) and of
//! the request's path and normalised query. A matching `If-None-Match` gets 304 before the handler
//! runs, so no query is made. While a write is in flight the answer carries no tag at all, nor
//! does `/v1/status` while its in-memory snapshot (crate::snapshot) lags the databases.
//!
//! The index's routes also keep each tagged answer (`super::cache`) under the key its tag is a
//! hash of, so a poller without `If-None-Match` gets the same bytes without a query until the
//! index changes.

use super::auth::Read;
use super::cache::{Cached, PageCache};
use super::AppState;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Arc, OnceLock};

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

/// `router` with its GET answers tagged as coming from `source`; the index's answers are also
/// kept between changes (see `super::cache`).
pub fn tagged(
    router: axum::Router<AppState>,
    state: &AppState,
    source: Source,
) -> axum::Router<AppState> {
    let cache = (source == Source::Index).then(|| Arc::new(PageCache::default()));
    router.route_layer(axum::middleware::from_fn_with_state(
        (state.clone(), source, cache),
        conditional,
    ))
}

/// The state of what a route's answers are derived from, as the storage vouches for it: equal
/// states (with equal questions) give equal answers. `None` where it cannot vouch (a write in
/// flight, a status snapshot behind the databases).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sources {
    source: Source,
    /// `(epoch, generation)` of the index, of the records.
    index: Option<(u64, u64)>,
    records: Option<(u64, u64)>,
    /// `/v1/status`: the versions of the watcher's, the git and the fleet's status, and of the
    /// fleet's view of the other workspaces.
    status: Option<(u64, u64, u64, u64)>,
}

impl Sources {
    fn now(state: &AppState, source: Source) -> Option<Sources> {
        // On a shared database other daemons write too, and no counter here sees it: only the
        // status (whose fleet part is a snapshot hashed below) is tagged; lists and items are
        // always answered in full (and never kept) rather than risk a stale one.
        if state.fleet.shared() && source != Source::Status {
            return None;
        }
        let index = match source {
            Source::Records => None,
            _ => Some(state.store.generation.stable()?),
        };
        let records = match source {
            Source::Index => None,
            _ => Some(state.records.generation.stable()?),
        };
        let status = match source {
            // Its counts come from a snapshot, not from the databases: tagged only while the
            // snapshot is at the live generations read above, so the tag names what is served.
            Source::Status if !state.status.is_live(&state.status.current()) => return None,
            Source::Status => Some((
                state.watch.version(),
                state.git.status_version(),
                state.fleet.health.version(),
                state.fleet.view_version(),
            )),
            _ => None,
        };
        Some(Sources {
            source,
            index,
            records,
            status,
        })
    }
}

/// What an answer is derived from: the sources' state and the question (path and normalised
/// query). Its hash is the ETag; the page cache keeps answers under the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub sources: Sources,
    path: String,
    query: Vec<(String, String)>,
}

impl Key {
    fn of(sources: Sources, uri: &axum::http::Uri) -> Key {
        // The same parameters in another order or encoding are the same question.
        let mut query: Vec<(String, String)> =
            form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                .into_owned()
                .collect();
        query.sort();
        Key {
            sources,
            path: uri.path().to_string(),
            query,
        }
    }

    fn tag(&self) -> Option<HeaderValue> {
        let mut h = hasher();
        self.hash(&mut h);
        HeaderValue::from_str(&format!("\"{:016x}\"", h.finish())).ok()
    }

    /// Roughly the bytes the key holds (for the cache's budget).
    pub fn weight(&self) -> usize {
        std::mem::size_of::<Key>()
            + self.path.len()
            + self
                .query
                .iter()
                .map(|(k, v)| k.len() + v.len() + std::mem::size_of::<(String, String)>())
                .sum::<usize>()
    }

    #[cfg(test)]
    pub fn for_test(source: Source, index: Option<(u64, u64)>, path: &str, query: &str) -> Key {
        let uri: axum::http::Uri = format!("{path}?{query}").parse().unwrap();
        let sources = Sources {
            source,
            index,
            records: None,
            status: None,
        };
        Key::of(sources, &uri)
    }
}

/// Files served from disk (`/report`, `/events` of an attempt) can change before the index
/// notices; they are not tagged from the generations.
fn taggable(path: &str) -> bool {
    let p = path.trim_end_matches('/');
    !(p.starts_with("/v1/attempts/") && (p.ends_with("/report") || p.ends_with("/events")))
}

async fn conditional(
    State((state, source, cache)): State<(AppState, Source, Option<Arc<PageCache>>)>,
    req: Request,
    next: Next,
) -> Response {
    if req.method() != Method::GET || !taggable(req.uri().path()) {
        return next.run(req).await;
    }
    // Authorisation first: a 304 (or a kept answer) tells a caller that nothing changed, which
    // only a reader may learn.
    let (mut parts, body) = req.into_parts();
    if let Err(e) = Read::from_request_parts(&mut parts, &state).await {
        return e.into_response();
    }
    let req = Request::from_parts(parts, body);
    // Read before the handler runs: the answer is at least as new as the tag.
    let key = Sources::now(&state, source).map(|s| Key::of(s, req.uri()));
    let tag = key.as_ref().and_then(Key::tag);
    let star = star(req.headers());
    if let (Some(t), Some(k)) = (&tag, &key) {
        if matches(req.headers(), t) {
            return not_modified(t);
        }
        if let Some(kept) = cache.as_ref().and_then(|c| c.get(k)) {
            // Kept only as a 200: `*` matches it.
            if star {
                return not_modified(t);
            }
            let mut resp = Response::new(Body::from(kept.body));
            *resp.headers_mut() = kept.headers;
            set_headers(resp.headers_mut(), Some(t));
            return resp;
        }
    }
    let mut resp = next.run(req).await;
    // Read again after: a write that committed while the handler ran may or may not be in the
    // answer, so the answer gets no tag (seqlock-style validation).
    let ok = resp.status() == StatusCode::OK
        && tag.is_some()
        && key.as_ref().map(|k| &k.sources) == Sources::now(&state, source).as_ref();
    let tag = tag.filter(|_| ok);
    if let (Some(cache), Some(key), true) = (&cache, key, ok) {
        resp = keep(cache, key, resp).await;
    }
    set_headers(resp.headers_mut(), tag.as_ref());
    // `*` matches any current representation (RFC 9110 §13.1.2), so only once the handler
    // found one: a missing resource is still a 404.
    if star && resp.status() == StatusCode::OK {
        let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
        set_headers(not_modified.headers_mut(), tag.as_ref());
        return not_modified;
    }
    resp
}

fn not_modified(tag: &HeaderValue) -> Response {
    let mut resp = StatusCode::NOT_MODIFIED.into_response();
    set_headers(resp.headers_mut(), Some(tag));
    resp
}

/// Keeps a tagged answer whose whole body is already in memory (a JSON body is one buffer)
/// and within the cache's entry cap; anything else passes through untouched.
async fn keep(cache: &PageCache, key: Key, resp: Response) -> Response {
    let size = axum::body::HttpBody::size_hint(resp.body()).exact();
    if size.is_none_or(|n| n as usize > super::cache::MAX_ENTRY) {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    match axum::body::to_bytes(body, super::cache::MAX_ENTRY).await {
        Ok(bytes) => {
            cache.put(
                key,
                Cached {
                    headers: parts.headers.clone(),
                    body: bytes.clone(),
                },
            );
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(e) => super::ApiError::internal(e).into_response(),
    }
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
