//! The web layer over real HTTP: the router served on `127.0.0.1:0` over a
//! SQLite catalog in a temporary directory, seeded with hand-made papers
//! (an old-style id, a local `pb-` id, a hostile title), and exercised with
//! reqwest: pages, redirects, errors, feeds, the JSON API and headers.

use crate::common;

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use common::{Launch, Server, content_type, header};
use paperboy_core::{ApiTokenId, CommentId, Email, Role, UserId, Username};
use paperboy_core::{Paper, PaperId};
use paperboy_store::{
    Accounts, ApiToken, Audience, Catalog, Change, Comment, Community, EmailPurpose, FeedPage, FeedQuery, MemberPapers,
    Moderation, NewSession, NewUser, Profile, ReadingListEntry, Secret, Session, StoreError, StoredPaper, Submission,
    UpsertOutcome, User, Vote,
};
use paperboy_web::WebConfig;
use reqwest::StatusCode;
use serde_json::Value;

const HOSTILE: &str = "<script>alert(1)</script> & \"quotes\"";
const HOSTILE_HTML: &str = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;";
const RAW_SCRIPT: &str = "<script>alert(1)</script>";

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn paper(id: &str, title: &str, listed: &str, cats: &[&str]) -> Paper {
    let id = if id == "local" { PaperId::local_from_title(title) } else { PaperId::parse(id).unwrap() };
    let mut p = Paper::new(id, title, day(listed));
    p.authors = vec!["Ada Lovelace".into(), "Alan Turing".into()];
    p.abstract_text = format!("We study {title}. Our results are good.");
    p.categories = cats.iter().map(|c| c.to_string()).collect();
    p.version = Some(1);
    p.normalize();
    p
}

/// Fifteen papers: five on Thu 12 March 2026, five on Wed 11 March, two on
/// Mon 9 March (all ISO week 11), one on Mon 2 March (week 10), two in
/// February.
fn catalog() -> Vec<Paper> {
    let mut moe = paper("2603.00101", "Sparse Mixture of Experts for Vision", "2026-03-12", &["cs.CV", "cs.LG"]);
    moe.authors = ["Grace Hopper", "Edsger Dijkstra", "Barbara Liskov", "Donald Knuth", "Frances Allen"]
        .map(String::from)
        .to_vec();
    moe.abstract_text = format!("{} The end of a long abstract.", "Long words here. ".repeat(40));
    moe.links.code = Some("https://github.com/example/moe".into());
    moe.links.project = Some("https://moe.example.org/".into());
    moe.doi = Some("10.1000/xyz123".into());
    moe.journal_ref = Some("Journal of Tests 1 (2026) 1-12".into());
    moe.comment = Some("12 pages, 4 figures".into());
    moe.version = Some(2);
    moe.submitted_at = Some(ts("2026-03-10T12:00:00Z"));
    moe.updated_at = Some(ts("2026-03-11T08:30:00Z"));

    let mut withdrawn = paper("2603.00093", "A Withdrawn Result", "2026-03-11", &["cs.CV"]);
    withdrawn.comment = Some("This paper has been withdrawn by the authors".into());
    withdrawn.normalize();

    let mut evil = paper("2603.00103", HOSTILE, "2026-03-12", &["cs.CL"]);
    evil.authors = vec!["Mallory <b>Bold</b>".into()];
    evil.links.code = Some("javascript:alert(2)".into());

    vec![
        moe,
        paper("2603.00102", "Diffusion Transformers at Scale", "2026-03-12", &["cs.CV"]),
        evil,
        paper("2603.00104", "Retrieval-Augmented Agents", "2026-03-12", &["cs.CL", "cs.AI"]),
        paper("2603.00105", "Quantum Error Correction with Neural Decoders", "2026-03-12", &["quant-ph", "cs.LG"]),
        paper("2603.00090", "Mamba Meets Attention", "2026-03-11", &["cs.LG"]),
        paper("2603.00091", "Scaling Laws for Robots", "2026-03-11", &["cs.RO"]),
        paper("2603.00092", "Graph Neural Operators", "2026-03-11", &["cs.LG", "math.NA"]),
        withdrawn,
        paper("2603.00094", "Vision Language Pretraining Revisited", "2026-03-11", &["cs.CV"]),
        paper("hep-th/9901001", "Old-Style Strings and Branes", "2026-03-09", &["hep-th"]),
        paper("local", "A Pasted Paper Without an arXiv Id", "2026-03-09", &["cs.DL"]),
        paper("2603.00010", "Last Week Paper on Vision", "2026-03-02", &["cs.CV"]),
        paper("2602.00500", "February Highlights", "2026-02-25", &["cs.CV"]),
        paper("2602.00501", "Another February Paper", "2026-02-25", &["cs.AI"]),
    ]
}

async fn start(page_size: u32) -> Server {
    let (dir, store) = common::sqlite().await;
    store.upsert_papers(&catalog()).await.unwrap();
    Launch::bind().await.config(WebConfig { page_size, ..WebConfig::default() }).keep(dir).serve(store)
}

async fn start_empty() -> Server {
    let (dir, store) = common::sqlite().await;
    Launch::bind().await.keep(dir).serve(store)
}

// ---------------------------------------------------------------- XML ---

/// A parsed XML element: enough of a DOM to check feeds.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    fn all(&self, name: &str) -> Vec<&Node> {
        self.children.iter().filter(|c| c.name == name).collect()
    }
    fn one(&self, name: &str) -> &Node {
        let found = self.all(name);
        assert_eq!(found.len(), 1, "exactly one <{name}> in <{}>", self.name);
        found[0]
    }
}

/// Parses `xml` strictly (balanced, matching tags, known entities, one
/// root) into a [`Node`] tree.
fn parse_xml(xml: &str) -> Node {
    use quick_xml::events::{BytesStart, Event};
    fn node(e: &BytesStart<'_>) -> Node {
        Node {
            name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
            attrs: e
                .attributes()
                .map(|a| {
                    let a = a.expect("well-formed attribute");
                    (
                        String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                        a.unescape_value().expect("known entities").into_owned(),
                    )
                })
                .collect(),
            ..Node::default()
        }
    }
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<Node> = vec![Node::default()];
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => stack.push(node(&e)),
            Event::Empty(e) => {
                let n = node(&e);
                stack.last_mut().unwrap().children.push(n);
            }
            Event::End(_) => {
                let done = stack.pop().unwrap();
                stack.last_mut().expect("balanced tags").children.push(done);
            }
            Event::Text(t) => {
                let text = t.unescape().expect("known entities");
                stack.last_mut().unwrap().text.push_str(&text);
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) | Event::CData(_) => {}
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements");
    let mut doc = stack.pop().unwrap();
    assert_eq!(doc.children.len(), 1, "one root element");
    doc.children.pop().unwrap()
}

// --------------------------------------------------------------- pages ---

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

#[tokio::test]
async fn other_methods_are_405() {
    let s = start(30).await;
    let r = s.client.post(format!("{}/", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(header(&r, "allow").contains("GET"));
    assert_eq!(content_type(&r), "text/html; charset=utf-8");
    let r = s.client.delete(format!("{}/api/daily_papers", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(content_type(&r), "application/json");
    let v: Value = r.json().await.unwrap();
    assert!(v["error"].as_str().unwrap().contains("not allowed"));
    // HEAD works wherever GET does.
    let r = s.client.head(format!("{}/papers/2603.00101", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

// --------------------------------------------------------------- feeds ---

fn check_atom(xml: &str, base: &str, self_path: &str) -> Node {
    let feed = parse_xml(xml);
    assert_eq!(feed.name, "feed");
    assert_eq!(feed.attr("xmlns"), Some("http://www.w3.org/2005/Atom"));
    assert!(!feed.one("id").text.is_empty());
    assert!(feed.one("title").text.starts_with("Paperboy: "));
    DateTime::parse_from_rfc3339(&feed.one("updated").text).expect("feed updated is RFC 3339");
    let links = feed.all("link");
    let me = links.iter().find(|l| l.attr("rel") == Some("self")).expect("rel=self");
    assert_eq!(me.attr("href").unwrap(), format!("{base}{self_path}"));
    assert!(!feed.one("author").one("name").text.is_empty());
    for entry in feed.all("entry") {
        assert!(!entry.one("id").text.is_empty());
        assert!(!entry.one("title").text.is_empty());
        DateTime::parse_from_rfc3339(&entry.one("updated").text).expect("entry updated");
        let alt = entry.all("link").into_iter().find(|l| l.attr("rel") == Some("alternate")).expect("rel=alternate");
        assert!(alt.attr("href").unwrap().starts_with(&format!("{base}/papers/")));
        assert!(!entry.all("author").is_empty());
        for a in entry.all("author") {
            assert!(!a.one("name").text.is_empty());
        }
        entry.one("summary");
    }
    feed
}

fn check_rss(xml: &str, base: &str, self_path: &str) -> Node {
    let rss = parse_xml(xml);
    assert_eq!(rss.name, "rss");
    assert_eq!(rss.attr("version"), Some("2.0"));
    let channel = rss.one("channel");
    assert!(channel.one("title").text.starts_with("Paperboy: "));
    assert!(channel.one("link").text.starts_with(base));
    assert!(!channel.one("description").text.is_empty());
    let me = channel.one("atom:link");
    assert_eq!(me.attr("rel"), Some("self"));
    assert_eq!(me.attr("href").unwrap(), format!("{base}{self_path}"));
    for item in channel.all("item") {
        assert!(!item.one("title").text.is_empty());
        let link = &item.one("link").text;
        assert!(link.starts_with(&format!("{base}/papers/")));
        let guid = item.one("guid");
        assert_eq!(guid.attr("isPermaLink"), Some("true"));
        assert_eq!(&guid.text, link);
        item.one("description");
        DateTime::parse_from_rfc2822(&item.one("pubDate").text).expect("pubDate is RFC 2822");
    }
    rss
}

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

// ----------------------------------------------------------------- API ---

const ITEM_KEYS: &[&str] =
    &["paper", "title", "summary", "publishedAt", "submittedOnDailyAt", "numComments", "thumbnail", "upvotes"];
const PAPER_KEYS: &[&str] = &[
    "id",
    "title",
    "summary",
    "authors",
    "publishedAt",
    "updatedAt",
    "listedOn",
    "upvotes",
    "submittedBy",
    "categories",
    "primaryCategory",
    "version",
    "comment",
    "journalRef",
    "doi",
    "githubRepo",
    "projectPage",
    "withdrawn",
    "arxivUrl",
    "pdfUrl",
];

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn daily_papers_has_hugging_face_shapes() {
    let s = start(30).await;
    let r = s.get("/api/daily_papers?date=2026-03-12").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "x-total-count"), "5");
    let v: Value = r.json().await.unwrap();
    let items = v.as_array().unwrap();
    assert_eq!(items.len(), 5);
    for item in items {
        assert_eq!(keys(item), set(ITEM_KEYS));
        assert_eq!(keys(&item["paper"]), set(PAPER_KEYS));
        assert_eq!(item["numComments"], 0);
        assert!(item["thumbnail"].is_null());
        assert_eq!(item["title"], item["paper"]["title"]);
        assert_eq!(item["submittedOnDailyAt"], "2026-03-12T00:00:00.000Z");
    }
    let moe = items.iter().find(|i| i["paper"]["id"] == "2603.00101").unwrap();
    let p = &moe["paper"];
    assert_eq!(p["authors"][0], serde_json::json!({ "name": "Grace Hopper" }));
    assert_eq!(p["authors"].as_array().unwrap().len(), 5);
    assert_eq!(p["publishedAt"], "2026-03-10T12:00:00.000Z");
    assert_eq!(moe["publishedAt"], "2026-03-10T12:00:00.000Z");
    assert_eq!(p["updatedAt"], "2026-03-11T08:30:00.000Z");
    assert_eq!(p["listedOn"], "2026-03-12");
    assert_eq!(p["categories"], serde_json::json!(["cs.CV", "cs.LG"]));
    assert_eq!(p["primaryCategory"], "cs.CV");
    assert_eq!(p["version"], 2);
    assert_eq!(p["githubRepo"], "https://github.com/example/moe");
    assert_eq!(p["projectPage"], "https://moe.example.org/");
    assert_eq!(p["doi"], "10.1000/xyz123");
    assert_eq!(p["journalRef"], "Journal of Tests 1 (2026) 1-12");
    assert_eq!(p["comment"], "12 pages, 4 figures");
    assert_eq!(p["withdrawn"], false);
    assert_eq!(p["upvotes"], 0);
    assert_eq!(p["arxivUrl"], "https://arxiv.org/abs/2603.00101");
    assert_eq!(p["pdfUrl"], "https://arxiv.org/pdf/2603.00101");
    // Newest first, then by id descending.
    assert_eq!(items[0]["paper"]["id"], "2603.00105");

    // No period: the latest day.
    let latest = s.json("/api/daily_papers", StatusCode::OK).await;
    assert_eq!(latest.as_array().unwrap().len(), 5);
    let week = s.json("/api/daily_papers?week=2026-W11&limit=100", StatusCode::OK).await;
    assert_eq!(week.as_array().unwrap().len(), 12);
    let month = s.json("/api/daily_papers?month=2026-02", StatusCode::OK).await;
    assert_eq!(month.as_array().unwrap().len(), 2);
    let cat = s.json("/api/daily_papers?month=2026-03&cat=cs.CV", StatusCode::OK).await;
    assert_eq!(cat.as_array().unwrap().len(), 5);
    s.json("/api/daily_papers?sort=new", StatusCode::OK).await;
}

#[tokio::test]
async fn daily_papers_paginates_in_headers() {
    let s = start(30).await;
    let r = s.get("/api/daily_papers?week=2026-W11&limit=5&cat=cs").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "x-total-count"), "11");
    let link = header(&r, "link");
    let b = &s.base;
    assert!(link.contains(&format!("<{b}/api/daily_papers?week=2026-W11&cat=cs&p=1&limit=5>; rel=\"next\"")), "{link}");
    assert!(!link.contains("rel=\"prev\""));
    assert!(link.contains("&p=2&limit=5>; rel=\"last\""), "{link}");
    let page: Value = r.json().await.unwrap();
    assert_eq!(page.as_array().unwrap().len(), 5);

    let r = s.get("/api/daily_papers?week=2026-W11&limit=5&cat=cs&p=1").await;
    let link = header(&r, "link");
    assert!(link.contains("&p=0&limit=5>; rel=\"prev\""), "{link}");
    assert!(link.contains("&p=2&limit=5>; rel=\"next\""), "{link}");
    let second: Value = r.json().await.unwrap();
    assert_ne!(second[0]["paper"]["id"], page[0]["paper"]["id"]);

    // Past the end: an empty array, still with the total.
    let r = s.get("/api/daily_papers?date=2026-03-12&p=7").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "x-total-count"), "5");
    assert_eq!(r.json::<Value>().await.unwrap(), serde_json::json!([]));

    // Without a period the links pin the resolved day.
    let r = s.get("/api/daily_papers?limit=2").await;
    assert!(header(&r, "link").contains("?date=2026-03-12&p=1&limit=2>; rel=\"next\""));
}

#[tokio::test]
async fn api_errors_are_json() {
    let s = start(30).await;
    for (path, needle) in [
        ("/api/daily_papers?limit=0", "from 1 to 100"),
        ("/api/daily_papers?limit=101", "from 1 to 100"),
        ("/api/daily_papers?limit=ten", "from 1 to 100"),
        ("/api/daily_papers?p=x", "not a page number"),
        ("/api/daily_papers?date=2026-03-12&week=2026-W11", "at most one"),
        ("/api/daily_papers?date=12/03/2026", "is not a date"),
        ("/api/daily_papers?week=2026-W99", "is not a week"),
        ("/api/daily_papers?month=2026-3", "is not a month"),
        ("/api/daily_papers?sort=hot", "unknown sort"),
        ("/api/daily_papers?cat=a%20b", "is not a category"),
        ("/api/papers/hello", "is not an arXiv identifier"),
        ("/api/papers/%FF%FE", ""),
    ] {
        let v = s.json(path, StatusCode::BAD_REQUEST).await;
        let msg = v["error"].as_str().unwrap_or_else(|| panic!("{path}: {v}"));
        assert!(msg.contains(needle), "{path}: {msg}");
        assert_eq!(keys(&v), set(&["error"]));
    }
    let v = s.json("/api/papers/2312.99999", StatusCode::NOT_FOUND).await;
    assert_eq!(v["error"], "We don't have 2312.99999 yet");
    let v = s.json("/api/nothing/here", StatusCode::NOT_FOUND).await;
    assert!(v["error"].as_str().unwrap().contains("/api/nothing/here"));
}

#[tokio::test]
async fn api_paper_by_id() {
    let s = start(30).await;
    let v = s.json("/api/papers/hep-th/9901001", StatusCode::OK).await;
    assert_eq!(keys(&v), set(PAPER_KEYS));
    assert_eq!(v["id"], "hep-th/9901001");
    assert_eq!(v["title"], "Old-Style Strings and Branes");
    assert_eq!(v["arxivUrl"], "https://arxiv.org/abs/hep-th/9901001");
    let v = s.json("/api/papers/2603.00101v2", StatusCode::OK).await;
    assert_eq!(v["id"], "2603.00101");
    let local = PaperId::local_from_title("A Pasted Paper Without an arXiv Id");
    let v = s.json(&format!("/api/papers/{local}"), StatusCode::OK).await;
    assert_eq!(v["id"], local.to_string());
    assert!(v["arxivUrl"].is_null() && v["pdfUrl"].is_null());
    let v = s.json("/api/papers/2603.00093", StatusCode::OK).await;
    assert_eq!(v["withdrawn"], true);
}

#[tokio::test]
async fn openapi_document_describes_the_api() {
    let s = start(30).await;
    let doc = s.json("/api/openapi.json", StatusCode::OK).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(doc["servers"][0]["url"], s.base.as_str());
    let paths = keys(&doc["paths"]);
    for p in ["/api/daily_papers", "/api/papers/{id}", "/api/openapi.json"] {
        assert!(paths.contains(p), "{p}");
    }
    let params: BTreeSet<String> = doc["paths"]["/api/daily_papers"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(params, set(&["date", "week", "month", "cat", "sort", "p", "limit"]));
    // The documented schemas match what the server sends.
    let schemas = &doc["components"]["schemas"];
    let paper_props = keys(&schemas["Paper"]["properties"]);
    assert_eq!(paper_props, set(PAPER_KEYS));
    assert_eq!(keys(&schemas["DailyPaper"]["properties"]), set(ITEM_KEYS));
    assert!(schemas["Error"]["properties"]["error"].is_object());
}

// ------------------------------------------------------------ security ---

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
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
            "{path}"
        );
        assert_eq!(header(&r, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header(&r, "referrer-policy"), "strict-origin-when-cross-origin", "{path}");
    }
}

#[tokio::test]
async fn stylesheet_is_linked_and_cached() {
    let s = start(30).await;
    let body = s.text("/", StatusCode::OK).await;
    let at = body.find("/static/style.css?v=").expect("stylesheet link");
    let href: String = body[at..].chars().take_while(|c| *c != '"').collect();
    let r = s.get(&href).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(content_type(&r), "text/css; charset=utf-8");
    assert!(header(&r, "cache-control").contains("max-age=31536000"));
    assert!(r.text().await.unwrap().contains("system-ui"));
    assert!(!body.contains("<script"), "no JavaScript at all");
}

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

// ------------------------------------------------------ health & failure ---

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

/// A store whose every call fails, as a broken database would.
#[derive(Clone)]
struct BrokenStore;

fn broken() -> StoreError {
    StoreError::Corrupt { paper_id: "secret-detail".into(), why: "disk on fire".into() }
}

#[async_trait::async_trait]
impl Catalog for BrokenStore {
    async fn upsert_papers(&self, _: &[Paper]) -> Result<Vec<UpsertOutcome>, StoreError> {
        Err(broken())
    }
    async fn get_paper(&self, _: &PaperId) -> Result<Option<StoredPaper>, StoreError> {
        Err(broken())
    }
    async fn feed(&self, _: &FeedQuery) -> Result<FeedPage, StoreError> {
        Err(broken())
    }
    async fn latest_listing_date(&self) -> Result<Option<NaiveDate>, StoreError> {
        Err(broken())
    }
    async fn neighbour_dates(&self, _: NaiveDate) -> Result<(Option<NaiveDate>, Option<NaiveDate>), StoreError> {
        Err(broken())
    }
    async fn count_papers(&self) -> Result<u64, StoreError> {
        Err(broken())
    }
    async fn changes_since(&self, _: u64, _: u32) -> Result<Vec<Change>, StoreError> {
        Err(broken())
    }
    async fn last_change_seq(&self) -> Result<u64, StoreError> {
        Err(broken())
    }
}

#[async_trait::async_trait]
impl Accounts for BrokenStore {
    async fn create_user(&self, _: &NewUser) -> Result<User, StoreError> {
        Err(broken())
    }
    async fn user_by_id(&self, _: UserId) -> Result<Option<User>, StoreError> {
        Err(broken())
    }
    async fn user_by_username(&self, _: &Username) -> Result<Option<User>, StoreError> {
        Err(broken())
    }
    async fn user_by_email(&self, _: &Email) -> Result<Option<User>, StoreError> {
        Err(broken())
    }
    async fn password_hash(&self, _: UserId) -> Result<Option<String>, StoreError> {
        Err(broken())
    }
    async fn set_password(&self, _: UserId, _: &str) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn set_email(&self, _: UserId, _: &Email) -> Result<User, StoreError> {
        Err(broken())
    }
    async fn mark_email_verified(&self, _: UserId) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn create_session(&self, _: UserId, _: DateTime<Utc>) -> Result<NewSession, StoreError> {
        Err(broken())
    }
    async fn session(&self, _: &str) -> Result<Option<Session>, StoreError> {
        Err(broken())
    }
    async fn delete_session(&self, _: &str) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn delete_user_sessions(&self, _: UserId) -> Result<u64, StoreError> {
        Err(broken())
    }
    async fn purge_expired(&self) -> Result<u64, StoreError> {
        Err(broken())
    }
    async fn create_api_token(&self, _: UserId, _: &str) -> Result<(ApiToken, Secret), StoreError> {
        Err(broken())
    }
    async fn api_tokens(&self, _: UserId) -> Result<Vec<ApiToken>, StoreError> {
        Err(broken())
    }
    async fn revoke_api_token(&self, _: UserId, _: ApiTokenId) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn api_token_user(&self, _: &str) -> Result<Option<User>, StoreError> {
        Err(broken())
    }
    async fn create_email_token(&self, _: UserId, _: EmailPurpose, _: DateTime<Utc>) -> Result<Secret, StoreError> {
        Err(broken())
    }
    async fn consume_email_token(&self, _: &str, _: EmailPurpose) -> Result<User, StoreError> {
        Err(broken())
    }
}

#[async_trait::async_trait]
impl Community for BrokenStore {
    async fn toggle_vote(&self, _: UserId, _: &PaperId) -> Result<Vote, StoreError> {
        Err(broken())
    }
    async fn set_vote(&self, _: UserId, _: &PaperId, _: bool) -> Result<Vote, StoreError> {
        Err(broken())
    }
    async fn voted_among(&self, _: UserId, _: &[PaperId]) -> Result<Vec<PaperId>, StoreError> {
        Err(broken())
    }
    async fn submit_paper(&self, _: UserId, _: &Paper, _: DateTime<Utc>) -> Result<Submission, StoreError> {
        Err(broken())
    }
    async fn add_comment(&self, _: UserId, _: &PaperId, _: Option<CommentId>, _: &str) -> Result<Comment, StoreError> {
        Err(broken())
    }
    async fn edit_comment(&self, _: UserId, _: CommentId, _: &str) -> Result<Comment, StoreError> {
        Err(broken())
    }
    async fn delete_comment(&self, _: UserId, _: CommentId) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn comments(&self, _: &PaperId, _: Audience) -> Result<Vec<Comment>, StoreError> {
        Err(broken())
    }
    async fn comment_counts(&self, _: &[PaperId]) -> Result<Vec<(PaperId, u64)>, StoreError> {
        Err(broken())
    }
    async fn add_to_reading_list(&self, _: UserId, _: &PaperId) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn remove_from_reading_list(&self, _: UserId, _: &PaperId) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn reading_list(&self, _: UserId) -> Result<Vec<ReadingListEntry>, StoreError> {
        Err(broken())
    }
    async fn profile(&self, _: &Username) -> Result<Option<Profile>, StoreError> {
        Err(broken())
    }
    async fn member_papers(&self, _: UserId, _: MemberPapers, _: u32, _: u32) -> Result<FeedPage, StoreError> {
        Err(broken())
    }
}

#[async_trait::async_trait]
impl Moderation for BrokenStore {
    async fn set_role(&self, _: UserId, _: Role) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn set_suspended(&self, _: UserId, _: bool) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn set_comment_hidden(&self, _: CommentId, _: bool) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn paper_for(&self, _: &PaperId, _: Audience) -> Result<Option<StoredPaper>, StoreError> {
        Err(broken())
    }
    async fn feed_for(&self, _: &FeedQuery, _: Audience, _: DateTime<Utc>) -> Result<FeedPage, StoreError> {
        Err(broken())
    }
    async fn set_paper_hidden(&self, _: &PaperId, _: bool) -> Result<(), StoreError> {
        Err(broken())
    }
}

#[async_trait::async_trait]
impl paperboy_store::Harvests for BrokenStore {
    async fn start_harvest(
        &self,
        _: &paperboy_store::HarvestArgs,
        _: paperboy_store::HarvestTrigger,
        _: bool,
    ) -> Result<paperboy_store::HarvestRun, StoreError> {
        Err(broken())
    }
    async fn record_harvest_page(
        &self,
        _: i64,
        _: &paperboy_store::HarvestCounts,
        _: Option<&str>,
        _: Option<u64>,
    ) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn finish_harvest(&self, _: i64, _: Option<&str>) -> Result<paperboy_store::HarvestRun, StoreError> {
        Err(broken())
    }
    async fn harvest_run(&self, _: i64) -> Result<Option<paperboy_store::HarvestRun>, StoreError> {
        Err(broken())
    }
    async fn recent_harvests(&self, _: u32) -> Result<Vec<paperboy_store::HarvestRun>, StoreError> {
        Err(broken())
    }
    async fn last_completed_harvest(
        &self,
        _: &str,
        _: &str,
        _: Option<&str>,
    ) -> Result<Option<paperboy_store::HarvestRun>, StoreError> {
        Err(broken())
    }
}

#[async_trait::async_trait]
impl paperboy_store::Coordination for BrokenStore {
    async fn acquire_lease(
        &self,
        _: &str,
        _: &str,
        _: std::time::Duration,
    ) -> Result<paperboy_store::Lease, StoreError> {
        Err(broken())
    }
    async fn renew_lease(&self, _: &str, _: &str, _: std::time::Duration) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn release_lease(&self, _: &str, _: &str) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn lease(&self, _: &str) -> Result<Option<paperboy_store::Lease>, StoreError> {
        Err(broken())
    }
    async fn record_failure(&self, _: &str, _: DateTime<Utc>) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn recent_failures(&self, _: &str, _: DateTime<Utc>, _: u32) -> Result<Vec<DateTime<Utc>>, StoreError> {
        Err(broken())
    }
    async fn clear_failures(&self, _: &str) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn sweep_failures(&self, _: DateTime<Utc>) -> Result<u64, StoreError> {
        Err(broken())
    }
    async fn shared_secret(&self, _: &str, _: &str) -> Result<String, StoreError> {
        Err(broken())
    }
}

#[async_trait::async_trait]
impl paperboy_store::Mailing for BrokenStore {
    async fn subscribe(&self, _: &Email, _: Option<UserId>) -> Result<paperboy_store::Subscriber, StoreError> {
        Err(broken())
    }
    async fn subscriber(
        &self,
        _: paperboy_store::SubscriberId,
    ) -> Result<Option<paperboy_store::Subscriber>, StoreError> {
        Err(broken())
    }
    async fn subscriber_by_email(&self, _: &Email) -> Result<Option<paperboy_store::Subscriber>, StoreError> {
        Err(broken())
    }
    async fn subscriber_for_user(&self, _: UserId) -> Result<Option<paperboy_store::Subscriber>, StoreError> {
        Err(broken())
    }
    async fn confirm_subscriber(
        &self,
        _: paperboy_store::SubscriberId,
    ) -> Result<paperboy_store::Subscriber, StoreError> {
        Err(broken())
    }
    async fn unsubscribe(&self, _: paperboy_store::SubscriberId) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn update_subscription(
        &self,
        _: paperboy_store::SubscriberId,
        _: paperboy_store::Frequency,
        _: &[String],
    ) -> Result<paperboy_store::Subscriber, StoreError> {
        Err(broken())
    }
    async fn saved_searches(
        &self,
        _: paperboy_store::SubscriberId,
    ) -> Result<Vec<paperboy_store::SavedSearch>, StoreError> {
        Err(broken())
    }
    async fn add_saved_search(
        &self,
        _: paperboy_store::SubscriberId,
        _: &str,
    ) -> Result<paperboy_store::SavedSearch, StoreError> {
        Err(broken())
    }
    async fn remove_saved_search(&self, _: paperboy_store::SubscriberId, _: i64) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn digest_candidates(
        &self,
        _: paperboy_store::Frequency,
        _: paperboy_store::MailKind,
        _: &str,
        _: paperboy_store::SubscriberId,
        _: u32,
    ) -> Result<Vec<paperboy_store::Subscriber>, StoreError> {
        Err(broken())
    }
    async fn enqueue_mail(&self, _: &paperboy_store::NewMail) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn claim_mail(
        &self,
        _: &str,
        _: DateTime<Utc>,
        _: std::time::Duration,
        _: u32,
    ) -> Result<Vec<paperboy_store::OutboxMail>, StoreError> {
        Err(broken())
    }
    async fn mark_sent(&self, _: i64, _: &str, _: DateTime<Utc>) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn mark_retry(&self, _: i64, _: &str, _: DateTime<Utc>, _: &str) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn mark_failed(&self, _: i64, _: &str, _: &str, _: u32) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn outbox_counts(&self) -> Result<paperboy_store::OutboxCounts, StoreError> {
        Err(broken())
    }
    async fn next_mail_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Err(broken())
    }
}

#[tokio::test]
async fn store_failures_are_generic_500s() {
    let s = Launch::bind().await.serve(BrokenStore);
    for path in ["/", "/papers/date/2026-03-11", "/papers/2603.00101", "/feed.atom"] {
        let body = s.text(path, StatusCode::INTERNAL_SERVER_ERROR).await;
        assert!(body.contains("Something went wrong"), "{path}");
        assert!(!body.contains("secret-detail") && !body.contains("disk on fire"), "{path}");
    }
    for path in ["/api/daily_papers", "/api/papers/2603.00101"] {
        let v = s.json(path, StatusCode::INTERNAL_SERVER_ERROR).await;
        let msg = v["error"].as_str().unwrap();
        assert!(msg.contains("Something went wrong") && !msg.contains("disk"), "{path}");
    }
    // Bad input is still a 400, even with a broken store.
    s.text("/papers/date/2026-13-01", StatusCode::BAD_REQUEST).await;
    let r = s.get("/healthz").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
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
}
