//! Paper pages (`src/pages/paper.rs`) over real HTTP: everything a paper
//! page shows, old-style and local ids, redirects of other spellings, and
//! unknown or malformed ids.

use crate::common;

use common::catalog::start;
use common::{content_type, header};
use paperboy_core::PaperId;
use reqwest::StatusCode;

#[tokio::test]
async fn paper_page_shows_everything() {
    let s = start(30).await;
    let body = s.text("/papers/2603.00101", StatusCode::OK).await;
    assert!(body.contains("<h1>Sparse Mixture of Experts for Vision</h1>"));
    assert!(body.contains("Grace Hopper, Edsger Dijkstra, Barbara Liskov, Donald Knuth, Frances Allen"));
    assert!(body.contains("The end of a long abstract."), "full abstract");
    assert!(body.contains(&format!(r#"<link rel="canonical" href="{}/papers/2603.00101">"#, s.base)));
    assert!(body.contains(r#"<meta name="description" content="Long words here."#));
    assert!(body.contains(r#"<a href="/papers/date/2026-03-12">12 March 2026</a>"#));
    assert!(body.contains(r#"<a class="button" href="https://arxiv.org/abs/2603.00101">arXiv</a>"#));
    assert!(body.contains(r#"<a class="button" href="https://arxiv.org/pdf/2603.00101">PDF</a>"#));
    assert!(body.contains(r#"<a class="button" href="https://github.com/example/moe">Code</a>"#));
    assert!(body.contains(r#"<a class="button" href="https://moe.example.org/">Project page</a>"#));
    assert!(body.contains(r#"<a href="https://doi.org/10.1000/xyz123">10.1000/xyz123</a>"#));
    assert!(body.contains("Journal of Tests 1 (2026) 1-12"));
    assert!(body.contains("12 pages, 4 figures"));
    assert!(body.contains("10 March 2026"), "submitted");
    assert!(body.contains("11 March 2026"), "updated");
    assert!(body.contains("(v2)"));
    assert!(body.contains(r#"<a class="chip" href="/papers/date/2026-03-12?cat=cs.LG">cs.LG</a>"#));

    let withdrawn = s.text("/papers/2603.00093", StatusCode::OK).await;
    assert!(withdrawn.contains("<h1>A Withdrawn Result</h1>"), "the badge stays out of the heading");
    assert!(withdrawn.contains("The authors have withdrawn this paper."));
    assert!(withdrawn.contains(r#"<span class="badge withdrawn">withdrawn</span>"#));
    let normal = s.text("/papers/2603.00090", StatusCode::OK).await;
    assert!(!normal.contains("badge withdrawn"));
}

#[tokio::test]
async fn old_style_and_local_ids_have_pages() {
    let s = start(30).await;
    let old = s.text("/papers/hep-th/9901001", StatusCode::OK).await;
    assert!(old.contains("<h1>Old-Style Strings and Branes</h1>"));
    assert!(old.contains(r#"href="https://arxiv.org/abs/hep-th/9901001""#));
    // From the day page, the old-style id links with its slash.
    let day = s.text("/papers/date/2026-03-09", StatusCode::OK).await;
    assert!(day.contains(r#"<a class="paper-title" href="/papers/hep-th/9901001">Old-Style Strings and Branes</a>"#));

    let local = PaperId::local_from_title("A Pasted Paper Without an arXiv Id");
    let body = s.text(&format!("/papers/{local}"), StatusCode::OK).await;
    assert!(body.contains("<h1>A Pasted Paper Without an arXiv Id</h1>"));
    assert!(!body.contains("arxiv.org/abs/pb-"), "no arXiv links for local papers");
    assert!(day.contains(&format!(r#"href="/papers/{local}""#)));
}

#[tokio::test]
async fn other_spellings_of_an_id_redirect_to_the_canonical_page() {
    let s = start(30).await;
    for (path, to) in [
        ("/papers/2603.00101v2", "/papers/2603.00101"),
        ("/papers/hep-th/9901001v3", "/papers/hep-th/9901001"),
        ("/papers/arXiv:2603.00101", "/papers/2603.00101"),
    ] {
        let r = s.get(path).await;
        assert!(r.status() == StatusCode::PERMANENT_REDIRECT, "{path}: {}", r.status());
        assert_eq!(header(&r, "location"), to, "{path}");
    }
}

#[tokio::test]
async fn unknown_and_malformed_ids() {
    let s = start(30).await;
    let r = s.get("/papers/2312.99999").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(content_type(&r), "text/html; charset=utf-8");
    let body = r.text().await.unwrap();
    assert!(body.contains("We don&#39;t have 2312.99999 yet") || body.contains("We don't have 2312.99999 yet"));
    assert!(body.contains(r#"href="https://arxiv.org/abs/2312.99999""#));

    let bad = s.text("/papers/not-an-id", StatusCode::BAD_REQUEST).await;
    assert!(bad.contains("is not an arXiv identifier"));
    let bad_local = s.text("/papers/pb-xyz", StatusCode::BAD_REQUEST).await;
    assert!(bad_local.contains("is not a paper id"));
    // Invalid UTF-8 in the path is a 400 page too, not a plain-text error.
    let r = s.get("/papers/%FF").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(content_type(&r), "text/html; charset=utf-8");

    let missing = s.text("/no/such/page", StatusCode::NOT_FOUND).await;
    assert!(missing.contains("There is no page at /no/such/page"));
    assert!(missing.contains("Page not found"));
}
