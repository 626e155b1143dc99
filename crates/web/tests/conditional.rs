//! Compression (`src/compress.rs`) and validators with 304s
//! (`src/conditional.rs`), over real HTTP: cached and uncached responses,
//! feeds, pages and the API.

use std::io::Read as _;

use crate::common;

use common::catalog::{paper, start};
use paperboy_store::Catalog;
use reqwest::StatusCode;

fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b).read_to_end(&mut out).unwrap();
    out
}

fn unbrotli(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(b, 4096).read_to_end(&mut out).unwrap();
    out
}

/// A response read whole.
struct Got {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
}

impl Got {
    fn status(&self) -> StatusCode {
        self.status
    }
}

fn header(r: &Got, name: &str) -> String {
    r.headers.get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

async fn fetch(s: &common::Server, path: &str, headers: &[(&str, &str)]) -> (Got, Vec<u8>) {
    let mut req = s.client.get(s.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.unwrap();
    let got = Got { status: r.status(), headers: r.headers().clone() };
    (got, r.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn gzip_and_brotli_bodies_decompress_to_the_identity_bytes() {
    let s = start(30).await;
    // Cached pages, feeds and the API (twice: the miss that fills the entry,
    // then the hit served from its compressed bytes), and an uncached asset.
    for path in ["/", "/papers/date/2026-03-12", "/feed.atom", "/feed.rss", "/api/daily_papers", "/static/style.css"] {
        let (plain, identity) = fetch(&s, path, &[]).await;
        assert_eq!(plain.status(), StatusCode::OK, "{path}");
        assert!(identity.len() >= 1024, "{path} is big enough to compress: {}", identity.len());
        assert_eq!(header(&plain, "content-encoding"), "", "{path}: identity without Accept-Encoding");
        assert!(header(&plain, "vary").to_ascii_lowercase().contains("accept-encoding"), "{path}");
        for _ in 0..2 {
            let (r, gz) = fetch(&s, path, &[("accept-encoding", "gzip")]).await;
            assert_eq!(header(&r, "content-encoding"), "gzip", "{path}");
            assert!(header(&r, "vary").to_ascii_lowercase().contains("accept-encoding"), "{path}");
            assert_eq!(gunzip(&gz), identity, "{path}: gzip");
            assert!(gz.len() < identity.len(), "{path}");
            let (r, br) = fetch(&s, path, &[("accept-encoding", "gzip, deflate, br")]).await;
            assert_eq!(header(&r, "content-encoding"), "br", "{path}: br wins a tie");
            assert_eq!(unbrotli(&br), identity, "{path}: brotli");
            let (r, gz) = fetch(&s, path, &[("accept-encoding", "br;q=0.5, gzip;q=0.9")]).await;
            assert_eq!(header(&r, "content-encoding"), "gzip", "{path}: q-values decide");
            assert_eq!(gunzip(&gz), identity, "{path}");
        }
    }
    // Small bodies are sent as they are.
    let (r, body) = fetch(&s, "/healthz", &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(header(&r, "content-encoding"), "");
    assert_eq!(body, b"ok");
}

#[tokio::test]
async fn if_none_match_answers_304_and_a_new_catalog_gives_a_new_tag() {
    let s = start(30).await;
    let paths = ["/feed.atom", "/papers/date/2026-03-12", "/api/daily_papers?date=2026-03-12", "/static/style.css"];
    let mut tags = Vec::new();
    for path in paths {
        let (r, _) = fetch(&s, path, &[]).await;
        let etag = header(&r, "etag");
        assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() > 10, "{path}: strong tag {etag}");
        let (again, _) = fetch(&s, path, &[]).await;
        assert_eq!(header(&again, "etag"), etag, "{path}: the same bytes, the same tag");
        for inm in [etag.clone(), format!("W/{etag}"), format!("\"other\", {etag}"), "*".to_string()] {
            let (r, body) = fetch(&s, path, &[("if-none-match", &inm)]).await;
            assert_eq!(r.status(), StatusCode::NOT_MODIFIED, "{path} with {inm}");
            assert!(body.is_empty(), "{path}: a 304 has no body");
            assert_eq!(header(&r, "etag"), etag, "{path}: a 304 carries the tag");
        }
        // The compressed representation has its own tag, and revalidates
        // against the identity one (the same content).
        let (r, _) = fetch(&s, path, &[("accept-encoding", "br"), ("if-none-match", &etag)]).await;
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(header(&r, "etag"), format!("{}-br\"", etag.trim_end_matches('"')), "{path}");
        let (r, _) = fetch(&s, path, &[("if-none-match", "\"not-this-one\"")]).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        tags.push(etag);
    }
    let fresh = paper("2603.00106", "A Freshly Imported Paper", "2026-03-12", &["cs.CV"]);
    s.store.upsert_papers(&[fresh]).await.unwrap();
    for (path, old) in paths.iter().zip(&tags).take(3) {
        let (r, body) = fetch(&s, path, &[("if-none-match", old)]).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}: the catalog changed");
        assert_ne!(&header(&r, "etag"), old, "{path}: a new tag");
        assert!(String::from_utf8(body).unwrap().contains("A Freshly Imported Paper"), "{path}");
    }
}

#[tokio::test]
async fn feeds_say_when_they_changed_and_if_none_match_comes_first() {
    let s = start(30).await;
    let (r, _) = fetch(&s, "/feed.atom", &[]).await;
    let modified = header(&r, "last-modified");
    assert!(modified.ends_with(" GMT"), "{modified}");
    let (r, _) = fetch(&s, "/feed.atom", &[("if-modified-since", &modified)]).await;
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&r, "last-modified"), modified);
    let (r, _) = fetch(&s, "/feed.atom", &[("if-modified-since", "Thu, 01 Jan 2015 00:00:00 GMT")]).await;
    assert_eq!(r.status(), StatusCode::OK, "changed since");
    let (r, _) =
        fetch(&s, "/feed.atom", &[("if-modified-since", &modified), ("if-none-match", "\"something-else\"")]).await;
    assert_eq!(r.status(), StatusCode::OK, "If-None-Match takes precedence");
}
