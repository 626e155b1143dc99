//! Search over real HTTP: the router served on `127.0.0.1:0` over a SQLite
//! catalog and a real keyword-only `SearchEngine` (no model) in a temporary
//! directory, both holding the same hand-made papers, exercised with
//! reqwest: the search page, field syntax, direct ids, hostile queries, the
//! JSON search and similar-papers endpoints, similar papers on paper pages,
//! the search feed, the semantic-off notice and a server without search.

use crate::common;

use paperboy_web::params::percent_encode;
use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::NaiveDate;
use common::{Launch, Server, header};
use paperboy_core::{Paper, PaperId};
use paperboy_search::SearchEngine;
use paperboy_store::Catalog;
use reqwest::StatusCode;
use serde_json::Value;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn paper(id: &str, title: &str, abs: &str, authors: &[&str], cats: &[&str], listed: &str) -> Paper {
    let mut p = Paper::new(PaperId::parse(id).unwrap(), title, day(listed));
    p.abstract_text = abs.to_string();
    p.authors = authors.iter().map(|a| a.to_string()).collect();
    p.categories = cats.iter().map(|c| c.to_string()).collect();
    p.version = Some(1);
    p.normalize();
    p
}

/// Eight papers about sequence models, diffusion and strings (one with
/// an old-style id, one with a hostile title) and 25 about graph
/// colouring, enough for two pages of results.
fn catalog() -> Vec<Paper> {
    let mut papers = vec![
        paper(
            "2312.00752",
            "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
            "Foundation models are almost universally based on the Transformer architecture. We propose selective state space models for sequence modeling.",
            &["Albert Gu", "Tri Dao"],
            &["cs.LG", "cs.AI"],
            "2026-03-12",
        ),
        paper(
            "2205.14135",
            "FlashAttention: Fast and Memory-Efficient Exact Attention",
            "Transformers are slow and memory-hungry on long sequences. We propose an IO-aware exact attention algorithm for sequence modeling.",
            &["Tri Dao", "Daniel Y. Fu", "Stefano Ermon"],
            &["cs.LG"],
            "2026-03-11",
        ),
        paper(
            "1706.03762",
            "Attention Is All You Need",
            "The dominant sequence transduction models are based on recurrent networks. We propose the Transformer, based solely on attention.",
            &["Ashish Vaswani", "Noam Shazeer"],
            &["cs.CL", "cs.LG"],
            "2026-03-10",
        ),
        paper(
            "2006.11239",
            "Denoising Diffusion Probabilistic Models",
            "We present high quality image synthesis results using diffusion probabilistic models.",
            &["Jonathan Ho", "Pieter Abbeel"],
            &["cs.LG", "stat.ML"],
            "2026-03-09",
        ),
        paper(
            "2603.00102",
            "Diffusion Transformers at Scale",
            "We scale diffusion models with transformer backbones for image generation.",
            &["William Peebles"],
            &["cs.CV"],
            "2026-03-12",
        ),
        paper(
            "2602.00110",
            "A Survey of Diffusion Models in Vision",
            "This survey reviews diffusion models for image generation and editing.",
            &["Florinel Croitoru"],
            &["cs.CV"],
            "2026-02-20",
        ),
        paper(
            "hep-th/9901001",
            "Strings and Branes in Old Dimensions",
            "We study strings and branes in compact dimensions and their dualities.",
            &["Edward Witten"],
            &["hep-th"],
            "2026-03-09",
        ),
        paper(
            "2603.00103",
            "<script>alert(1)</script> Diffusion & \"quotes\"",
            "A hostile title about diffusion <b>bold</b>.",
            &["Mallory <b>Bold</b>"],
            &["cs.CR"],
            "2026-03-11",
        ),
    ];
    for i in 0..25u32 {
        papers.push(paper(
            &format!("2601.{:05}", i + 1),
            &format!("Graph Colouring Heuristic Number {i}"),
            "We colour graphs with a new heuristic.",
            &["Grace Hopper"],
            &["cs.DS"],
            &format!("2026-01-{:02}", i + 1),
        ));
    }
    papers
}

/// The search API, for the tests here.
trait SearchIds {
    /// The ids of `/api/papers/search?{query}`, in order.
    async fn search_ids(&self, query: &str) -> Vec<String>;
}

impl SearchIds for Server {
    async fn search_ids(&self, query: &str) -> Vec<String> {
        let v = self.json(&format!("/api/papers/search?{query}"), StatusCode::OK).await;
        v.as_array().unwrap().iter().map(|i| i["paper"]["id"].as_str().unwrap().to_string()).collect()
    }
}

/// A server over the catalog; with a keyword-only engine holding the same
/// papers when `with_search`.
async fn start(with_search: bool) -> Server {
    let (dir, store) = common::sqlite().await;
    let papers = catalog();
    store.upsert_papers(&papers).await.unwrap();
    let engine = if with_search {
        let engine = SearchEngine::open(&dir.path().join("index"), None).unwrap();
        engine.index_papers(&papers).unwrap();
        Some(Arc::new(engine))
    } else {
        None
    };
    Launch::bind().await.search(engine).keep(dir).serve(store)
}

/// The `<li>` of each result, in order.
fn result_items(body: &str) -> Vec<&str> {
    body.split("<li class=\"paper result\"").skip(1).map(|s| &s[..s.find("</li>").unwrap_or(s.len())]).collect()
}

/// The paper ids on a results page, in order.
fn result_ids(body: &str) -> Vec<String> {
    result_items(body)
        .iter()
        .map(|li| {
            let start = li.find("data-paper-id=\"").unwrap() + "data-paper-id=\"".len();
            li[start..start + li[start..].find('"').unwrap()].to_string()
        })
        .collect()
}

// -------------------------------------------------------------- page ---

#[tokio::test]
async fn search_page_shows_highlighted_matches() {
    let s = start(true).await;
    let body = s.text("/search?q=diffusion&mode=keyword", StatusCode::OK).await;
    let ids: BTreeSet<String> = result_ids(&body).into_iter().collect();
    let expected: BTreeSet<String> =
        ["2006.11239", "2603.00102", "2602.00110", "2603.00103"].iter().map(|s| s.to_string()).collect();
    assert_eq!(ids, expected);
    assert!(body.contains("<mark>Diffusion</mark> Transformers at Scale"), "highlighted title");
    assert!(body.contains("<mark>diffusion</mark>"), "highlighted abstract");
    assert!(body.contains("William Peebles"), "authors");
    assert!(body.contains("12 March 2026"), "date");
    assert!(body.contains(r#"href="/papers/2603.00102""#), "link to the paper page");
    assert!(body.contains("arxiv.org/pdf/2603.00102"), "PDF link");
    assert!(body.contains(r#"<strong class="count">4</strong> results"#), "count");
    // The form keeps the search.
    assert!(body.contains(r#"name="q" value="diffusion""#));
    assert!(body.contains(r#"<option value="keyword" selected>"#));
    // Category chips narrow the same search.
    assert!(body.contains(r#"href="/search?q=diffusion&amp;mode=keyword&amp;cat=cs.CV""#));
    // The hostile title is escaped, with its match marked.
    assert!(!body.contains("<script>alert(1)</script>"));
    assert!(body.contains("&lt;script&gt;alert(1)&lt;/script&gt; <mark>Diffusion</mark> &amp; &quot;quotes&quot;"));
    assert!(!body.contains("<b>Bold</b>"));
    // Result pages are not for crawlers.
    assert!(body.contains(r#"<meta name="robots" content="noindex">"#));
}

#[tokio::test]
async fn filters_in_the_form_narrow_results() {
    let s = start(true).await;
    let body = s.text("/search?q=diffusion&mode=keyword&cat=cs.CV", StatusCode::OK).await;
    let ids: BTreeSet<String> = result_ids(&body).into_iter().collect();
    assert_eq!(ids, ["2602.00110", "2603.00102"].iter().map(|s| s.to_string()).collect());
    assert!(body.contains(r#"name="cat" value="cs.CV""#), "category pre-filled");
    let body = s.text("/search?q=diffusion&mode=keyword&since=2026-03-10&until=2026-03-12", StatusCode::OK).await;
    let ids = result_ids(&body);
    // The two matches listed in the range come first, and nothing outside
    // the range is listed (see `words_with_filters_need_a_match` for the rest).
    let top: BTreeSet<&str> = ids.iter().take(2).map(String::as_str).collect();
    assert_eq!(top, BTreeSet::from(["2603.00102", "2603.00103"]));
    for outside in ["2006.11239", "2602.00110", "hep-th/9901001", "2601.00001"] {
        assert!(!ids.iter().any(|id| id == outside), "{outside} is outside the range");
    }
    assert!(body.contains(r#"name="since" value="2026-03-10""#) && body.contains(r#"name="until" value="2026-03-12""#));
    // A whole archive.
    let body = s.text("/search?q=diffusion&cat=stat.*", StatusCode::OK).await;
    assert_eq!(result_ids(&body), ["2006.11239"]);
    let cs = s.search_ids("q=diffusion&cat=cs").await;
    let top: BTreeSet<&str> = cs.iter().take(4).map(String::as_str).collect();
    assert_eq!(top, BTreeSet::from(["2006.11239", "2602.00110", "2603.00102", "2603.00103"]));
    assert!(!cs.contains(&"hep-th/9901001".to_string()));
}

/// With a category or date filter, plain words must still match: `diffusion`
/// with `since`/`until` must not list Mamba.
#[tokio::test]
async fn words_with_filters_need_a_match() {
    let s = start(true).await;
    let ranged: BTreeSet<String> =
        s.search_ids("q=diffusion&since=2026-03-10&until=2026-03-12").await.into_iter().collect();
    assert_eq!(ranged, BTreeSet::from(["2603.00102".to_string(), "2603.00103".to_string()]));
    let in_query: BTreeSet<String> =
        s.search_ids(&format!("q={}", percent_encode("attention cat:cs.CL"))).await.into_iter().collect();
    assert_eq!(in_query, BTreeSet::from(["1706.03762".to_string()]));
    let r = s.get("/api/papers/search?q=graphs&cat=cs.LG").await;
    assert_eq!(header(&r, "x-total-count"), "0");
}

#[tokio::test]
async fn field_syntax_works_on_the_page_and_in_the_api() {
    let s = start(true).await;
    let body = s.text(&format!("/search?q={}", percent_encode("au:\"Tri Dao\"")), StatusCode::OK).await;
    let ids: BTreeSet<String> = result_ids(&body).into_iter().collect();
    assert_eq!(ids, ["2205.14135", "2312.00752"].iter().map(|s| s.to_string()).collect());
    let api: BTreeSet<String> =
        s.search_ids(&format!("q={}", percent_encode("au:\"Tri Dao\""))).await.into_iter().collect();
    assert_eq!(api, ids);

    let cv: BTreeSet<String> =
        s.search_ids(&format!("q={}", percent_encode("diffusion cat:cs.CV"))).await.into_iter().collect();
    assert_eq!(cv, ["2602.00110", "2603.00102"].iter().map(|s| s.to_string()).collect());
    let body = s.text(&format!("/search?q={}", percent_encode("diffusion cat:stat.ML")), StatusCode::OK).await;
    assert_eq!(result_ids(&body), ["2006.11239"]);
    let title_only = s.search_ids(&format!("q={}", percent_encode("ti:sequence"))).await;
    assert_eq!(title_only, ["2312.00752"], "ti: looks at titles only");
}

#[tokio::test]
async fn minus_term_excludes() {
    let s = start(true).await;
    let all = s.search_ids("q=diffusion").await;
    assert!(all.contains(&"2602.00110".to_string()));
    let without = s.search_ids(&format!("q={}", percent_encode("diffusion -survey"))).await;
    assert!(!without.contains(&"2602.00110".to_string()), "{without:?}");
    assert!(without.contains(&"2603.00102".to_string()));
    let body = s.text(&format!("/search?q={}", percent_encode("diffusion -survey")), StatusCode::OK).await;
    assert!(!body.contains("A Survey of"));
    assert!(body.contains("Transformers at Scale"));
}

#[tokio::test]
async fn arxiv_ids_redirect_to_the_paper() {
    let s = start(true).await;
    for q in ["2312.00752", "2312.00752v2", "https://arxiv.org/abs/2312.00752", "hep-th/9901001"] {
        let r = s.get(&format!("/search?q={}", percent_encode(q))).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{q}");
        let expected = if q.starts_with("hep") { "/papers/hep-th/9901001" } else { "/papers/2312.00752" };
        assert_eq!(header(&r, "location"), expected, "{q}");
    }
    // An id we do not have: the page says so.
    let body = s.text("/search?q=2401.99999", StatusCode::OK).await;
    assert!(body.contains("We don't have <code>2401.99999</code> yet"));
    assert!(body.contains("https://arxiv.org/abs/2401.99999"));
}

#[tokio::test]
async fn empty_queries_show_the_syntax() {
    let s = start(true).await;
    for path in ["/search", "/search?q=", "/search?q=+++", "/search?q=%00%07"] {
        let body = s.text(path, StatusCode::OK).await;
        assert!(body.contains("How to search"), "{path}");
        for example in ["&quot;state space model&quot;", "ti:mamba", "au:&quot;Tri Dao&quot;", "cat:cs.CV", "-survey"] {
            assert!(body.contains(example), "{path}: {example}");
        }
        assert!(body.contains("since:2026-01-01") && body.contains("year:2025"));
        assert!(result_items(&body).is_empty());
    }
}

#[tokio::test]
async fn hostile_queries_never_fail() {
    let s = start(true).await;
    let long = format!("{} \"unbalanced {} au:\" ti: -", "diffusion ".repeat(600), "x".repeat(4000));
    assert!(long.len() >= 10_000);
    let queries = [
        long.as_str(),
        "\u{0}\u{7}",
        "diffusion\u{0}\u{7}models",
        "\"unbalanced quote",
        "au:\"Tri",
        "ti: abs: au: cat: -",
        "(((( ]] {{ * ? ~ ^ \\ / :",
        "cat:\u{0}",
        "since:2026-99-99 year:abcd",
        "<script>alert(1)</script>",
        "-\"\"",
        "\u{202e}\u{fffd}\u{1f600}",
    ];
    for q in queries {
        let e = percent_encode(q);
        let page = s.get(&format!("/search?q={e}")).await;
        assert_eq!(page.status(), StatusCode::OK, "page {:?}", &q[..q.len().min(40)]);
        let body = page.text().await.unwrap();
        assert!(!body.contains("<script>alert"), "echoed query is escaped");
        assert!(!body.contains('\u{0}') && !body.contains('\u{7}'), "control characters are not echoed");
        for path in [format!("/api/papers/search?q={e}"), format!("/search/feed.atom?q={e}")] {
            let r = s.get(&path).await;
            let status = r.status();
            assert!(
                status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
                "{status} for {:?}",
                &path[..60.min(path.len())]
            );
        }
    }
    // The long query is echoed cut to the engine's limit, not in full.
    let body = s.text(&format!("/search?q={}", percent_encode(&long)), StatusCode::OK).await;
    assert!(body.contains("diffusion diffusion"));
    assert!(!body.contains("unbalanced") && !body.contains("xxxxxxxx"));
}

#[tokio::test]
async fn bad_parameters_are_400_pages() {
    let s = start(true).await;
    for (path, message) in [
        ("/search?q=x&mode=fuzzy", "is not a search mode: use keyword, semantic or hybrid"),
        ("/search?q=x&since=2026-02-30", "is not a date: use YYYY-MM-DD"),
        ("/search?q=x&until=yesterday", "is not a date"),
        ("/search?q=x&since=2026-03-02&until=2026-03-01", "is after until"),
        ("/search?q=x&p=abc", "is not a page number"),
        ("/search?q=x&p=-1", "is not a page number"),
        ("/search?q=x&cat=%3Cb%3E", "is not a category"),
        ("/search?q=x&q=y", "more than once"),
        ("/search/feed.atom?q=x&mode=nope", "is not a search mode"),
        ("/search/feed.atom", "q is required"),
    ] {
        let r = s.get(path).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(header(&r, "content-type"), "text/html; charset=utf-8");
        let body = r.text().await.unwrap();
        assert!(body.contains(message), "{path}: {message}");
    }
}

#[tokio::test]
async fn results_are_paginated() {
    let s = start(true).await;
    let first = s.text("/search?q=graphs&mode=keyword", StatusCode::OK).await;
    assert_eq!(result_ids(&first).len(), 20);
    assert!(first.contains(r#"<strong class="count">25</strong> results"#));
    assert!(first.contains("Page 1 of 2"));
    assert!(first.contains(r#"href="/search?q=graphs&amp;mode=keyword&amp;p=1""#), "next page link");
    let second = s.text("/search?q=graphs&mode=keyword&p=1", StatusCode::OK).await;
    assert_eq!(result_ids(&second).len(), 5);
    assert!(second.contains(r#"<ol class="papers results" start="21">"#));
    assert!(second.contains("Page 2 of 2") && second.contains(r#"rel="prev""#));
    let mut all = result_ids(&first);
    all.extend(result_ids(&second));
    let distinct: BTreeSet<&String> = all.iter().collect();
    assert_eq!(distinct.len(), 25, "pages do not overlap");
    let past = s.text("/search?q=graphs&mode=keyword&p=7", StatusCode::OK).await;
    assert!(past.contains("There is no page 8 here"));
}

#[tokio::test]
async fn semantic_search_without_a_model_says_so() {
    let s = start(true).await;
    let notice = "Semantic search is off: run <code>paperboy model fetch</code>, then restart <code>paperboy serve</code>; results below are keyword matches.";
    let body = s.text("/search?q=diffusion&mode=semantic", StatusCode::OK).await;
    assert!(body.contains(notice));
    assert_eq!(result_ids(&body).len(), 4, "keyword matches are shown");
    assert!(body.contains("keyword search"));
    let keyword = s.text("/search?q=diffusion&mode=keyword", StatusCode::OK).await;
    assert!(!keyword.contains("Semantic search is off"));
    let r = s.get("/api/papers/search?q=diffusion&mode=semantic").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "x-search-mode"), "keyword");
}

#[tokio::test]
async fn papers_missing_from_the_store_are_skipped() {
    let s = start(true).await;
    let ghost = paper("2603.09999", "Phantom Zebra Paper", "Only in the index.", &["Nobody"], &["cs.LG"], "2026-03-12");
    s.search.as_ref().unwrap().index_papers(&[ghost]).unwrap();
    let body = s.text("/search?q=zebra", StatusCode::OK).await;
    assert!(result_ids(&body).is_empty());
    assert!(!body.contains("Phantom"));
    assert!(s.search_ids("q=zebra").await.is_empty());
}

#[tokio::test]
async fn every_page_has_a_search_box() {
    let s = start(true).await;
    for (path, status) in [
        ("/", StatusCode::OK),
        ("/papers/2312.00752", StatusCode::OK),
        ("/search?q=mamba", StatusCode::OK),
        ("/papers/date/2026-03-12", StatusCode::OK),
        ("/nowhere", StatusCode::NOT_FOUND),
    ] {
        let body = s.text(path, status).await;
        let header_html = &body[body.find("<header").unwrap()..body.find("</header>").unwrap()];
        assert!(
            header_html.contains(r#"<form class="site-search" role="search" action="/search" method="get">"#),
            "{path}"
        );
        assert!(header_html.contains(r#"<label class="sr-only" for="site-q">Search papers</label>"#), "{path}");
        assert!(header_html.contains(r#"id="site-q" type="search" name="q""#), "{path}");
    }
    let body = s.text("/search?q=mamba", StatusCode::OK).await;
    assert!(body.contains(r#"id="site-q" type="search" name="q" value="mamba""#), "the header box keeps the query");
}

// --------------------------------------------------------------- API ---

#[tokio::test]
async fn api_search_has_hugging_face_shapes_and_headers() {
    let s = start(true).await;
    let r = s.get("/api/papers/search?q=diffusion&cat=cs.CV&mode=keyword").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "content-type"), "application/json");
    assert_eq!(header(&r, "x-total-count"), "2");
    assert_eq!(header(&r, "x-search-mode"), "keyword");
    let items: Value = r.json().await.unwrap();
    let items = items.as_array().unwrap();
    assert_eq!(items.len(), 2);
    for item in items {
        let keys: BTreeSet<&str> = item.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["paper", "title", "summary", "publishedAt", "highlights", "score"]));
        let id = item["paper"]["id"].as_str().unwrap();
        let same = s.json(&format!("/api/papers/{id}"), StatusCode::OK).await;
        assert_eq!(item["paper"], same, "the paper object of /api/papers/{id}");
        assert_eq!(item["title"], same["title"]);
        assert_eq!(item["summary"], same["summary"]);
        assert_eq!(item["publishedAt"], same["publishedAt"]);
        assert!(item["score"].as_f64().unwrap() > 0.0);
        let title_html = item["highlights"]["titleHtml"].as_str().unwrap();
        assert!(title_html.contains("<mark>Diffusion</mark>"), "{title_html}");
        assert!(item["highlights"]["summaryHtml"].as_str().unwrap().contains("<mark>diffusion</mark>"));
    }
    // Limit and pages.
    let r = s.get("/api/papers/search?q=graphs&limit=10&p=2").await;
    assert_eq!(header(&r, "x-total-count"), "25");
    let page: Value = r.json().await.unwrap();
    assert_eq!(page.as_array().unwrap().len(), 5);
    assert_eq!(s.search_ids("q=graphs&limit=1").await.len(), 1);
}

#[tokio::test]
async fn api_search_validates_its_parameters() {
    let s = start(true).await;
    for (path, message) in [
        ("/api/papers/search", "q is required"),
        ("/api/papers/search?q=", "q is required"),
        ("/api/papers/search?q=%20%00", "q is required"),
        ("/api/papers/search?q=x&limit=0", "use a number from 1 to 100"),
        ("/api/papers/search?q=x&limit=101", "use a number from 1 to 100"),
        ("/api/papers/search?q=x&limit=ten", "use a number from 1 to 100"),
        ("/api/papers/search?q=x&mode=magic", "is not a search mode"),
        ("/api/papers/search?q=x&since=2026-1-1", "is not a date"),
        ("/api/papers/search?q=x&p=x", "is not a page number"),
    ] {
        let v = s.json(path, StatusCode::BAD_REQUEST).await;
        assert!(v["error"].as_str().unwrap().contains(message), "{path}: {v}");
    }
    assert_eq!(s.search_ids("q=graphs&limit=100").await.len(), 25);
}

#[tokio::test]
async fn similar_papers_in_the_api() {
    let s = start(true).await;
    let v = s.json("/api/papers/2312.00752/similar", StatusCode::OK).await;
    let ids: Vec<&str> = v.as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert!(!ids.is_empty());
    assert!(!ids.contains(&"2312.00752"), "not itself");
    assert!(ids.contains(&"2205.14135"), "shares sequence modeling: {ids:?}");
    assert!(v[0]["title"].is_string() && v[0]["authors"].is_array() && v[0]["listedOn"].is_string());
    let one = s.json("/api/papers/2312.00752/similar?limit=1", StatusCode::OK).await;
    assert_eq!(one.as_array().unwrap().len(), 1);
    // Other spellings of the id work too.
    let again = s.json("/api/papers/2312.00752v1/similar", StatusCode::OK).await;
    assert_eq!(again, v);
    // Old-style ids keep their slash.
    let old = s.json("/api/papers/hep-th/9901001/similar", StatusCode::OK).await;
    assert!(old.is_array());
    assert!(old.as_array().unwrap().iter().all(|p| p["id"] != "hep-th/9901001"));
    // The paper itself is still there.
    let paper = s.json("/api/papers/hep-th/9901001", StatusCode::OK).await;
    assert_eq!(paper["id"], "hep-th/9901001");
    // Errors.
    let v = s.json("/api/papers/2401.99999/similar", StatusCode::NOT_FOUND).await;
    assert!(v["error"].as_str().unwrap().contains("2401.99999"));
    s.json("/api/papers/not-an-id/similar", StatusCode::BAD_REQUEST).await;
    let v = s.json("/api/papers/2312.00752/similar?limit=0", StatusCode::BAD_REQUEST).await;
    assert!(v["error"].as_str().unwrap().contains("1 to 100"));
}

// ------------------------------------------------------- paper pages ---

#[tokio::test]
async fn paper_pages_list_similar_papers() {
    let s = start(true).await;
    let body = s.text("/papers/2312.00752", StatusCode::OK).await;
    assert!(body.contains("Similar papers"));
    let section = &body[body.find("class=\"similar\"").unwrap()..];
    assert!(section.contains(r#"href="/papers/2205.14135""#), "FlashAttention is similar to Mamba");
    assert!(!section.contains(r#"href="/papers/2312.00752""#), "not itself");
    assert!(section.matches("<li ").count() <= 6);
    let old = s.text("/papers/hep-th/9901001", StatusCode::OK).await;
    assert!(old.contains("Strings and Branes"));
}

// -------------------------------------------------------------- feed ---

/// The titles and `published` values of the entries of an Atom feed,
/// checking it is well-formed with an Atom root.
fn atom_entries(xml: &str) -> Vec<(String, String)> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut path: Vec<String> = Vec::new();
    let mut entries = Vec::new();
    let mut root = None;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                if path.is_empty() {
                    let ns = e.try_get_attribute("xmlns").unwrap().unwrap();
                    assert_eq!(ns.unescape_value().unwrap(), "http://www.w3.org/2005/Atom");
                    root = Some(name.clone());
                }
                if name == "entry" {
                    entries.push((String::new(), String::new()));
                }
                path.push(name);
            }
            Event::End(_) => {
                path.pop().expect("balanced tags");
            }
            Event::Text(t) => {
                let text = t.unescape().expect("known entities").into_owned();
                if path.len() == 3 && path[1] == "entry" {
                    let last = entries.last_mut().unwrap();
                    match path[2].as_str() {
                        "title" => last.0 = text,
                        "published" => last.1 = text,
                        _ => {}
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(path.is_empty(), "unclosed elements");
    assert_eq!(root.as_deref(), Some("feed"));
    entries
}

#[tokio::test]
async fn search_feed_is_valid_atom_with_the_newest_matches() {
    let s = start(true).await;
    let page = s.text("/search?q=diffusion&cat=cs.CV", StatusCode::OK).await;
    let head = &page[..page.find("</head>").unwrap()];
    assert!(head.contains(
        r#"<link rel="alternate" type="application/atom+xml" title="Search: diffusion · Paperboy (Atom)" href="/search/feed.atom?q=diffusion&amp;cat=cs.CV">"#
    ));
    assert!(page.contains(
        r#"<a class="follow" href="/search/feed.atom?q=diffusion&amp;cat=cs.CV">Follow this search (Atom)</a>"#
    ));

    let r = s.get("/search/feed.atom?q=diffusion").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "content-type"), "application/atom+xml; charset=utf-8");
    let xml = r.text().await.unwrap();
    let entries = atom_entries(&xml);
    assert_eq!(entries.len(), 4);
    assert!(entries.iter().all(|(title, _)| title.to_lowercase().contains("diffusion")), "{entries:?}");
    let published: Vec<&str> = entries.iter().map(|(_, p)| p.as_str()).collect();
    let mut sorted = published.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(published, sorted, "newest first");
    assert!(xml.contains(&format!("{}/search/feed.atom?q=diffusion", s.base)), "self link");

    let cv = atom_entries(&s.text("/search/feed.atom?q=diffusion&cat=cs.CV&mode=keyword", StatusCode::OK).await);
    assert_eq!(
        cv.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
        ["Diffusion Transformers at Scale", "A Survey of Diffusion Models in Vision"]
    );
    // At most 50 entries, all matching.
    let graphs = atom_entries(&s.text("/search/feed.atom?q=graphs", StatusCode::OK).await);
    assert_eq!(graphs.len(), 25);
    assert_eq!(graphs[0].0, "Graph Colouring Heuristic Number 24", "the newest first");
}

// ------------------------------------------------------------- cache ---

#[tokio::test]
async fn searches_follow_imports() {
    let s = start(true).await;
    let engine = s.search.clone().unwrap();
    // An index that records the store's position, so searches are cached.
    engine.index_papers_at(s.store.last_change_seq().await.unwrap(), &[]).unwrap();
    assert!(s.search_ids("q=zebra").await.is_empty());
    assert!(result_ids(&s.text("/search?q=zebra", StatusCode::OK).await).is_empty());
    // An import: the store first, then the index catches up.
    let zebra = paper("2603.05555", "Zebra Stripes as Features", "Zebras.", &["Ann Author"], &["cs.CV"], "2026-03-12");
    s.store.upsert_papers(std::slice::from_ref(&zebra)).await.unwrap();
    assert!(s.search_ids("q=zebra").await.is_empty(), "the index has not caught up yet");
    engine.index_papers_at(s.store.last_change_seq().await.unwrap(), &[zebra]).unwrap();
    assert_eq!(s.search_ids("q=zebra").await, ["2603.05555"]);
    assert_eq!(result_ids(&s.text("/search?q=zebra", StatusCode::OK).await), ["2603.05555"]);
    // A different query string is a different search.
    assert_eq!(s.search_ids("q=zebra&limit=1").await, ["2603.05555"]);
    assert!(!s.search_ids("q=zebra&cat=cs.LG").await.contains(&"2603.05555".to_string()));
}

// --------------------------------------------------- without search ---

#[tokio::test]
async fn without_a_search_engine_the_site_still_works() {
    let s = start(false).await;
    let body = s.text("/search?q=diffusion", StatusCode::OK).await;
    assert!(body.contains("Search is not set up"));
    assert!(body.contains(r#"name="q" value="diffusion""#));
    assert!(result_items(&body).is_empty());
    assert!(s.text("/search", StatusCode::OK).await.contains("How to search"));
    // Ids still lead to papers.
    let r = s.get("/search?q=2312.00752").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(header(&r, "location"), "/papers/2312.00752");
    // The API and the feed say search is off.
    for path in ["/api/papers/search?q=diffusion", "/api/papers/2312.00752/similar"] {
        let v = s.json(path, StatusCode::SERVICE_UNAVAILABLE).await;
        assert!(v["error"].as_str().unwrap().contains("Search is not set up"), "{path}");
    }
    let r = s.get("/search/feed.atom?q=diffusion").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    // Bad parameters are still 400s, and unknown papers 404s.
    s.json("/api/papers/search?q=x&limit=0", StatusCode::BAD_REQUEST).await;
    s.json("/api/papers/2401.99999", StatusCode::NOT_FOUND).await;
    // Paper pages leave out similar papers.
    let page = s.text("/papers/2312.00752", StatusCode::OK).await;
    assert!(page.contains("Mamba"));
    assert!(!page.contains("Similar papers"));
}

#[tokio::test]
async fn openapi_describes_search() {
    let s = start(true).await;
    let doc = s.json("/api/openapi.json", StatusCode::OK).await;
    let search = &doc["paths"]["/api/papers/search"]["get"];
    let names: BTreeSet<&str> =
        search["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, BTreeSet::from(["q", "limit", "mode", "cat", "since", "until", "has_code", "p"]));
    assert!(search["responses"]["200"]["headers"]["X-Search-Mode"].is_object());
    assert!(doc["paths"]["/api/papers/{id}/similar"]["get"]["responses"]["404"].is_object());
    assert!(doc["components"]["schemas"]["SearchItem"].is_object());
}
