//! Feed pages: the papers of a day, an ISO week or a month, with category
//! filter, a Trending / New / Top menu (trending when the URL names no
//! order), pagination and links to the neighbouring periods. `/` shows the
//! latest day that has papers. Each item has its upvote button (a form for
//! members, showing whether they upvoted; a link to the login page for
//! visitors) and its submitter, when a member submitted it; a member also
//! sees a "not for me" button on every card (an "undo" once pressed), which
//! takes the paper out of their For-you list (`pages/for_you.rs`).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Datelike;
use maud::{Markup, html};
use paperboy_core::text::trim_to_words;
use paperboy_core::{FeedPeriod, FeedSort, PaperId};
use paperboy_services::papers::{self, Marks, Slice};
use paperboy_store::{FeedPage, StoredPaper};

use crate::auth::current_viewer;
use crate::error::{WebError, html_result};
use crate::links::{ViewOpts, is_web_url, paper_path, period_url, root_url};
use crate::pages::html_response;
use crate::pages::layout::{FeedLinks, Head, Nav, page};
use crate::params::{QueryString, offset, percent_encode};
use crate::signals::{Explained, grouped, has_code};
use crate::{AppState, WebSettings};

/// Authors shown in a list item before "et al.".
const LIST_AUTHORS: usize = 3;
/// Length of the abstract excerpt in a list item.
const LIST_ABSTRACT_CHARS: usize = 300;
/// Years a period link may point to (what `FeedPeriod::parse_*` accepts).
const YEARS: std::ops::RangeInclusive<i32> = 1990..=9999;

/// The options of a feed view, read from the query string.
#[derive(Debug)]
pub struct ViewParams {
    pub cat: Option<String>,
    pub sort: paperboy_core::FeedSort,
    /// Only papers with a code repository (`?has_code=1`).
    pub has_code: bool,
    pub page: u32,
}

impl ViewParams {
    pub fn parse(raw: Option<&str>) -> Result<Self, WebError> {
        let q = QueryString::parse(raw)?;
        Ok(ViewParams {
            cat: q.category()?,
            sort: q.sort_or(crate::links::DEFAULT_SORT)?,
            has_code: has_code(&q)?,
            page: q.page()?,
        })
    }

    pub fn opts(&self) -> ViewOpts<'_> {
        ViewOpts { cat: self.cat.as_deref(), sort: self.sort, has_code: self.has_code }
    }
}

/// Which part of a period one page shows.
pub fn slice(params: &ViewParams, limit: u32) -> Result<Slice, WebError> {
    Ok(Slice {
        category: params.cat.clone(),
        sort: params.sort,
        has_code: params.has_code,
        offset: offset(params.page, limit)?,
        limit,
    })
}

/// Parses the `{value}` of `/papers/{kind}/{value}`.
pub fn parse_period(kind: &str, path: Result<Path<String>, PathRejection>) -> Result<FeedPeriod, WebError> {
    let Path(value) = path.map_err(|e| WebError::bad(e.body_text()))?;
    Ok(match kind {
        "day" => FeedPeriod::parse_day(&value)?,
        "week" => FeedPeriod::parse_week(&value)?,
        _ => FeedPeriod::parse_month(&value)?,
    })
}

/// `GET /` and `GET /papers`: the latest day, or the empty-catalog page.
pub async fn latest(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let result = async {
        let params = ViewParams::parse(q.as_deref())?;
        show(&st, None, params).await
    }
    .await;
    html_result(&st.config, result)
}

/// `GET /papers/date`, `/papers/week`, `/papers/month`: a temporary
/// redirect to the period that holds the latest day.
pub async fn latest_of(st: &AppState, kind: &str, q: Option<String>) -> Response {
    let result = async {
        let params = ViewParams::parse(q.as_deref())?;
        let Some(day) = st.store.latest_listing_date().await? else {
            return Ok(empty_catalog(&st.config));
        };
        let period = match kind {
            "day" => FeedPeriod::Day(day),
            "week" => FeedPeriod::week_of(day),
            _ => FeedPeriod::month_of(day),
        };
        Ok(Redirect::temporary(&period_url(&period, params.opts(), params.page)).into_response())
    };
    html_result(&st.config, result.await)
}

pub async fn latest_day(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    latest_of(&st, "day", q).await
}

pub async fn latest_week(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    latest_of(&st, "week", q).await
}

pub async fn latest_month(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    latest_of(&st, "month", q).await
}

async fn period_page(
    st: AppState,
    kind: &str,
    path: Result<Path<String>, PathRejection>,
    q: Option<String>,
) -> Response {
    let result = async {
        let period = parse_period(kind, path)?;
        let params = ViewParams::parse(q.as_deref())?;
        show(&st, Some(period), params).await
    };
    html_result(&st.config, result.await)
}

/// `GET /papers/date/{YYYY-MM-DD}`.
pub async fn day(
    State(st): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Response {
    period_page(st, "day", path, q).await
}

/// `GET /papers/week/{YYYY-Www}`.
pub async fn week(
    State(st): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Response {
    period_page(st, "week", path, q).await
}

/// `GET /papers/month/{YYYY-MM}`.
pub async fn month(
    State(st): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Response {
    period_page(st, "month", path, q).await
}

/// Loads one page of `period` (`None`: the latest day, shown at `/`; and,
/// for days, the nearest days with papers) and renders it.
async fn show(st: &AppState, period: Option<FeedPeriod>, params: ViewParams) -> Result<Response, WebError> {
    let page_size = st.config.page_size.max(1);
    let viewer = current_viewer().map(|v| v.user().id);
    let latest = period.is_none();
    let span = tracing::debug_span!("store.feed", period = ?period, page = "html");
    let wanted = slice(&params, page_size)?;
    let listing = papers::listing(st.store.as_ref(), period, &wanted, true, viewer);
    let Some(listing) = crate::metrics::timed(span, listing).await? else {
        return Ok(empty_catalog(&st.config));
    };
    let in_range = |p: &FeedPeriod| YEARS.contains(&p.start().year()) && YEARS.contains(&p.end().year());
    let marks = Marks { voted: listing.voted, not_for_me: listing.not_for_me };
    let view = FeedView {
        marks: &marks,
        period: listing.period,
        latest,
        params: &params,
        page_size,
        data: &listing.page,
        prev: listing.prev.filter(in_range),
        next: listing.next.filter(in_range),
    };
    Ok(html_response(StatusCode::OK, render(&st.config, &view)))
}

/// Everything a feed page shows.
pub struct FeedView<'a> {
    pub period: FeedPeriod,
    /// Rendered at `/` (its feeds follow the latest day).
    pub latest: bool,
    pub params: &'a ViewParams,
    pub page_size: u32,
    pub data: &'a FeedPage,
    pub prev: Option<FeedPeriod>,
    pub next: Option<FeedPeriod>,
    /// Which of the items the logged-in member upvotes or marked "not for me".
    pub marks: &'a Marks,
}

/// Which of `items` the logged-in member upvotes and marked "not for me"
/// (none for visitors).
pub async fn marks_among(st: &AppState, items: &[StoredPaper]) -> Result<Marks, WebError> {
    let viewer = current_viewer().map(|v| v.user().id);
    Ok(papers::marks_among(st.store.as_ref(), viewer, items).await?)
}

/// What one card shows for the viewer besides the paper.
#[derive(Default)]
pub struct CardMarks {
    /// The member upvotes it.
    pub voted: bool,
    /// The member marked it "not for me" (the button offers undo).
    pub not_for_me: bool,
    /// Why it is recommended (on For-you cards), in place of the trending
    /// reason.
    pub why: Option<Markup>,
}

impl CardMarks {
    /// The marks of paper `id` among `marks`.
    pub fn of(marks: &Marks, id: &PaperId) -> CardMarks {
        CardMarks { voted: marks.voted.contains(id), not_for_me: marks.not_for_me.contains(id), why: None }
    }
}

/// The "not for me" button of a card or paper page, for members only (it
/// posts `on=1`, or `on=0` to undo, and comes back to `back`); nothing for
/// visitors.
pub fn not_for_me_widget(id: &PaperId, marked: bool, back: &str) -> Markup {
    let Some(v) = current_viewer() else {
        return html! {};
    };
    html! {
        form.not-for-me method="post" action=(format!("{}/not-for-me", paper_path(id))) {
            input type="hidden" name="csrf" value=(v.csrf());
            input type="hidden" name="next" value=(back);
            @if marked {
                input type="hidden" name="on" value="0";
                span.muted { "Not for you. " }
                button.link.undo type="submit" title="Show it in your For-you list again" { "Undo" }
            } @else {
                input type="hidden" name="on" value="1";
                button.link type="submit" title="Fewer papers like this in your For-you list" { "Not for me" }
            }
        }
    }
}

/// The upvote button: a form for a member (it toggles their vote and comes
/// back to `back`), a link to the login page for a visitor.
pub fn vote_widget(id: &PaperId, upvotes: i64, voted: bool, back: &str) -> Markup {
    match current_viewer() {
        Some(v) => html! {
            form.vote method="post" action=(format!("{}/upvote", paper_path(id))) {
                input type="hidden" name="csrf" value=(v.csrf());
                input type="hidden" name="back" value=(back);
                button.upvote.voted[voted] type="submit" aria-pressed=(voted)
                    title=(if voted { "Take back your upvote" } else { "Upvote" }) {
                    span.arrow aria-hidden="true" { "▲" } span.n { (upvotes) }
                }
            }
        },
        None => html! {
            a.upvote href=(format!("/login?next={}", percent_encode(back))) title="Log in to upvote" {
                span.arrow aria-hidden="true" { "▲" } span.n { (upvotes) }
            }
        },
    }
}

fn sort_label(sort: FeedSort) -> &'static str {
    match sort {
        FeedSort::Trending => "Trending",
        FeedSort::New => "New",
        FeedSort::Top => "Top",
    }
}

/// The feed page.
pub fn render(config: &WebSettings, v: &FeedView<'_>) -> String {
    let opts = v.params.opts();
    let label = v.period.label();
    let total = v.data.total;
    let pages = total.div_ceil(u64::from(v.page_size)).max(1);
    let page_no = u64::from(v.params.page);
    let first_rank = page_no * u64::from(v.page_size) + 1;
    let kind = v.period.kind();
    // From a page past the end, "previous" leads back to the last page.
    let prev_page = u32::try_from(page_no.saturating_sub(1).min(pages - 1)).unwrap_or(0);
    let papers_word = if total == 1 { "paper" } else { "papers" };
    let title = match &v.params.cat {
        Some(c) => format!("{label} · {c}"),
        None => label.clone(),
    };
    let description = format!("{total} {papers_word} listed in {label} on {}.", config.site_name);
    let back = if v.latest { root_url(opts) } else { period_url(&v.period, opts, v.params.page) };
    let now = chrono::Utc::now();
    let chip = |c: &str| period_url(&v.period, ViewOpts { cat: Some(c), ..opts }, 0);
    let around = Around { chip_url: &chip, back: &back };
    let body = html! {
        section.period-head {
            h1 { (label) }
            p.summary {
                strong.count { (total) } " " (papers_word)
                @if let Some(c) = &v.params.cat {
                    " in " span.chip.current { (c) }
                    " · "
                    a href=(period_url(&v.period, crate::links::ViewOpts { cat: None, ..opts }, 0)) { "all categories" }
                }
            }
            (period_nav(v, opts, kind))
            nav.sorts aria-label="Order" {
                @for sort in FeedSort::ALL {
                    @if sort == opts.sort {
                        span.sort.current aria-current="true" { (sort_label(sort)) }
                    } @else {
                        a.sort href=(period_url(&v.period, ViewOpts { sort, ..opts }, 0)) { (sort_label(sort)) }
                    }
                }
                " · "
                @if opts.has_code {
                    a.sort.current href=(period_url(&v.period, ViewOpts { has_code: false, ..opts }, 0)) aria-current="true" title="Show all papers" { "With code ✓" }
                } @else {
                    a.sort href=(period_url(&v.period, ViewOpts { has_code: true, ..opts }, 0)) title="Only papers with a code repository" { "With code" }
                }
            }
        }
        @if v.data.items.is_empty() {
            section.empty {
                @if total == 0 {
                    p {
                        "No papers this " (kind)
                        @if let Some(c) = &v.params.cat { " in " (c) }
                        "."
                    }
                } @else {
                    p { "There is no page " (page_no + 1) " here: this " (kind) " has " (pages) " page" @if pages != 1 { "s" } "." }
                    p {
                        a href=(period_url(&v.period, opts, 0)) { "← Back to the first page" }
                    }
                }
            }
        } @else {
            ol.papers start=(first_rank) {
                @for (i, item) in v.data.items.iter().enumerate() {
                    (list_item(item, first_rank + i as u64, &CardMarks::of(v.marks, &item.paper.id), &Explained::of(item, &config.ranking, now), &around))
                }
            }
        }
        @if pages > 1 || page_no > 0 {
            nav.pages aria-label="Pages" {
                @if page_no > 0 {
                    a.prev rel="prev" href=(period_url(&v.period, opts, prev_page)) { "← Previous page" }
                }
                span.where { "Page " (page_no + 1) " of " (pages) }
                @if page_no + 1 < pages {
                    a.next rel="next" href=(period_url(&v.period, opts, v.params.page + 1)) { "Next page →" }
                }
            }
        }
    };
    let feed_period = (!v.latest).then_some(&v.period);
    let head = Head {
        title: &title,
        description: Some(&description),
        canonical: Some(format!("{}{}", config.base_url, period_url(&v.period, opts, v.params.page))),
        feeds: Some(FeedLinks::for_view(feed_period, opts)),
        noindex: false,
    };
    let nav = Nav { anchor: Some(v.period), opts, active: Some(v.period.kind()), query: None };
    page(config, &head, &nav, body)
}

fn period_nav(v: &FeedView<'_>, opts: ViewOpts<'_>, kind: &str) -> Markup {
    html! {
        nav.periods aria-label="Neighbouring periods" {
            @if let Some(p) = &v.prev {
                a.prev href=(period_url(p, opts, 0)) title=(p.label()) { "← Previous " (kind) }
            } @else {
                span.prev.disabled { "← Previous " (kind) }
            }
            @if let Some(n) = &v.next {
                a.next href=(period_url(n, opts, 0)) title=(n.label()) { "Next " (kind) " →" }
            } @else {
                span.next.disabled { "Next " (kind) " →" }
            }
        }
    }
}

/// Authors for a list: the first few and "et al.".
pub fn short_authors(authors: &[String]) -> String {
    if authors.len() <= LIST_AUTHORS + 1 {
        authors.join(", ")
    } else {
        format!("{}, et al.", authors[..LIST_AUTHORS].join(", "))
    }
}

/// What a card's links keep from the page around it.
#[derive(Clone, Copy)]
pub struct Around<'a> {
    /// Where a category chip leads (the same view in that category).
    pub chip_url: &'a dyn Fn(&str) -> String,
    /// Where a vote comes back to.
    pub back: &'a str,
}

/// One paper's card in a list: rank, upvote button, title, authors, its
/// repository and reason (or, on For-you cards, why it is recommended),
/// categories, abstract excerpt, links and the member's "not for me" button.
pub fn list_item(item: &StoredPaper, rank: u64, marks: &CardMarks, signals: &Explained, around: &Around<'_>) -> Markup {
    let Around { chip_url, back } = *around;
    let p = &item.paper;
    let href = paper_path(&p.id);
    html! {
        li.paper data-paper-id=(p.id) {
            div.rank aria-hidden="true" { (rank) }
            div.votes title="Upvotes" { (vote_widget(&p.id, item.upvotes, marks.voted, back)) }
            div.body {
                h2.title {
                    a.paper-title href=(href) { (p.title) }
                    @if p.withdrawn { " " span.badge.withdrawn { "withdrawn" } }
                }
                @if !p.authors.is_empty() {
                    p.authors { (short_authors(&p.authors)) }
                }
                @if let Some(why) = &marks.why {
                    p.why { (why) }
                } @else {
                    (signal_line(signals))
                }
                @if let Some(by) = &item.submitted_by {
                    p.submitter.muted { "submitted by " a href=(format!("/u/{by}")) { (by) } }
                }
                @if !p.categories.is_empty() {
                    p.chips {
                        @for c in &p.categories {
                            a.chip href=(chip_url(c)) { (c) }
                        }
                    }
                }
                @if !p.abstract_text.is_empty() {
                    p.abstract { (trim_to_words(&p.abstract_text, LIST_ABSTRACT_CHARS)) }
                }
                p.links {
                    @if let Some(abs) = p.abs_url() { a href=(abs) { "arXiv" } }
                    @if let Some(pdf) = p.pdf_url() { a href=(pdf) { "PDF" } }
                    @if let Some(code) = p.links.code.as_deref().filter(|u| is_web_url(u)) { a href=(code) { "Code" } }
                    @if let PaperId::Local(_) = p.id { span.muted { "not on arXiv" } }
                }
                (not_for_me_widget(&p.id, marks.not_for_me, back))
            }
        }
    }
}

/// A card's repository (linked, with its stars) and its one-line reason:
/// why the paper is where it is.
pub fn signal_line(e: &Explained) -> Markup {
    html! {
        p.signals {
            @if let (Some(repo), Some(url)) = (&e.repo, e.repo_url()) {
                a.repo href=(url) title="Code on GitHub" { (repo) }
                @if let Some(stars) = e.stars {
                    " " span.stars title="Stars on GitHub" { "★ " (grouped(stars)) }
                }
                " · "
            }
            span.reason title="Why it is here" { (e.card_reason()) }
        }
    }
}

/// The page for a catalog with no papers at all.
pub fn empty_catalog(config: &WebSettings) -> Response {
    let body = html! {
        section.notice {
            h1 { "No papers yet" }
            p { "No papers yet: run " code { "paperboy import FILE" } " or " code { "paperboy demo" } "." }
        }
    };
    let head = Head { title: "No papers yet", ..Head::default() };
    html_response(StatusCode::OK, page(config, &head, &Nav::default(), body))
}
