//! A small in-process cache of successful GET responses.
//!
//! Decoding a feed page's rows costs far more than rendering it, so the
//! rendered responses are kept and served again until the catalog changes.
//! Each request asks the store for its change-feed position
//! (`last_change_seq`, one indexed lookup); when it moved, the cache is
//! emptied. Entries also expire after [`TTL`], for changes that the change
//! feed does not record (such as votes); and every successful write through
//! this server (a POST, PUT or DELETE: a vote, a comment, a moderation)
//! empties the cache at once. The cache holds at most
//! [`MAX_ENTRIES`] responses and starts over when full, so junk query
//! strings cannot make it grow without bound.
//!
//! Only visitors without a session are served from (and fill) the cache:
//! a request with a session cookie always runs the handler, because its
//! pages show the member's name, votes and CSRF tokens. Non-GET requests
//! are never cached, nor are responses that set a cookie or say
//! `Cache-Control: no-store` (the login and sign-up forms carry a CSRF
//! token).
//!
//! Entries are keyed by path and the whole query string, so two searches
//! never share an entry. Search responses (`/search…`, `/api/papers/search`,
//! `…/similar`) also depend on the search index, which catches up with the
//! store after it changes: they are only cached when the index's watermark
//! (`SearchEngine::applied_seq`) has reached the store's position, so a
//! search rendered before the index caught up is never served again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
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
    /// Bumped by every [`ResponseCache::clear`], so that a response rendered
    /// before a write is not stored after it.
    generation: u64,
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

    /// Forgets every entry (after a write through this server).
    fn clear(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.entries.clear();
        inner.generation += 1;
    }

    fn generation(&self) -> u64 {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).generation
    }

    fn put(&self, key: String, seq: u64, generation: u64, entry: Entry) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.seq != seq || inner.generation != generation {
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

/// Whether a response may be shared with other visitors: it sets no
/// cookie and is not marked `no-store` or `private`.
fn storable(headers: &HeaderMap) -> bool {
    let private = headers
        .get(axum::http::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("no-store") || v.contains("private"));
    !private && !headers.contains_key(axum::http::header::SET_COOKIE)
}

/// Paths whose responses come from the search index.
fn uses_search_index(path: &str) -> bool {
    path == "/search"
        || path.starts_with("/search/")
        || path == "/api/papers/search"
        || (path.starts_with("/api/papers/") && path.ends_with("/similar"))
}

/// The cache key: the path and the full query string.
fn cache_key(uri: &Uri) -> String {
    match uri.query() {
        Some(q) => format!("{}?{q}", uri.path()),
        None => uri.path().to_string(),
    }
}

/// Whether the search index has applied every store change up to `seq`
/// (false when unknown).
async fn index_caught_up(st: &AppState, seq: u64) -> bool {
    let Some(engine) = st.search.clone() else {
        // No index: search pages only say that search is off.
        return true;
    };
    matches!(tokio::task::spawn_blocking(move || engine.applied_seq()).await, Ok(Ok(applied)) if applied >= seq)
}

/// The middleware: serves from the cache, or runs the handler and keeps a
/// successful response.
pub async fn middleware(
    State((st, cache)): State<(AppState, Arc<ResponseCache>)>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    if method != Method::GET && method != Method::HEAD {
        // A write (a vote, a comment, a moderation) may change any page:
        // start over once it succeeded.
        let response = next.run(request).await;
        if response.status().is_success() || response.status().is_redirection() {
            cache.clear();
        }
        return response;
    }
    if !cacheable(request.method(), request.uri().path())
        || crate::auth::cookie(request.headers(), crate::auth::SESSION_COOKIE).is_some()
    {
        return next.run(request).await;
    }
    let seq = match st.store.last_change_seq().await {
        Ok(seq) => seq,
        // The handler will meet the same failure and report it properly.
        Err(_) => return next.run(request).await,
    };
    // Checked before rendering: an index that has caught up now cannot
    // render anything staler than `seq`.
    if uses_search_index(request.uri().path()) && !index_caught_up(&st, seq).await {
        return next.run(request).await;
    }
    let key = cache_key(request.uri());
    if let Some(hit) = cache.get(&key, seq) {
        return hit.response();
    }
    let generation = cache.generation();
    let response = next.run(request).await;
    if response.status() != StatusCode::OK || !storable(response.headers()) {
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
        generation,
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
        c.put("/".into(), 1, 0, entry("a"));
        assert_eq!(c.get("/", 1).unwrap().body, "a");
        assert!(c.get("/", 2).is_none());
        assert!(c.get("/", 2).is_none(), "dropped, not kept for seq 1");
        // A response rendered under an older seq is not stored.
        c.put("/x".into(), 1, 0, entry("old"));
        assert!(c.get("/x", 2).is_none());
    }

    #[test]
    fn a_write_empties_the_cache_and_blocks_older_renders() {
        let c = ResponseCache::default();
        c.put("/".into(), 0, c.generation(), entry("a"));
        let before = c.generation();
        c.clear();
        assert!(c.get("/", 0).is_none());
        c.put("/".into(), 0, before, entry("stale"));
        assert!(c.get("/", 0).is_none(), "rendered before the write");
        c.put("/".into(), 0, c.generation(), entry("fresh"));
        assert_eq!(c.get("/", 0).unwrap().body, "fresh");
    }

    #[test]
    fn the_cache_is_bounded() {
        let c = ResponseCache::default();
        for i in 0..MAX_ENTRIES + 10 {
            c.put(format!("/{i}"), 0, 0, entry("x"));
        }
        let n = c.inner.lock().unwrap().entries.len();
        assert!(n <= MAX_ENTRIES, "{n}");
    }

    #[test]
    fn keys_hold_the_whole_query_string() {
        let key = |s: &str| cache_key(&s.parse::<Uri>().unwrap());
        assert_eq!(key("/search?q=a%20b&mode=keyword&p=1"), "/search?q=a%20b&mode=keyword&p=1");
        assert_ne!(key("/search?q=a"), key("/search?q=b"));
        assert_ne!(key("/api/papers/search?q=a&limit=1"), key("/api/papers/search?q=a&limit=2"));
        assert_eq!(key("/papers"), "/papers");
    }

    #[test]
    fn search_paths_depend_on_the_index() {
        for path in ["/search", "/search/feed.atom", "/api/papers/search", "/api/papers/hep-th/9901001/similar"] {
            assert!(uses_search_index(path), "{path}");
        }
        for path in ["/", "/papers/2603.00101", "/api/papers/2603.00101", "/searching"] {
            assert!(!uses_search_index(path), "{path}");
        }
    }

    #[test]
    fn responses_with_cookies_or_no_store_are_not_kept() {
        use axum::http::{HeaderValue, header};
        let mut h = HeaderMap::new();
        assert!(storable(&h));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        assert!(!storable(&h));
        let mut h = HeaderMap::new();
        h.insert(header::SET_COOKIE, HeaderValue::from_static("pb_csrf=x"));
        assert!(!storable(&h));
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
