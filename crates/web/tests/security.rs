//! What protects visitors, across the site: hostile titles and names are
//! escaped in pages, feeds and the API, and every answer, errors included,
//! carries the security headers (set in `src/lib.rs`).

use crate::common;

use common::catalog::{HOSTILE, HOSTILE_ABSTRACT, HOSTILE_HTML, RAW_SCRIPT, start, start_at};
use common::header;
use common::xml::parse_xml;
use reqwest::StatusCode;

#[tokio::test]
async fn hostile_titles_are_escaped_everywhere() {
    let s = start(30).await;
    for path in ["/papers/date/2026-03-12", "/papers/2603.00103", "/papers/week/2026-W11"] {
        let body = s.text(path, StatusCode::OK).await;
        assert!(!body.contains(RAW_SCRIPT), "{path}");
        assert!(!body.contains("<b>Bold</b>"), "{path}");
        assert!(body.contains(HOSTILE_HTML), "{path}");
    }
    let page = s.text("/papers/2603.00103", StatusCode::OK).await;
    assert!(page.contains(&format!("<title>{HOSTILE_HTML} · Paperboy</title>")));
    assert!(!page.contains("javascript:"), "no javascript: links");

    let atom = s.text("/papers/date/2026-03-12/feed.atom", StatusCode::OK).await;
    assert!(!atom.contains(RAW_SCRIPT));
    let feed = parse_xml(&atom);
    assert!(feed.all("entry").iter().any(|e| e.one("title").text == HOSTILE), "round-trips exactly");
    assert!(
        feed.all("entry").iter().any(|e| e.all("author").iter().any(|a| a.one("name").text == "Mallory <b>Bold</b>"))
    );

    let rss = s.text("/feed.rss", StatusCode::OK).await;
    assert!(!rss.contains(RAW_SCRIPT));
    let doc = parse_xml(&rss);
    assert!(doc.one("channel").all("item").iter().any(|i| i.one("title").text == HOSTILE));
    // RSS readers render `description` as HTML: after XML decoding it must
    // still be escaped HTML, so the reader shows the markup as text.
    let items = doc.one("channel").all("item");
    let evil = items.iter().find(|i| i.one("title").text == HOSTILE).expect("the hostile paper's item");
    assert_eq!(evil.one("description").text, "We show &lt;img src=x onerror=alert(3)&gt; in an abstract.");
    assert!(!rss.contains("<img"), "no raw tag anywhere in the RSS document");
    // Atom says `type="text"`: one level of XML escaping, the text exact.
    let entry = feed.all("entry").into_iter().find(|e| e.one("title").text == HOSTILE).expect("the hostile entry");
    assert_eq!(entry.one("summary").text, HOSTILE_ABSTRACT);
    assert!(!atom.contains("<img"), "no raw tag anywhere in the Atom document");

    let v = s.json("/api/papers/2603.00103", StatusCode::OK).await;
    assert_eq!(v["title"], HOSTILE);
}

#[tokio::test]
async fn security_headers_on_pages_and_errors() {
    let s = start(30).await;
    for path in ["/", "/papers/2603.00101", "/papers/nope", "/missing", "/api/daily_papers"] {
        let r = s.get(path).await;
        assert_eq!(
            header(&r, "content-security-policy"),
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; \
             base-uri 'none'; form-action 'self'",
            "{path}"
        );
        assert!(r.headers().get("strict-transport-security").is_none(), "no HSTS over http: {path}");
        assert_eq!(header(&r, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header(&r, "referrer-policy"), "strict-origin-when-cross-origin", "{path}");
    }
}

#[tokio::test]
async fn an_https_site_sends_hsts() {
    let s = start_at("https://papers.example.org").await;
    for path in ["/", "/papers/nope", "/api/daily_papers"] {
        let r = s.get(path).await;
        assert_eq!(header(&r, "strict-transport-security"), "max-age=31536000", "{path}");
    }
}
