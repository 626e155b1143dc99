//! The router and `serve` (`src/lib.rs`): the health check,
//! an empty catalog's empty state on every surface, trailing slashes, and a
//! graceful shutdown.

use crate::common;

use common::catalog::{start, start_empty};
use common::header;
use common::xml::{check_atom, check_rss};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn healthz_answers_ok() {
    let s = start(30).await;
    let r = s.get("/healthz").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn an_empty_catalog_has_an_empty_state() {
    let s = start_empty().await;
    let body = s.text("/", StatusCode::OK).await;
    assert!(body.contains("No papers yet: run <code>paperboy import FILE</code> or <code>paperboy demo</code>"));
    let r = s.get("/api/daily_papers").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "x-total-count"), "0");
    assert_eq!(r.json::<Value>().await.unwrap(), serde_json::json!([]));
    let atom = s.text("/feed.atom", StatusCode::OK).await;
    assert!(check_atom(&atom, &s.base, "/feed.atom").all("entry").is_empty());
    let rss = s.text("/feed.rss", StatusCode::OK).await;
    assert!(check_rss(&rss, &s.base, "/feed.rss").one("channel").all("item").is_empty());
    let week = s.text("/papers/week", StatusCode::OK).await;
    assert!(week.contains("No papers yet"));
    let day = s.text("/papers/date/2026-03-11", StatusCode::OK).await;
    assert!(day.contains("No papers this day."));
    assert_eq!(s.text("/healthz", StatusCode::OK).await, "ok");
}

#[tokio::test]
async fn trailing_slashes_redirect_to_the_page_without_one() {
    let s = start(30).await;
    for (path, target) in
        [("/papers/date/2026-03-11/", "/papers/date/2026-03-11"), ("/papers/hep-th/9901001/", "/papers/hep-th/9901001")]
    {
        let r = s.get(path).await;
        assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT, "GET {path}");
        assert_eq!(header(&r, "location"), target);
    }
    // A control character cannot go into a Location header: the path is no
    // paper, and the answer a readable 400, not a 500 or a dropped connection.
    for path in ["/papers/x%0D/", "/papers/x%0A%0D/", "/papers/%00/"] {
        let r = s.get(path).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "GET {path}");
        assert!(r.headers().get("location").is_none(), "GET {path}");
    }
}

#[tokio::test]
async fn serve_stops_gracefully() {
    let s = start_empty().await;
    let ok = reqwest::get(s.url("/healthz")).await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    drop(ok);
    let result = s
        .shut_down(std::time::Duration::from_secs(10))
        .await
        .expect("serve returns after the shutdown signal")
        .unwrap();
    assert!(result.is_ok());
}
