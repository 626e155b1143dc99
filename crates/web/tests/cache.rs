//! The response cache (`src/cache.rs`): catalog changes show at once, and
//! cached answers keep their headers.

use crate::common;

use common::catalog::{paper, start};
use common::{content_type, header};
use paperboy_store::Catalog;
use reqwest::StatusCode;

#[tokio::test]
async fn catalog_changes_show_at_once() {
    let s = start(30).await;
    let first = s.text("/papers/date/2026-03-12", StatusCode::OK).await;
    let again = s.text("/papers/date/2026-03-12", StatusCode::OK).await;
    assert_eq!(first, again);
    assert!(first.contains("<strong class=\"count\">5</strong> papers"));
    s.text("/", StatusCode::OK).await;
    s.text("/api/daily_papers", StatusCode::OK).await;

    let fresh = paper("2603.00106", "A Freshly Imported Paper", "2026-03-12", &["cs.CV"]);
    let newer = paper("2603.00200", "Tomorrow Brings This", "2026-03-13", &["cs.LG"]);
    s.store.upsert_papers(&[fresh, newer]).await.unwrap();

    let after = s.text("/papers/date/2026-03-12", StatusCode::OK).await;
    assert!(after.contains("A Freshly Imported Paper"));
    assert!(after.contains("<strong class=\"count\">6</strong> papers"));
    assert!(after.contains(r#"<a class="next" href="/papers/date/2026-03-13""#));
    let root = s.text("/", StatusCode::OK).await;
    assert!(root.contains("Friday, 13 March 2026"), "the front page moves to the new day");
    let r = s.get("/api/daily_papers?date=2026-03-12").await;
    assert_eq!(header(&r, "x-total-count"), "6");
    // Cached responses keep their headers.
    let r = s.get("/api/daily_papers?date=2026-03-12").await;
    assert_eq!(header(&r, "x-total-count"), "6");
    assert_eq!(content_type(&r), "application/json");
    assert_eq!(header(&r, "x-content-type-options"), "nosniff");
}
