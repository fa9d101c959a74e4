//! Answers of the index's tagged GETs kept in memory between two changes of the index.
//!
//! Dashboards poll the same few pages (`/v1/attempts?limit=100`, `/v1/runs`, ...); between two
//! commits to the index each is the same bytes, yet building one costs a query and a 60 kB body.
//! The ETag layer already decides, for every answer, whether it is exactly the answer at one
//! stable state of the databases (the seqlock check before and after the handler); only such an
//! answer is kept here, under the full key its tag is a hash of (the storage's own account of
//! its state, the path and the normalised query), and it is served only for an equal key. So a
//! kept answer is never older than one a 304 would confirm: whatever moves an ETag misses here,
//! and where the storage cannot vouch for its state (a write in flight) nothing is tagged,
//! kept or served from here.

use super::etag::{Key, Sources};
use axum::body::Bytes;
use axum::http::HeaderMap;
use std::collections::HashMap;
use std::sync::Mutex;

/// Bytes kept at most: a few hundred 100-item pages, or a few dozen of 1,000 items.
const MAX_BYTES: usize = 24 << 20;
/// Larger answers are not kept (a page of 1,000 attempts is about 0.6 MB).
pub const MAX_ENTRY: usize = 2 << 20;

/// One kept answer: its headers (content type) and body.
#[derive(Clone)]
pub struct Cached {
    pub headers: HeaderMap,
    pub body: Bytes,
}

#[derive(Default)]
pub struct PageCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The state every kept answer was computed at; an answer at another state empties it
    /// (nothing computed before a change can be served after it).
    state: Option<Sources>,
    map: HashMap<Key, Cached>,
    bytes: usize,
}

impl PageCache {
    /// The answer kept for exactly this key, if any.
    pub fn get(&self, key: &Key) -> Option<Cached> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.map.get(key).cloned()
    }

    /// Keeps `value` as the answer for `key`. Answers of another state are dropped first; when
    /// the budget is spent everything is dropped (the pages polled come back at once).
    pub fn put(&self, key: Key, value: Cached) {
        let weight = key.weight();
        let size = value.body.len() + weight;
        if size > MAX_ENTRY {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.state.as_ref() != Some(&key.sources) || inner.bytes + size > MAX_BYTES {
            inner.map.clear();
            inner.bytes = 0;
            inner.state = Some(key.sources.clone());
        }
        inner.bytes += size;
        if let Some(old) = inner.map.insert(key, value) {
            inner.bytes -= old.body.len() + weight;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::etag::Source;

    fn key(gen: u64, query: &str) -> Key {
        Key::for_test(Source::Index, Some((7, gen)), "/v1/attempts", query)
    }

    fn page(text: &'static str) -> Cached {
        Cached {
            headers: HeaderMap::new(),
            body: Bytes::from_static(text.as_bytes()),
        }
    }

    #[test]
    fn an_answer_is_served_only_for_its_exact_state_and_question() {
        let c = PageCache::default();
        c.put(key(1, "limit=100"), page("a"));
        assert_eq!(c.get(&key(1, "limit=100")).unwrap().body, "a");
        assert!(c.get(&key(1, "limit=50")).is_none(), "another question");
        assert!(c.get(&key(2, "limit=100")).is_none(), "another state");
        assert!(
            c.get(&Key::for_test(
                Source::Index,
                Some((8, 1)),
                "/v1/attempts",
                "limit=100"
            ))
            .is_none(),
            "another epoch (the database reopened or rebuilt)"
        );
        // The first answer at a new state drops every answer of the old one.
        c.put(key(2, "limit=50"), page("b"));
        assert!(c.get(&key(1, "limit=100")).is_none());
        assert_eq!(c.get(&key(2, "limit=50")).unwrap().body, "b");
    }

    #[test]
    fn the_budget_bounds_what_is_kept() {
        let c = PageCache::default();
        let big = Bytes::from(vec![b'x'; MAX_ENTRY + 1]);
        c.put(
            key(1, "big"),
            Cached {
                headers: HeaderMap::new(),
                body: big,
            },
        );
        assert!(c.get(&key(1, "big")).is_none(), "over the entry cap");
        let chunk = Bytes::from(vec![b'x'; MAX_ENTRY / 2]);
        let n = MAX_BYTES / chunk.len() + 2;
        for i in 0..n {
            c.put(
                key(1, &format!("p={i}")),
                Cached {
                    headers: HeaderMap::new(),
                    body: chunk.clone(),
                },
            );
        }
        let inner = c.inner.lock().unwrap();
        assert!(inner.bytes <= MAX_BYTES && !inner.map.is_empty());
        assert!(inner.map.contains_key(&key(1, &format!("p={}", n - 1))));
    }
}
