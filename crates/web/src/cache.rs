//! A small in-process cache of successful GET responses.
//!
//! Decoding a feed page's rows costs far more than rendering it, so the
//! rendered responses are kept and served again until what they show
//! changes. What they show is known precisely: each response is rendered
//! under [`paperboy_store::reads::tracking`], which records the papers,
//! feeds (days, and whether ranked by votes) and members it read, and the
//! entry keeps that record.
//!
//! - **Catalog changes** (imports, harvests, submissions, hidden or shown
//!   papers): each request asks the store for its change-feed position
//!   (`last_change_seq`, one indexed lookup); when it moved, the cache is
//!   emptied. This holds across servers at once.
//! - **Community changes** (votes, comments added, edited, deleted, hidden
//!   or shown, suspensions): every server's `cache-follow` job
//!   (`paperboy_services::jobs::cache_follow`) reads the store's community
//!   change feed a few times a second and calls [`ResponseCache`]'s
//!   `follow`, which drops only the entries whose record a change touches
//!   ([`paperboy_store::reads::Reads::stale_after`]): the paper's page and
//!   API answers, feeds and searches that list it, feeds ranked by votes
//!   around its day (for a vote), the member's profile. A write through
//!   this server (a POST, PUT or DELETE that succeeded) follows the feed at
//!   once, so its own pages are fresh on the next request. Once a follower
//!   has run, the cache serves nothing while the follower is more than
//!   [`STALE_AFTER`] late (say, the database is unreachable), and starts
//!   over when it catches up.
//! - Entries also expire after [`TTL`], for what no feed records (the
//!   trending order decays with time).
//!
//! The cache holds at most [`MAX_ENTRIES`] responses and starts over when
//! full, so junk query strings cannot make it grow without bound. A body
//! larger than its size limit ([`MAX_BODY`] by default), or of unknown
//! size, is served as it is and not kept.
//!
//! Only visitors without a session are served from (and fill) the cache:
//! a request with a session cookie always runs the handler, because its
//! pages show the member's name, votes and CSRF tokens. Non-GET requests
//! are never cached, nor are responses that set a cookie or say
//! `Cache-Control: no-store` (the login and sign-up forms carry a CSRF
//! token).
//!
//! Each entry keeps its strong `ETag` (a hash of the body, computed once
//! when stored) and, for compressible bodies, the gzip and brotli bytes,
//! each made on the first request that asks for it: a hit hashes and
//! compresses nothing (see `compress.rs`, `conditional.rs`).
//!
//! Entries are keyed by path and the whole query string, so two searches
//! never share an entry. Search responses (`/search…`, `/api/papers/search`,
//! `…/similar`) also depend on the search index, which catches up with the
//! store after it changes: they are only cached when the index's watermark
//! (`SearchEngine::applied_seq`) has reached the store's position, so a
//! search rendered before the index caught up is never served again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::Response;
use paperboy_services::jobs::cache_follow::{Cursor, FollowChanges, READ_LIMIT, START_BACK};
use paperboy_store::reads::{Reads, tracking};
use paperboy_store::{CommunityChange, Database, StoreError};

use crate::AppState;
use crate::compress::{self, Coding};
use crate::conditional::{etag_value, tag_of};
use crate::error::WebError;

/// How long a response may be served from the cache at most.
pub const TTL: Duration = Duration::from_secs(30);
/// Responses kept at most.
pub const MAX_ENTRIES: usize = 512;
/// Larger bodies are not cached (the default size limit).
pub const MAX_BODY: usize = 4 << 20;
/// Once a follower runs, how late it may be before the cache stops
/// serving what it holds.
pub const STALE_AFTER: Duration = Duration::from_secs(2);

#[derive(Clone)]
struct Entry {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    /// The opaque part of the strong `ETag` of `body`.
    tag: String,
    /// Whether the body is of a compressible type and large enough.
    compressible: bool,
    /// The gzip and brotli bytes, made on first demand.
    encoded: Arc<[OnceLock<Bytes>; 2]>,
    stored: Instant,
    /// What the response was rendered from.
    reads: Reads,
}

impl Entry {
    fn new(status: StatusCode, mut headers: HeaderMap, body: Bytes, reads: Reads) -> Entry {
        let text = compress::compressible_type(&headers);
        if text {
            compress::vary_on_encoding(&mut headers);
        }
        Entry {
            status,
            tag: tag_of(&body),
            compressible: text && body.len() >= compress::MIN_SIZE,
            headers,
            body,
            encoded: Arc::default(),
            stored: Instant::now(),
            reads,
        }
    }

    /// The response in `coding` (identity when the body is not compressible).
    fn response(&self, coding: Coding) -> Response {
        let coding = if self.compressible { coding } else { Coding::Identity };
        let body = match coding {
            Coding::Identity => self.body.clone(),
            Coding::Gzip => self.encoded[0].get_or_init(|| compress::encode(coding, &self.body)).clone(),
            Coding::Brotli => self.encoded[1].get_or_init(|| compress::encode(coding, &self.body)).clone(),
        };
        let mut r = Response::new(Body::from(body));
        *r.status_mut() = self.status;
        *r.headers_mut() = self.headers.clone();
        if coding != Coding::Identity {
            compress::mark_encoded(r.headers_mut(), coding);
        }
        r.headers_mut().insert(header::ETAG, etag_value(&self.tag, coding));
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
    /// When the follower job last caught up (`None`: no follower runs).
    followed_at: Option<Instant>,
}

/// The cache shared by the router's handlers (see the module documentation).
pub struct ResponseCache {
    inner: Mutex<Inner>,
    /// The position in the community change feed; locked while following.
    cursor: tokio::sync::Mutex<Cursor>,
    max_body: usize,
    /// Requests served from the cache, and cacheable requests that were not.
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Default for ResponseCache {
    fn default() -> Self {
        ResponseCache::new(MAX_BODY)
    }
}

impl ResponseCache {
    /// An empty cache that keeps bodies of at most `max_body` bytes.
    pub fn new(max_body: usize) -> ResponseCache {
        ResponseCache {
            inner: Mutex::default(),
            cursor: tokio::sync::Mutex::default(),
            max_body,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Requests served from the cache and cacheable requests that were
    /// rendered instead, since the start (for `/metrics`).
    pub fn hits_and_misses(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The entry for `key`, if rendered at `seq` and not expired, and the
    /// follower (if any) is not late; entries of an older `seq` are dropped.
    fn get(&self, key: &str, seq: u64) -> Option<Entry> {
        let mut inner = self.lock();
        if inner.seq != seq {
            inner.entries.clear();
            inner.seq = seq;
            return None;
        }
        if inner.followed_at.is_some_and(|t| t.elapsed() > STALE_AFTER) {
            return None;
        }
        inner.entries.get(key).filter(|e| e.stored.elapsed() < TTL).cloned()
    }

    /// Forgets every entry.
    fn clear(&self) {
        let mut inner = self.lock();
        inner.entries.clear();
        inner.generation += 1;
    }

    /// Forgets the entries that `changes` made stale.
    fn invalidate(&self, changes: &[CommunityChange]) {
        if changes.is_empty() {
            return;
        }
        let mut inner = self.lock();
        inner.entries.retain(|_, e| !changes.iter().any(|c| e.reads.stale_after(c)));
        // A response being rendered now may have read the old state.
        inner.generation += 1;
    }

    fn generation(&self) -> u64 {
        self.lock().generation
    }

    fn put(&self, key: String, seq: u64, generation: u64, entry: Entry) {
        let mut inner = self.lock();
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

#[async_trait]
impl FollowChanges for ResponseCache {
    async fn follow(&self, db: &dyn Database, from_job: bool) -> Result<usize, StoreError> {
        let mut cursor = self.cursor.lock().await;
        if !cursor.started() {
            let last = db.last_community_seq().await?;
            cursor.start(last.saturating_sub(START_BACK));
        }
        let mut applied = 0;
        loop {
            let changes = db.community_changes_since(cursor.after(), READ_LIMIT).await?;
            let read = changes.len();
            let fresh = cursor.take(changes, Instant::now());
            self.invalidate(&fresh);
            applied += fresh.len();
            if read < READ_LIMIT as usize || fresh.is_empty() {
                break;
            }
        }
        if from_job {
            let (first, late) = {
                let inner = self.lock();
                (inner.followed_at.is_none(), inner.followed_at.is_some_and(|t| t.elapsed() > STALE_AFTER))
            };
            if first || late {
                // What is held was rendered before the follower started, or
                // changes may have been swept before it saw them.
                self.clear();
            }
            self.lock().followed_at = Some(Instant::now());
        }
        Ok(applied)
    }
}

/// Paths whose responses depend only on the catalog. A member's own
/// pages are never shared, whoever asks: `/for-you…` (including the private
/// feed, fetched without a session) and `/api/recommendations` (fetched
/// with a token, without a session); they also say `private, no-store`.
fn cacheable(method: &Method, path: &str) -> bool {
    (method == Method::GET || method == Method::HEAD)
        && path != "/healthz"
        && !path.starts_with("/static/")
        && !is_private_path(path)
}

/// A member's own pages (see [`cacheable`]).
pub(crate) fn is_private_path(path: &str) -> bool {
    path == "/for-you" || path.starts_with("/for-you/") || path == "/api/recommendations"
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

/// Whether a body of this size may be kept: its size is known exactly and
/// at most `max`.
fn fits(exact: Option<u64>, max: usize) -> bool {
    exact.is_some_and(|n| n <= max as u64)
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
        // A write (a vote, a comment, a moderation) changes some pages:
        // drop them at once rather than at the follower's next turn.
        let response = next.run(request).await;
        if (response.status().is_success() || response.status().is_redirection())
            && let Err(e) = cache.follow(st.store.as_ref(), false).await
        {
            tracing::warn!(error = %e, "could not read the community changes after a write; cache emptied");
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
    let coding = compress::negotiate(request.headers().get_all(header::ACCEPT_ENCODING));
    if let Some(hit) = cache.get(&key, seq) {
        cache.hits.fetch_add(1, Ordering::Relaxed);
        return hit.response(coding);
    }
    cache.misses.fetch_add(1, Ordering::Relaxed);
    let generation = cache.generation();
    let (response, reads) = tracking(next.run(request)).await;
    if response.status() != StatusCode::OK
        || !storable(response.headers())
        || !fits(response.body().size_hint().exact(), cache.max_body)
    {
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, cache.max_body).await {
        Ok(b) => b,
        Err(e) => {
            return WebError::Internal(format!("buffering a response: {e}")).into_json_response();
        }
    };
    let entry = Entry::new(parts.status, parts.headers, body, reads);
    let mut response = entry.response(coding);
    *response.extensions_mut() = parts.extensions;
    cache.put(key, seq, generation, entry);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(body: &'static str) -> Entry {
        Entry::new(StatusCode::OK, HeaderMap::new(), Bytes::from_static(body.as_bytes()), Reads::default())
    }

    #[test]
    fn an_entry_compresses_once_per_coding_and_keeps_its_tag() {
        use axum::http::HeaderValue;
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        let e = Entry::new(StatusCode::OK, h, Bytes::from("<p>paper</p>".repeat(200)), Reads::default());
        let br = e.response(Coding::Brotli);
        assert_eq!(br.headers()[header::CONTENT_ENCODING], "br");
        assert_eq!(br.headers()[header::VARY], "accept-encoding");
        assert_eq!(br.headers()[header::ETAG], format!("\"{}-br\"", e.tag));
        let first = e.encoded[1].get().unwrap().as_ptr();
        let again = e.clone().response(Coding::Brotli);
        assert_eq!(e.encoded[1].get().unwrap().as_ptr(), first, "the same bytes, not compressed again");
        assert_eq!(again.headers()[header::ETAG], br.headers()[header::ETAG]);
        assert!(e.encoded[0].get().is_none(), "gzip not made until asked for");
        let plain = e.response(Coding::Identity);
        assert!(!plain.headers().contains_key(header::CONTENT_ENCODING));
        assert_eq!(plain.headers()[header::ETAG], format!("\"{}\"", e.tag));
        let small = entry("tiny");
        assert!(!small.response(Coding::Gzip).headers().contains_key(header::CONTENT_ENCODING));
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
        for private in ["/for-you", "/for-you/week/2026-W11", "/for-you/feed/abc.atom", "/api/recommendations"] {
            assert!(!cacheable(&Method::GET, private), "{private}");
        }
        assert!(cacheable(&Method::GET, "/for-youth"), "only the member's own paths");
    }

    fn change_of(paper: &str) -> CommunityChange {
        CommunityChange {
            seq: 1,
            kind: paperboy_store::CommunityKind::Comment,
            paper_id: Some(paperboy_core::PaperId::parse(paper).unwrap()),
            listed_on: None,
            user: None,
        }
    }

    fn entry_showing(paper: &str) -> Entry {
        let mut e = entry("x");
        e.reads.papers.insert(paper.to_string());
        e
    }

    #[test]
    fn a_change_drops_only_the_entries_that_show_it() {
        let c = ResponseCache::default();
        c.put("/papers/2603.00101".into(), 0, 0, entry_showing("2603.00101"));
        c.put("/papers/2603.00102".into(), 0, 0, entry_showing("2603.00102"));
        c.put("/api/openapi.json".into(), 0, 0, entry("spec"));
        let before = c.generation();
        c.invalidate(&[change_of("2603.00101")]);
        assert!(c.get("/papers/2603.00101", 0).is_none());
        assert!(c.get("/papers/2603.00102", 0).is_some(), "another paper stays");
        assert!(c.get("/api/openapi.json", 0).is_some(), "a page that read nothing stays");
        assert_ne!(c.generation(), before, "a render that started before is not kept");
        c.invalidate(&[]);
        assert!(c.get("/papers/2603.00102", 0).is_some());
    }

    #[test]
    fn a_late_follower_stops_hits() {
        let c = ResponseCache::default();
        c.put("/".into(), 0, 0, entry("a"));
        c.lock().followed_at = Some(Instant::now());
        assert!(c.get("/", 0).is_some());
        c.lock().followed_at = Instant::now().checked_sub(STALE_AFTER * 2);
        assert!(c.get("/", 0).is_none(), "the follower is late");
    }

    #[test]
    fn only_bodies_of_known_size_within_the_limit_are_kept() {
        assert!(fits(Some(10), 10));
        assert!(!fits(Some(11), 10), "over the limit: served, not kept");
        assert!(!fits(None, 10), "a stream of unknown length is not buffered");
    }
}
