//! Atom and RSS feeds (`src/feeds.rs`) over real HTTP: every view's feeds
//! are valid and complete, and every feed page announces its feeds.

use crate::common;

use std::collections::BTreeSet;

use common::catalog::start;
use common::content_type;
use common::xml::{check_atom, check_rss, parse_xml};
use paperboy_core::PaperId;
use reqwest::StatusCode;

#[tokio::test]
async fn atom_feeds_are_valid_for_every_view() {
    let s = start(30).await;
    for (path, entries) in [
        ("/papers/date/2026-03-12/feed.atom", 5),
        ("/papers/week/2026-W11/feed.atom", 12),
        ("/papers/month/2026-03/feed.atom", 13),
        ("/papers/month/2026-03/feed.atom?cat=cs.CV", 5),
        ("/feed.atom", 5),
        ("/feed.atom?cat=cs.CL", 2),
    ] {
        let r = s.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(content_type(&r), "application/atom+xml; charset=utf-8");
        let feed = check_atom(&r.text().await.unwrap(), &s.base, path);
        assert_eq!(feed.all("entry").len(), entries, "{path}");
    }
    let day = s.text("/papers/date/2026-03-12/feed.atom", StatusCode::OK).await;
    let feed = parse_xml(&day);
    let moe =
        feed.all("entry").into_iter().find(|e| e.one("title").text == "Sparse Mixture of Experts for Vision").unwrap();
    assert_eq!(moe.one("id").text, "https://arxiv.org/abs/2603.00101");
    assert_eq!(moe.all("author").len(), 5);
    assert_eq!(moe.one("updated").text, "2026-03-12T00:00:00Z");
    assert_eq!(moe.one("published").text, "2026-03-10T12:00:00Z");
    assert!(moe.one("summary").text.ends_with("The end of a long abstract."));
    let cats: Vec<_> = moe.all("category").iter().map(|c| c.attr("term").unwrap().to_string()).collect();
    assert_eq!(cats, ["cs.CV", "cs.LG"]);
}

#[tokio::test]
async fn rss_feeds_are_valid_for_every_view() {
    let s = start(30).await;
    for (path, items) in [
        ("/papers/date/2026-03-11/feed.rss", 5),
        ("/papers/week/2026-W11/feed.rss?cat=cs.CV", 4),
        ("/papers/month/2026-02/feed.rss", 2),
        ("/feed.rss", 5),
    ] {
        let r = s.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(content_type(&r), "application/rss+xml; charset=utf-8");
        let rss = check_rss(&r.text().await.unwrap(), &s.base, path);
        assert_eq!(rss.one("channel").all("item").len(), items, "{path}");
    }
    // Old-style and local papers get working permalinks.
    let mar9 = s.text("/papers/date/2026-03-09/feed.rss", StatusCode::OK).await;
    let rss = parse_xml(&mar9);
    let links: BTreeSet<String> = rss.one("channel").all("item").iter().map(|i| i.one("link").text.clone()).collect();
    assert!(links.contains(&format!("{}/papers/hep-th/9901001", s.base)));
    let local = PaperId::local_from_title("A Pasted Paper Without an arXiv Id");
    assert!(links.contains(&format!("{}/papers/{local}", s.base)));
}

#[tokio::test]
async fn every_feed_page_announces_its_feeds() {
    let s = start(30).await;
    for (page, atom, rss) in [
        ("/papers/date/2026-03-11", "/papers/date/2026-03-11/feed.atom", "/papers/date/2026-03-11/feed.rss"),
        (
            "/papers/week/2026-W11?cat=cs.LG",
            "/papers/week/2026-W11/feed.atom?cat=cs.LG",
            "/papers/week/2026-W11/feed.rss?cat=cs.LG",
        ),
        ("/papers/month/2026-03", "/papers/month/2026-03/feed.atom", "/papers/month/2026-03/feed.rss"),
    ] {
        let body = s.text(page, StatusCode::OK).await;
        let head = &body[..body.find("</head>").unwrap()];
        assert!(
            head.contains(&format!(r#"href="{atom}""#)) && head.contains(r#"type="application/atom+xml""#),
            "{page}"
        );
        assert!(head.contains(&format!(r#"href="{rss}""#)) && head.contains(r#"type="application/rss+xml""#), "{page}");
        // The announced feeds exist.
        s.text(atom, StatusCode::OK).await;
        s.text(rss, StatusCode::OK).await;
    }
}
