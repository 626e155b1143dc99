//! Feed pages (`src/pages/feed.rs`) over real HTTP: the latest day, day,
//! week and month pages, pagination, the category filter, malformed periods
//! and the latest-period shortcuts.

use crate::common;

use common::catalog::start;
use common::{content_type, header};
use reqwest::StatusCode;

#[tokio::test]
async fn root_and_papers_show_the_latest_day() {
    let s = start(30).await;
    for path in ["/", "/papers"] {
        let r = s.get(path).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(content_type(&r), "text/html; charset=utf-8");
        let body = r.text().await.unwrap();
        assert!(body.contains("Thursday, 12 March 2026"), "{path}");
        assert!(body.contains("Diffusion Transformers at Scale"));
        assert!(body.contains("Quantum Error Correction with Neural Decoders"));
        assert!(!body.contains("Mamba Meets Attention"), "11 March is not shown");
        assert!(body.contains("<strong class=\"count\">5</strong> papers"));
        assert!(body.contains("Trending research papers"));
        // Previous day with papers, no next day.
        assert!(body.contains("href=\"/papers/date/2026-03-11\""));
        assert!(body.contains("<span class=\"next disabled\">"));
        // The latest view's feeds follow the latest day.
        assert!(body.contains(
            r#"type="application/atom+xml" title="Thursday, 12 March 2026 · Paperboy (Atom)" href="/feed.atom""#
        ));
        assert!(body.contains(
            r#"type="application/rss+xml" title="Thursday, 12 March 2026 · Paperboy (RSS)" href="/feed.rss""#
        ));
    }
}

#[tokio::test]
async fn day_page_lists_its_papers_and_skips_empty_days() {
    let s = start(30).await;
    let body = s.text("/papers/date/2026-03-11", StatusCode::OK).await;
    assert!(body.contains("<h1>Wednesday, 11 March 2026</h1>"));
    for t in ["Mamba Meets Attention", "Scaling Laws for Robots", "Graph Neural Operators"] {
        assert!(body.contains(t), "{t}");
    }
    assert!(!body.contains("Diffusion Transformers"));
    // 10 March is empty: "previous" skips to 9 March.
    assert!(body.contains(r#"<a class="prev" href="/papers/date/2026-03-09""#));
    assert!(body.contains(r#"<a class="next" href="/papers/date/2026-03-12""#));
    // Tabs switch to the week and month of this day.
    assert!(body.contains(r#"href="/papers/week/2026-W11">Week</a>"#));
    assert!(body.contains(r#"href="/papers/month/2026-03">Month</a>"#));
    assert!(body.contains(r#"aria-current="page">Day</a>"#));
    // The withdrawn paper carries its badge; ranks and links are there.
    assert!(body.contains(r#"A Withdrawn Result</a> <span class="badge withdrawn">withdrawn</span>"#));
    assert!(body.contains(r#"<a href="https://arxiv.org/abs/2603.00090">arXiv</a>"#));
    assert!(body.contains(r#"<a href="https://arxiv.org/pdf/2603.00090">PDF</a>"#));
    assert!(body.contains(r#"<ol class="papers" start="1">"#));
    assert!(body.contains(r#"<li class="paper" data-paper-id="2603.00090">"#));
    assert!(body.contains(r#"<a class="paper-title" href="/papers/2603.00090">Mamba Meets Attention</a>"#));
    // An empty day still renders, with its count.
    let empty = s.text("/papers/date/2026-03-10", StatusCode::OK).await;
    assert!(empty.contains("No papers this day."));
    assert!(empty.contains(r#"href="/papers/date/2026-03-09""#));
}

#[tokio::test]
async fn list_items_trim_abstracts_and_shorten_author_lists() {
    let s = start(30).await;
    let body = s.text("/papers/date/2026-03-12", StatusCode::OK).await;
    assert!(body.contains("Grace Hopper, Edsger Dijkstra, Barbara Liskov, et al."));
    assert!(!body.contains("Frances Allen"), "only the first authors in lists");
    assert!(body.contains("…"), "the long abstract is trimmed");
    assert!(!body.contains("The end of a long abstract."));
    assert!(body.contains(r#"<a href="https://github.com/example/moe">Code</a>"#));
    // Category chips filter the same day.
    assert!(body.contains(r#"<a class="chip" href="/papers/date/2026-03-12?cat=cs.LG">cs.LG</a>"#));
    // A javascript: "code link" is never rendered as a link.
    assert!(!body.contains("javascript:"));
}

#[tokio::test]
async fn week_and_month_pages() {
    let s = start(30).await;
    let week = s.text("/papers/week/2026-W11", StatusCode::OK).await;
    assert!(week.contains("Week 11, 2026 (9 Mar – 15 Mar)"));
    assert!(week.contains("<strong class=\"count\">12</strong> papers"));
    for t in ["Old-Style Strings and Branes", "Mamba Meets Attention", "Diffusion Transformers at Scale"] {
        assert!(week.contains(t), "{t}");
    }
    assert!(!week.contains("Last Week Paper on Vision"));
    assert!(week.contains(r#"<a class="prev" href="/papers/week/2026-W10""#));
    assert!(week.contains(r#"<a class="next" href="/papers/week/2026-W12""#));
    assert!(week.contains(r#"href="/papers/date/2026-03-09">Day</a>"#), "day tab: the week's Monday");
    assert!(week.contains(r#"aria-current="page">Week</a>"#));
    assert!(week.contains(r#"href="/papers/week/2026-W11/feed.atom""#));

    let month = s.text("/papers/month/2026-03", StatusCode::OK).await;
    assert!(month.contains("<h1>March 2026</h1>"));
    assert!(month.contains("<strong class=\"count\">13</strong> papers"));
    assert!(month.contains("Last Week Paper on Vision"));
    assert!(!month.contains("February Highlights"));
    assert!(month.contains(r#"<a class="prev" href="/papers/month/2026-02""#));
    assert!(month.contains(r#"<a class="next" href="/papers/month/2026-04""#));
    let feb = s.text("/papers/month/2026-02", StatusCode::OK).await;
    assert!(feb.contains("February Highlights") && feb.contains("Another February Paper"));
    // Lower-case week spelling is accepted.
    s.text("/papers/week/2026-w10", StatusCode::OK).await;
}

#[tokio::test]
async fn pagination_with_a_small_page_size() {
    let s = start(3).await;
    let first = s.text("/papers/week/2026-W11", StatusCode::OK).await;
    assert!(first.contains("Page 1 of 4"));
    assert!(first.contains(r#"<a class="next" rel="next" href="/papers/week/2026-W11?p=1">"#));
    assert!(!first.contains("rel=\"prev\""));
    assert_eq!(first.matches("data-paper-id=").count(), 3);

    let second = s.text("/papers/week/2026-W11?p=1", StatusCode::OK).await;
    assert!(second.contains("Page 2 of 4"));
    assert!(second.contains(r#"<ol class="papers" start="4">"#));
    assert!(second.contains(r#"rel="prev" href="/papers/week/2026-W11""#));
    assert!(second.contains(r#"rel="next" href="/papers/week/2026-W11?p=2""#));

    let last = s.text("/papers/week/2026-W11?p=3", StatusCode::OK).await;
    assert!(last.contains("Page 4 of 4"));
    assert!(!last.contains("rel=\"next\""));

    // Past the end: an empty list and a way back, not an error.
    let beyond = s.text("/papers/week/2026-W11?p=99", StatusCode::OK).await;
    assert!(beyond.contains("There is no page 100 here"));
    assert!(beyond.contains(r#"<a href="/papers/week/2026-W11">← Back to the first page</a>"#));
    assert_eq!(beyond.matches("data-paper-id=").count(), 0);

    for bad in ["?p=abc", "?p=-1", "?p=1.5", "?p=99999999999"] {
        let body = s.text(&format!("/papers/week/2026-W11{bad}"), StatusCode::BAD_REQUEST).await;
        assert!(body.contains("is not a page number"), "{bad}");
    }
}

#[tokio::test]
async fn category_filter_is_kept_in_links() {
    let s = start(30).await;
    let body = s.text("/papers/date/2026-03-12?cat=cs.CV", StatusCode::OK).await;
    assert!(body.contains("Sparse Mixture of Experts for Vision"));
    assert!(body.contains("Diffusion Transformers at Scale"));
    assert!(!body.contains("Retrieval-Augmented Agents"));
    assert!(body.contains("<strong class=\"count\">2</strong> papers"));
    assert!(body.contains(r#"<span class="chip current">cs.CV</span>"#));
    assert!(body.contains(r#"href="/papers/date/2026-03-11?cat=cs.CV""#), "prev keeps cat");
    assert!(body.contains(r#"href="/papers/week/2026-W11?cat=cs.CV">Week</a>"#), "tabs keep cat");
    assert!(body.contains(r#"href="/papers/date/2026-03-12/feed.atom?cat=cs.CV""#), "feeds keep cat");
    assert!(body.contains(r#"<a href="/papers/date/2026-03-12">all categories</a>"#));

    // A cross-list counts, and an archive filters all its categories.
    let lg = s.text("/papers/date/2026-03-12?cat=cs.LG", StatusCode::OK).await;
    assert!(lg.contains("<strong class=\"count\">2</strong> papers"));
    let cs = s.text("/papers/date/2026-03-12?cat=cs", StatusCode::OK).await;
    assert!(cs.contains("<strong class=\"count\">5</strong> papers"));

    let paged = start(1).await;
    let p = paged.text("/papers/date/2026-03-12?cat=cs.CV", StatusCode::OK).await;
    assert!(p.contains(r#"href="/papers/date/2026-03-12?cat=cs.CV&amp;p=1""#));

    let bad = s.text("/papers/date/2026-03-12?cat=%3Cb%3E", StatusCode::BAD_REQUEST).await;
    assert!(bad.contains("is not a category"));
    assert!(!bad.contains("<b>"));
    s.text("/papers/date/2026-03-12?sort=new", StatusCode::OK).await;
    let sort = s.text("/papers/date/2026-03-12?sort=hot", StatusCode::BAD_REQUEST).await;
    assert!(sort.contains("unknown sort"));
    let twice = s.text("/papers/date/2026-03-12?cat=cs&cat=math", StatusCode::BAD_REQUEST).await;
    assert!(twice.contains("more than once"));
}

#[tokio::test]
async fn malformed_periods_are_400_pages_with_the_reason() {
    let s = start(30).await;
    for (path, needle) in [
        ("/papers/date/2026-02-30", "is not a date"),
        ("/papers/date/yesterday", "YYYY-MM-DD"),
        ("/papers/week/2026-W54", "is not a week"),
        ("/papers/month/2026-13", "is not a month"),
        ("/papers/week/2026-W11/feed.atom?cat=%25", "is not a category"),
    ] {
        let r = s.get(path).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(content_type(&r), "text/html; charset=utf-8");
        let body = r.text().await.unwrap();
        assert!(body.contains(needle), "{path}: {needle}");
        assert!(body.contains("<meta name=\"robots\" content=\"noindex\">"));
    }
}

#[tokio::test]
async fn latest_period_shortcuts_redirect() {
    let s = start(30).await;
    for (path, to) in [
        ("/papers/date", "/papers/date/2026-03-12"),
        ("/papers/week", "/papers/week/2026-W11"),
        ("/papers/month?cat=cs.CV", "/papers/month/2026-03?cat=cs.CV"),
    ] {
        let r = s.get(path).await;
        assert_eq!(r.status(), StatusCode::TEMPORARY_REDIRECT, "{path}");
        assert_eq!(header(&r, "location"), to);
    }
}
