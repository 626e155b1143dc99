//! Validators and conditional requests: `ETag`, `Last-Modified` and
//! `304 Not Modified` for GET and HEAD, and compression on the way out.
//!
//! Every 200 to a GET with a body of known size (at most
//! [`crate::cache::MAX_BODY`]) gets a strong `ETag` from a hash of its bytes
//! (cached responses carry the one computed when they were stored, so a hit
//! hashes nothing). A compressed representation's tag has a coding suffix
//! (see [`crate::compress`]). Handlers that know when their content last
//! changed (the Atom and RSS feeds: their newest paper's time) set
//! `Last-Modified` themselves.
//!
//! A request is answered 304 (no body, the `ETag`, `Cache-Control`, `Vary`
//! and `Last-Modified` it would have had) when its `If-None-Match` lists the
//! response's tag, compared weakly as RFC 9110 asks for GET (`W/` ignored,
//! and the coding suffix too: it is the same content), or is `*`; or, only
//! when it sends no `If-None-Match`, when its `If-Modified-Since` is not
//! before `Last-Modified`.
//!
//! A response that sets a cookie, answers a member (a session cookie) or is
//! a member's own page gets `Cache-Control: private` unless it says
//! something already; it is still given a tag.

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::compress::{self, Coding};

/// The opaque part of a strong tag for `body`: 128 bits of its SHA-256, hex.
pub fn tag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let mut out = String::with_capacity(32);
    for b in &digest[..16] {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The `ETag` header value of the representation of `tag` sent with `coding`.
pub fn etag_value(tag: &str, coding: Coding) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{tag}{}\"", coding.etag_suffix())).unwrap_or(HeaderValue::from_static("\"\""))
}

/// The opaque tag without quotes, `W/` and a coding suffix.
fn content_tag(tag: &str) -> &str {
    let tag = tag.trim();
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    let tag = tag.trim_matches('"');
    [Coding::Gzip, Coding::Brotli].iter().find_map(|c| tag.strip_suffix(c.etag_suffix())).unwrap_or(tag)
}

/// Whether `If-None-Match` (`values`) matches the response's `etag`.
pub fn none_match(values: &[&str], etag: &str) -> bool {
    let current = content_tag(etag);
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .any(|t| t == "*" || content_tag(t) == current)
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn http_date(t: DateTime<Utc>) -> HeaderValue {
    HeaderValue::from_str(&t.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .unwrap_or(HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"))
}

fn parse_http_date(v: &HeaderValue) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(v.to_str().ok()?.trim()).ok().map(|t| t.with_timezone(&Utc))
}

/// What the middleware needs of the request, read before it moves on.
struct Conditions {
    coding: Coding,
    if_none_match: Vec<String>,
    if_modified_since: Option<DateTime<Utc>>,
    member: bool,
}

/// The 304 for a response: its validators and caching headers, no body.
fn not_modified(headers: &HeaderMap) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::NOT_MODIFIED;
    for name in
        [header::ETAG, header::CACHE_CONTROL, header::VARY, header::LAST_MODIFIED, header::EXPIRES, header::SET_COOKIE]
    {
        for v in headers.get_all(&name) {
            r.headers_mut().append(name.clone(), v.clone());
        }
    }
    r
}

/// Whether the request's validators say the client has this response.
fn fresh(cond: &Conditions, headers: &HeaderMap) -> bool {
    if !cond.if_none_match.is_empty() {
        let values: Vec<&str> = cond.if_none_match.iter().map(String::as_str).collect();
        return headers.get(header::ETAG).and_then(|v| v.to_str().ok()).is_some_and(|etag| none_match(&values, etag));
    }
    match (cond.if_modified_since, headers.get(header::LAST_MODIFIED).and_then(parse_http_date)) {
        (Some(since), Some(modified)) => modified <= since,
        _ => false,
    }
}

/// The middleware (module documentation); inside the panic guard, outside
/// the session and the cache.
pub async fn middleware(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    if method != Method::GET && method != Method::HEAD {
        return next.run(request).await;
    }
    let headers = request.headers();
    let cond = Conditions {
        coding: compress::negotiate(headers.get_all(header::ACCEPT_ENCODING)),
        if_none_match: headers
            .get_all(header::IF_NONE_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect(),
        if_modified_since: headers.get(header::IF_MODIFIED_SINCE).and_then(parse_http_date),
        member: crate::auth::cookie(headers, crate::auth::SESSION_COOKIE).is_some()
            || crate::cache::is_private_path(request.uri().path()),
    };
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    if (cond.member || parts.headers.contains_key(header::SET_COOKIE))
        && !parts.headers.contains_key(header::CACHE_CONTROL)
    {
        parts.headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    }
    let body = if parts.headers.contains_key(header::ETAG) || method == Method::HEAD {
        // Tagged (and encoded) by the cache already, or a HEAD whose body
        // the router has dropped: nothing to hash.
        body
    } else if body.size_hint().exact().is_some_and(|n| n <= crate::cache::MAX_BODY as u64) {
        let bytes: Bytes = match axum::body::to_bytes(body, crate::cache::MAX_BODY).await {
            Ok(b) => b,
            Err(e) => {
                return crate::error::WebError::Internal(format!("buffering a response: {e}")).into_json_response();
            }
        };
        let tag = tag_of(&bytes);
        let text = compress::compressible_type(&parts.headers);
        let coding = if text && bytes.len() >= compress::MIN_SIZE { cond.coding } else { Coding::Identity };
        if text {
            compress::mark_encoded(&mut parts.headers, coding);
        }
        parts.headers.insert(header::ETAG, etag_value(&tag, coding));
        Body::from(if coding == Coding::Identity { bytes } else { compress::encode(coding, &bytes) })
    } else {
        body
    };
    if fresh(&cond, &parts.headers) {
        return not_modified(&parts.headers);
    }
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly_and_ignores_the_coding() {
        let etag = "\"0123abcd-br\"";
        assert!(none_match(&["\"0123abcd\""], etag));
        assert!(none_match(&["W/\"0123abcd-gz\""], etag));
        assert!(none_match(&["\"zzz\", \"0123abcd\""], etag), "a list");
        assert!(none_match(&["\"zzz\"", "\"0123abcd\""], etag), "several headers");
        assert!(none_match(&["*"], etag));
        assert!(!none_match(&["\"0123abce\""], etag));
        assert!(!none_match(&[""], etag));
    }

    #[test]
    fn tags_and_dates() {
        assert_eq!(tag_of(b"a"), tag_of(b"a"));
        assert_ne!(tag_of(b"a"), tag_of(b"b"));
        assert_eq!(tag_of(b"").len(), 32);
        assert_eq!(etag_value("ab", Coding::Gzip), "\"ab-gz\"");
        let t = DateTime::parse_from_rfc3339("1994-11-06T08:49:37Z").unwrap().with_timezone(&Utc);
        let v = http_date(t);
        assert_eq!(v, "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(parse_http_date(&v), Some(t));
    }

    #[test]
    fn if_none_match_wins_over_if_modified_since() {
        let mut h = HeaderMap::new();
        h.insert(header::ETAG, HeaderValue::from_static("\"new\""));
        let t = Utc::now();
        h.insert(header::LAST_MODIFIED, http_date(t));
        let cond = |inm: &[&str], ims| Conditions {
            coding: Coding::Identity,
            if_none_match: inm.iter().map(|s| s.to_string()).collect(),
            if_modified_since: ims,
            member: false,
        };
        assert!(fresh(&cond(&[], Some(t + chrono::Duration::seconds(5))), &h));
        assert!(!fresh(&cond(&[], Some(t - chrono::Duration::seconds(5))), &h));
        assert!(!fresh(&cond(&["\"old\""], Some(t + chrono::Duration::seconds(5))), &h), "the tag decides");
        assert!(fresh(&cond(&["\"new\""], None), &h));
    }
}
