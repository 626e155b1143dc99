//! The search page, `/search?q=…&mode=…&cat=…&since=…&until=…&p=…`:
//! highlighted results with pagination and upvote buttons, the filters in a
//! form that works without JavaScript, and the query syntax when there is
//! no query.
//!
//! A query that is an arXiv id of a paper we have redirects (303) to its
//! page. Without semantic search (no model or no vectors) the page says so
//! and shows keyword matches. Without a search engine at all the page says
//! search is not set up (200: the site works, this feature is off).

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, PreEscaped, html};
use paperboy_core::text::trim_to_words;
use paperboy_core::{FeedPeriod, PaperId};
use paperboy_search::{Hit, SearchMode, SearchResults};
use paperboy_services::papers::Marks;
use paperboy_store::StoredPaper;

use crate::dates::human_day;
use crate::error::{SEARCH_OFF, html_result};
use crate::links::{ViewOpts, is_web_url, paper_path, period_url};
use crate::pages::feed::{CardMarks, not_for_me_widget, short_authors, signal_line};
use crate::pages::html_response;
use crate::pages::layout::{FeedLinks, Head, Nav, page};
use crate::params::{QueryString, offset};
use crate::search::{self, MAX_DEPTH, PAGE_SIZE, SearchParams};
use crate::signals::{Explained, Ranking};
use crate::{AppState, WebSettings};

/// Length of the abstract excerpt when the engine gave no snippet.
const RESULT_ABSTRACT_CHARS: usize = 300;
/// Categories offered in the filter's suggestions.
const COMMON_CATEGORIES: &[&str] = &[
    "cs.AI",
    "cs.CL",
    "cs.CV",
    "cs.LG",
    "cs.RO",
    "cs.IR",
    "cs.CR",
    "cs.NE",
    "cs.SE",
    "cs.*",
    "stat.ML",
    "eess.IV",
    "eess.AS",
    "math.OC",
    "physics.*",
    "q-bio.*",
    "quant-ph",
    "hep-th",
];
/// The query-syntax examples: what to type, what it does.
const TIPS: &[(&str, &str)] = &[
    ("diffusion transformer", "papers with these words (the more, the better) in the title, abstract or authors"),
    ("\"state space model\"", "an exact phrase"),
    ("ti:mamba", "a word in the title only; abs: looks in the abstract"),
    ("au:\"Tri Dao\"", "papers by an author"),
    ("cat:cs.CV", "papers in a category; cat:cs.* (or cat:cs) takes a whole archive"),
    ("attention -survey", "leaves out papers with a word (or a \"phrase\", or ti:word)"),
    ("since:2026-01-01 until:2026-03-31", "listed between two days; year:2025 takes a whole year"),
    ("2312.00752", "an arXiv id or URL goes straight to the paper"),
];

/// What the page shows below the form.
enum Outcome<'a> {
    /// No query: the syntax.
    Tips,
    /// No search engine on this server.
    Off,
    /// The query is an arXiv id we do not have.
    Missing(PaperId),
    /// Results (maybe none).
    /// `marks`: which of them the logged-in member upvotes or marked "not for me".
    Results { results: &'a SearchResults, papers: &'a [(StoredPaper, Hit)], marks: &'a Marks },
}

/// `GET /search`.
pub async fn show(State(st): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let result = async {
        let params = SearchParams::parse(&QueryString::parse(raw.as_deref())?)?;
        let skip = offset(params.page, PAGE_SIZE)?;
        if params.q.is_empty() {
            return Ok(respond(&st.config, &params, Outcome::Tips));
        }
        if let Some(id) = search::direct_id(&params.q) {
            if st.store.get_paper(&id).await?.is_some() {
                return Ok(Redirect::to(&paper_path(&id)).into_response());
            }
            return Ok(respond(&st.config, &params, Outcome::Missing(id)));
        }
        let Some(engine) = &st.search else {
            return Ok(respond(&st.config, &params, Outcome::Off));
        };
        let (results, papers) =
            search::page(engine, st.store.as_ref(), &params, PAGE_SIZE as usize, skip as usize, true).await?;
        let stored: Vec<StoredPaper> = papers.iter().map(|(p, _)| p.clone()).collect();
        let marks = crate::pages::feed::marks_among(&st, &stored).await?;
        Ok(respond(&st.config, &params, Outcome::Results { results: &results, papers: &papers, marks: &marks }))
    };
    html_result(&st.config, result.await)
}

fn respond(config: &WebSettings, params: &SearchParams, outcome: Outcome<'_>) -> Response {
    html_response(StatusCode::OK, render(config, params, &outcome))
}

/// The page.
fn render(config: &WebSettings, params: &SearchParams, outcome: &Outcome<'_>) -> String {
    let searching = !params.q.is_empty();
    let title = if searching { format!("Search: {}", trim_to_words(&params.q, 80)) } else { "Search".to_string() };
    let feed_url = params.url("/search/feed.atom", 0);
    let with_feed = searching && matches!(outcome, Outcome::Results { .. });
    let body = html! {
        section.search-head {
            h1 { "Search papers" }
            (form(params))
        }
        @match outcome {
            Outcome::Tips => { (tips(false)) }
            Outcome::Off => {
                section.notice.search-off {
                    h2 { "Search is not set up" }
                    p { (SEARCH_OFF) }
                }
            }
            Outcome::Missing(id) => {
                section.empty {
                    p { "We don't have " code { (id) } " yet." }
                    @if let Some(arxiv) = id.arxiv() {
                        p {
                            "It may be on arXiv: "
                            a href=(format!("https://arxiv.org/abs/{arxiv}")) rel="nofollow" { "arxiv.org/abs/" (arxiv) }
                        }
                    }
                }
            }
            Outcome::Results { results, papers, marks } => { (results_section(params, results, papers, marks, &feed_url, &config.ranking)) }
        }
    };
    let head = Head {
        title: &title,
        description: Some("Search the papers listed on this site."),
        canonical: None,
        feeds: with_feed.then(|| FeedLinks { atom: feed_url.clone(), rss: None }),
        // Result pages are endless; keep crawlers out of them.
        noindex: true,
    };
    let nav = Nav { query: searching.then_some(params.q.as_str()), ..Nav::default() };
    page(config, &head, &nav, body)
}

/// The search form with its filters, filled in with the current search.
fn form(params: &SearchParams) -> Markup {
    let mode = params.requested_mode();
    let since = params.since.map(|d| d.to_string()).unwrap_or_default();
    let until = params.until.map(|d| d.to_string()).unwrap_or_default();
    html! {
        form.search-form role="search" action="/search" method="get" {
            div.search-row {
                label.sr-only for="search-q" { "Search for" }
                input #search-q type="search" name="q" value=(params.q)
                    placeholder="Words, \"phrases\", au:name, cat:cs.CV…" autocomplete="off";
                button type="submit" { "Search" }
            }
            div.filters {
                label {
                    span { "Mode" }
                    select name="mode" {
                        @for m in [SearchMode::Hybrid, SearchMode::Keyword, SearchMode::Semantic] {
                            option value=(m.as_str()) selected[m == mode] { (mode_label(m)) }
                        }
                    }
                }
                label {
                    span { "Category" }
                    input type="text" name="cat" value=(params.cat.as_deref().unwrap_or(""))
                        list="search-categories" placeholder="any" size="10" pattern="[A-Za-z0-9._\\-]+(\\.\\*)?";
                }
                datalist #search-categories {
                    @for c in COMMON_CATEGORIES { option value=(c) {} }
                }
                label {
                    span { "Listed since" }
                    input type="date" name="since" value=(since);
                }
                label {
                    span { "until" }
                    input type="date" name="until" value=(until);
                }
                label.check {
                    input type="checkbox" name="has_code" value="1" checked[params.has_code];
                    span { "With code" }
                }
            }
        }
    }
}

fn mode_label(m: SearchMode) -> &'static str {
    match m {
        SearchMode::Hybrid => "Hybrid (words and meaning)",
        SearchMode::Keyword => "Keyword",
        SearchMode::Semantic => "Semantic (meaning)",
    }
}

/// The query syntax; `compact` below an empty result list.
fn tips(compact: bool) -> Markup {
    html! {
        section.tips aria-labelledby="tips-heading" {
            @if compact {
                h2 #tips-heading { "Search tips" }
            } @else {
                h2 #tips-heading { "How to search" }
                p.muted { "Type words into the box. You can also use:" }
            }
            dl.syntax {
                @for (example, what) in TIPS {
                    dt { a href=(SearchParams { q: (*example).to_string(), ..SearchParams::default() }.url("/search", 0)) { code { (example) } } }
                    dd { (what) }
                }
            }
        }
    }
}

fn results_section(
    params: &SearchParams,
    results: &SearchResults,
    papers: &[(StoredPaper, Hit)],
    marks: &Marks,
    feed_url: &str,
    ranking: &Ranking,
) -> Markup {
    let now = chrono::Utc::now();
    let size = u64::from(PAGE_SIZE);
    let total = results.total_estimate as u64;
    let reachable = total.min(MAX_DEPTH as u64);
    let pages = reachable.div_ceil(size).max(1);
    let page_no = u64::from(params.page);
    let first_rank = page_no * size + 1;
    let prev_page = u32::try_from(page_no.saturating_sub(1).min(pages - 1)).unwrap_or(0);
    let exact = results.mode_used == SearchMode::Keyword;
    let semantic_off = params.requested_mode() != SearchMode::Keyword && !results.semantic_available;
    let word = if total == 1 { "result" } else { "results" };
    html! {
        @if semantic_off {
            p.notice.semantic-off role="status" {
                "Semantic search is off: run " code { "paperboy model fetch" } ", then restart " code { "paperboy serve" }
                "; results below are keyword matches."
            }
        }
        p.summary {
            @if !exact && total > 0 { "About " }
            strong.count { (total) } " " (word) " for " q.query { (params.q) }
            @if let Some(c) = &params.cat {
                " in " span.chip.current { (c) }
                " · " a href=(params.with_cat(None).url("/search", 0)) { "all categories" }
            }
            " · " span.mode { (results.mode_used.as_str()) " search" }
            " · " a.follow href=(feed_url) { "Follow this search (Atom)" }
        }
        @if papers.is_empty() {
            section.empty {
                @if total == 0 || page_no == 0 {
                    p { "No papers match " q { (params.q) } @if params.cat.is_some() || params.since.is_some() || params.until.is_some() || params.has_code { " with these filters" } "." }
                } @else if page_no >= pages {
                    p { "There is no page " (page_no + 1) " here: this search has " (pages) " page" @if pages != 1 { "s" } "." }
                    @if total > reachable {
                        p.muted { "Only the first " (MAX_DEPTH) " results can be paged through; add words or filters to narrow the search." }
                    }
                    p { a href=(params.url("/search", 0)) { "← Back to the first page" } }
                } @else {
                    p { "No papers on this page." }
                }
            }
            @if total == 0 { (tips(true)) }
        } @else {
            ol.papers.results start=(first_rank) {
                @for (i, (paper, hit)) in papers.iter().enumerate() {
                    (result_item(params, paper, hit, first_rank + i as u64, &CardMarks::of(marks, &paper.paper.id), &Explained::of(paper, ranking, now)))
                }
            }
        }
        @if pages > 1 || page_no > 0 {
            nav.pages aria-label="Pages" {
                @if page_no > 0 {
                    a.prev rel="prev" href=(params.url("/search", prev_page)) { "← Previous page" }
                }
                span.where { "Page " (page_no + 1) " of " (pages) }
                @if page_no + 1 < pages {
                    a.next rel="next" href=(params.url("/search", params.page.saturating_add(1))) { "Next page →" }
                }
            }
        }
    }
}

fn result_item(
    params: &SearchParams,
    item: &StoredPaper,
    hit: &Hit,
    rank: u64,
    marks: &CardMarks,
    signals: &Explained,
) -> Markup {
    let p = &item.paper;
    let href = paper_path(&p.id);
    let day = FeedPeriod::Day(p.listed_on);
    html! {
        li.paper.result data-paper-id=(p.id) {
            div.rank aria-hidden="true" { (rank) }
            div.votes title="Upvotes" {
                (crate::pages::feed::vote_widget(&p.id, item.upvotes, marks.voted, &params.url("/search", params.page)))
            }
            div.body {
                h2.title {
                    a.paper-title href=(href) {
                        // The engine escapes these and adds only <mark>.
                        @if let Some(h) = &hit.highlights { (PreEscaped(&h.title_html)) } @else { (p.title) }
                    }
                    @if p.withdrawn { " " span.badge.withdrawn { "withdrawn" } }
                }
                @if !p.authors.is_empty() {
                    p.authors { (short_authors(&p.authors)) }
                }
                (signal_line(signals))
                p.chips {
                    a.date href=(period_url(&day, ViewOpts::default(), 0)) {
                        time datetime=(p.listed_on.to_string()) { (human_day(p.listed_on)) }
                    }
                    @for c in &p.categories {
                        a.chip href=(params.with_cat(Some(c)).url("/search", 0)) title=(format!("Only {c} papers")) { (c) }
                    }
                }
                @match &hit.highlights {
                    Some(h) if !h.abstract_html.is_empty() => { p.abstract { (PreEscaped(&h.abstract_html)) } }
                    _ => {
                        @if !p.abstract_text.is_empty() {
                            p.abstract { (trim_to_words(&p.abstract_text, RESULT_ABSTRACT_CHARS)) }
                        }
                    }
                }
                p.links {
                    @if let Some(abs) = p.abs_url() { a href=(abs) { "arXiv" } }
                    @if let Some(pdf) = p.pdf_url() { a href=(pdf) { "PDF" } }
                    @if let Some(code) = p.links.code.as_deref().filter(|u| is_web_url(u)) { a href=(code) { "Code" } }
                    @if let PaperId::Local(_) = p.id { span.muted { "not on arXiv" } }
                }
                (not_for_me_widget(&p.id, marks.not_for_me, &params.url("/search", params.page)))
            }
        }
    }
}
