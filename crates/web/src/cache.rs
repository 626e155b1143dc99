//! A small in-process cache of successful GET responses.
//!
//! Decoding a feed page's rows costs far more than rendering it, so the
//! rendered responses are kept and served again until the catalog changes.
//! Each request asks the store for its change-feed position
//! (`last_change_seq`, one indexed lookup); when it moved, the cache is
//! emptied. Entries also expire after [`TTL`], for changes that the change
//! feed does not record (such as votes). The cache holds at most
//! [`MAX_ENTRIES`] responses and starts over when full, so junk query
//! strings cannot make it grow without bound.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::WebError;

/// How long a response may be served from the cache at most.
pub const TTL: Duration = Duration::from_secs(30);
/// Responses kept at most.
pub const MAX_ENTRIES: usize = 512;
/// Larger bodies are not cached.
const MAX_BODY: usize = 4 << 20;

#[derive(Clone)]
struct Entry {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    stored: Instant,
}

impl Entry {
    fn response(&self) -> Response {
        let mut r = Response::new(Body::from(self.body.clone()));
        *r.status_mut() = self.status;
        *r.headers_mut() = self.headers.clone();
        r
    }
}

#[derive(Default)]
struct Inner {
    /// The change-feed position the entries were rendered at (or after).
    seq: u64,
    entries: HashMap<String, Entry>,
}

/// The cache shared by the router's handlers.
#[derive(Default)]
pub struct ResponseCache {
    inner: Mutex<Inner>,
}

impl ResponseCache {
    /// The entry for `key`, if rendered at `seq` and not expired; entries
    /// of an older `seq` are dropped.
    fn get(&self, key: &str, seq: u64) -> Option<Entry> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.seq != seq {
            inner.entries.clear();
            inner.seq = seq;
            return None;
        }
        inner.entries.get(key).filter(|e| e.stored.elapsed() < TTL).cloned()
    }

    fn put(&self, key: String, seq: u64, entry: Entry) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.seq != seq {
            // The catalog changed while this response was rendered.
            return;
        }
        if inner.entries.len() >= MAX_ENTRIES && !inner.entries.contains_key(&key) {
            inner.entries.clear();
        }
        inner.entries.insert(key, entry);
    }
}

/// Paths whose responses depend only on the catalog.
fn cacheable(method: &Method, path: &str) -> bool {
    (method == Method::GET || method == Method::HEAD) && path != "/healthz" && !path.starts_with("/static/")
}

/// The middleware: serves from the cache, or runs the handler and keeps a
/// successful response.
pub async fn middleware(
    State((st, cache)): State<(AppState, Arc<ResponseCache>)>,
    request: Request,
    next: Next,
) -> Response {
    if !cacheable(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    let seq = match st.store.last_change_seq().await {
        Ok(seq) => seq,
        // The handler will meet the same failure and report it properly.
        Err(_) => return next.run(request).await,
    };
    let key = match request.uri().query() {
        Some(q) => format!("{}?{q}", request.uri().path()),
        None => request.uri().path().to_string(),
    };
    if let Some(hit) = cache.get(&key, seq) {
        return hit.response();
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => {
            return WebError::Internal(format!("buffering a response: {e}")).into_json_response();
        }
    };
    cache.put(
        key,
        seq,
        Entry { status: parts.status, headers: parts.headers.clone(), body: body.clone(), stored: Instant::now() },
    );
    Response::from_parts(parts, Body::from(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(body: &'static str) -> Entry {
        Entry {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: Bytes::from_static(body.as_bytes()),
            stored: Instant::now(),
        }
    }

    #[test]
    fn a_new_sequence_number_empties_the_cache() {
        let c = ResponseCache::default();
        assert!(c.get("/", 1).is_none());
        c.put("/".into(), 1, entry("a"));
        assert_eq!(c.get("/", 1).unwrap().body, "a");
        assert!(c.get("/", 2).is_none());
        assert!(c.get("/", 2).is_none(), "dropped, not kept for seq 1");
        // A response rendered under an older seq is not stored.
        c.put("/x".into(), 1, entry("old"));
        assert!(c.get("/x", 2).is_none());
    }

    #[test]
    fn the_cache_is_bounded() {
        let c = ResponseCache::default();
        for i in 0..MAX_ENTRIES + 10 {
            c.put(format!("/{i}"), 0, entry("x"));
        }
        let n = c.inner.lock().unwrap().entries.len();
        assert!(n <= MAX_ENTRIES, "{n}");
    }

    #[test]
    fn only_catalog_pages_are_cacheable() {
        assert!(cacheable(&Method::GET, "/papers/date/2026-03-11"));
        assert!(cacheable(&Method::HEAD, "/api/daily_papers"));
        assert!(!cacheable(&Method::GET, "/healthz"));
        assert!(!cacheable(&Method::GET, "/static/style.css"));
        assert!(!cacheable(&Method::POST, "/"));
    }
}
