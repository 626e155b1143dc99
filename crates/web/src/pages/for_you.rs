//! The member's For-you pages (issue 16): `/for-you` (the week of the
//! latest listing day), `/for-you/day/{YYYY-MM-DD}`, `/for-you/week/{YYYY-Www}`
//! and `/for-you/month/{YYYY-MM}`, the papers of the period ranked for the
//! member by [`RecsService`](paperboy_services::recommend::RecsService),
//! each card with its one-line reason; and the private Atom feed
//! `/for-you/feed/{secret}.atom` (this week's picks, the reason in each
//! entry's summary).
//!
//! Login required (a visitor is sent to the login page). Every answer is
//! `Cache-Control: private, no-store`: it must never enter the shared
//! response cache (`cache.rs` also refuses `/for-you` paths outright).
//!
//! Cold start: while the member likes fewer than three papers, the page
//! offers categories to follow (`POST /for-you/categories`) and suggested
//! papers to upvote; recommendations follow at once.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, Utc};
use maud::{Markup, html};
use paperboy_core::FeedPeriod;
use paperboy_recs::Reason;
use paperboy_services::papers::Marks;
use paperboy_services::recommend::{self, ForYouPage, Pick};
use paperboy_store::StoredPaper;

use crate::auth::{CurrentUser, Form, Viewer, see_other};
use crate::dates::last_change;
use crate::error::{WebError, html_result};
use crate::feeds::{FeedMeta, atom_with_summaries};
use crate::links::{FeedKind, ViewOpts, paper_path, period_url};
use crate::pages::feed::{Around, CardMarks, list_item, parse_period};
use crate::pages::html_response;
use crate::pages::layout::{Head, Nav, page};
use crate::signals::Explained;
use crate::{AppState, WebSettings};

/// Papers suggested for liking on the cold-start page.
pub const SUGGESTIONS: u32 = 12;
/// Picks in the private feed.
pub const FEED_PICKS: u32 = 50;
/// What every For-you answer carries.
pub const PRIVATE: &str = "private, no-store";

/// The categories offered on the cold-start page, with a name for people.
pub const ONBOARDING_CATEGORIES: &[(&str, &str)] = &[
    ("cs.AI", "Artificial intelligence"),
    ("cs.CL", "Computation and language"),
    ("cs.CV", "Computer vision"),
    ("cs.LG", "Machine learning"),
    ("cs.RO", "Robotics"),
    ("cs.CR", "Cryptography and security"),
    ("cs.IR", "Information retrieval"),
    ("cs.SE", "Software engineering"),
    ("cs.HC", "Human-computer interaction"),
    ("stat.ML", "Machine learning (statistics)"),
    ("math.OC", "Optimization and control"),
    ("eess.AS", "Audio and speech processing"),
    ("quant-ph", "Quantum physics"),
    ("q-bio.NC", "Neurons and cognition"),
];

/// `/for-you/week/2026-W11` (the member's view of a period).
pub fn for_you_url(period: &FeedPeriod) -> String {
    format!("/for-you/{}/{period}", period.kind())
}

/// Marks a response private: never stored by a shared cache.
pub fn private(mut r: Response) -> Response {
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(PRIVATE));
    r
}

/// `GET /for-you`: the week of the latest listing day.
pub async fn this_week(State(st): State<AppState>, CurrentUser(viewer): CurrentUser) -> Response {
    let result = show(&st, &viewer, None).await;
    private(html_result(&st.config, result))
}

async fn period_page(st: AppState, viewer: Viewer, kind: &str, path: Result<Path<String>, PathRejection>) -> Response {
    let result = async {
        let period = parse_period(kind, path)?;
        show(&st, &viewer, Some(period)).await
    };
    private(html_result(&st.config, result.await))
}

/// `GET /for-you/day/{YYYY-MM-DD}`.
pub async fn day(
    State(st): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    period_page(st, viewer, "day", path).await
}

/// `GET /for-you/week/{YYYY-Www}`.
pub async fn week(
    State(st): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    period_page(st, viewer, "week", path).await
}

/// `GET /for-you/month/{YYYY-MM}`.
pub async fn month(
    State(st): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    period_page(st, viewer, "month", path).await
}

/// `POST /for-you/categories`: follows the checked categories of the
/// cold-start form (`follow:cs.CL=1`), unfollows the unchecked ones, and
/// comes back to `next`.
pub async fn follow_categories(State(st): State<AppState>, CurrentUser(viewer): CurrentUser, form: Form) -> Response {
    let result = async {
        let offered: Vec<&str> = ONBOARDING_CATEGORIES.iter().map(|(c, _)| *c).collect();
        let chosen: Vec<&str> =
            offered.iter().copied().filter(|c| form.get(&format!("follow:{c}")).is_some()).collect();
        recommend::follow_categories(st.store.as_ref(), viewer.user().id, &offered, &chosen).await?;
        Ok(see_other(&crate::auth::safe_next(Some(form.get("next").unwrap_or("/for-you")))))
    };
    private(html_result(&st.config, result.await))
}

/// `GET /for-you/feed/{secret}.atom`: the member's picks of this week as
/// Atom, the reason in each summary; 404 for an unknown or rotated secret.
pub async fn feed_atom(State(st): State<AppState>, path: Result<Path<String>, PathRejection>) -> Response {
    let result = async {
        let Path(file) = path.map_err(|e| WebError::bad(e.body_text()))?;
        let not_found = || {
            WebError::NotFound("There is no feed at this address (it may have been replaced by a new one).".to_string())
        };
        let secret = file.strip_suffix(".atom").filter(|s| !s.is_empty()).ok_or_else(not_found)?;
        let for_you = st.recs.for_feed_secret(st.store.as_ref(), secret, FEED_PICKS).await?.ok_or_else(not_found)?;
        let base = st.config.base_url.as_str();
        let items: Vec<StoredPaper> = for_you.picks.iter().map(|p| p.paper.clone()).collect();
        let summaries: Vec<String> = for_you
            .picks
            .iter()
            .map(|p| {
                if p.paper.paper.abstract_text.is_empty() {
                    p.reason.line()
                } else {
                    format!("{}\n\n{}", p.reason.line(), p.paper.paper.abstract_text)
                }
            })
            .collect();
        let meta = FeedMeta {
            title: format!("{}: for you, {}", st.config.site_name, for_you.period.label()),
            subtitle: "Papers recommended for you, each with why".to_string(),
            html_url: format!("{base}{}", for_you_url(&for_you.period)),
            self_url: format!("{base}/for-you/feed/{file}"),
            updated: items.iter().map(|i| last_change(&i.paper)).max().unwrap_or_else(Utc::now),
            base_url: base.to_string(),
            site_name: st.config.site_name.clone(),
        };
        let body = atom_with_summaries(&meta, &items, &summaries);
        Ok(([(header::CONTENT_TYPE, FeedKind::Atom.content_type())], body).into_response())
    };
    private(html_result(&st.config, result.await))
}

async fn show(st: &AppState, viewer: &Viewer, period: Option<FeedPeriod>) -> Result<Response, WebError> {
    let limit = st.config.page_size.max(1);
    let Some(data) = st.recs.page(st.store.as_ref(), viewer.user().id, period, limit, SUGGESTIONS).await? else {
        return Ok(crate::pages::feed::empty_catalog(&st.config));
    };
    Ok(html_response(StatusCode::OK, render(&st.config, &data)))
}

/// The one line of a For-you card: why it is recommended, the liked paper
/// linked for a `Like` reason.
pub fn reason_line(reason: &Reason) -> Markup {
    html! {
        span.reason.for-you title="Why it is recommended for you" {
            @match reason {
                Reason::Like { id, title } => {
                    "Like: "
                    @match paperboy_core::PaperId::parse(id) {
                        Ok(pid) => a.liked href=(paper_path(&pid)) { (title) },
                        Err(_) => span.liked { (title) },
                    }
                }
                other => (other.line()),
            }
        }
    }
}

/// The For-you page.
pub fn render(config: &WebSettings, data: &ForYouPage) -> String {
    let f = &data.for_you;
    let period = f.period;
    let here = for_you_url(&period);
    let kind = period.kind();
    let label = period.label();
    let marks = Marks { voted: data.voted.clone(), not_for_me: Vec::new() };
    let now = Utc::now();
    let chip = |c: &str| period_url(&period, ViewOpts { cat: Some(c), ..ViewOpts::default() }, 0);
    let around = Around { chip_url: &chip, back: &here };
    let in_range =
        |p: &FeedPeriod| (1990..=9999).contains(&p.start().year()) && (1990..=9999).contains(&p.end().year());
    let (prev, next) = (Some(period.prev()).filter(in_range), Some(period.next()).filter(in_range));
    let card = |p: &Pick, rank: usize| {
        let mut m = CardMarks::of(&marks, &p.paper.paper.id);
        m.why = Some(reason_line(&p.reason));
        list_item(&p.paper, rank as u64, &m, &Explained::of(&p.paper, &config.ranking, now), &around)
    };
    let body = html! {
        section.period-head.for-you {
            h1 { "For you · " (label) }
            p.summary {
                @if f.cold_start {
                    "Popular papers while we learn what you like: follow a few categories and like some papers below."
                } @else {
                    strong.count { (f.picks.len()) } " " (if f.picks.len() == 1 { "paper" } else { "papers" })
                    " picked for you from what you like, each with why. "
                    a href="/settings/interests" { "What counts" }
                }
            }
            nav.periods aria-label="Neighbouring periods" {
                @if let Some(p) = &prev {
                    a.prev href=(for_you_url(p)) title=(p.label()) { "← Previous " (kind) }
                }
                @for (k, name) in [("day", "Day"), ("week", "Week"), ("month", "Month")] {
                    @let p = match k { "day" => FeedPeriod::Day(period.start()), "week" => FeedPeriod::week_of(period.start()), _ => FeedPeriod::month_of(period.start()) };
                    @if k == kind {
                        span.sort.current aria-current="true" { (name) }
                    } @else {
                        a.sort href=(for_you_url(&p)) { (name) }
                    }
                }
                @if let Some(n) = &next {
                    a.next href=(for_you_url(n)) title=(n.label()) { "Next " (kind) " →" }
                }
            }
        }
        @if !f.recent_not_for_me.is_empty() {
            section.not-for-me-recent aria-label="Recently marked not for me" {
                @for (id, title) in &f.recent_not_for_me {
                    div.muted.hidden-paper data-hidden-paper=(id) {
                        a href=(paper_path(id)) { (title) } " · "
                        (crate::pages::feed::not_for_me_widget(id, true, &here))
                    }
                }
            }
        }
        @if f.likes < recommend::ONBOARDING_LIKES {
            (onboarding(data, &here, &marks, &around, config, now))
        }
        @if f.picks.is_empty() {
            section.empty {
                p { "Nothing to recommend this " (kind) " yet: no papers were listed, or none is like what you follow." }
            }
        } @else {
            ol.papers.for-you start="1" {
                @for (i, p) in f.picks.iter().enumerate() {
                    (card(p, i + 1))
                }
            }
        }
    };
    let head = Head { title: &format!("For you · {label}"), noindex: true, ..Head::default() };
    let nav = Nav { anchor: Some(period), opts: ViewOpts::default(), active: None, query: None };
    page(config, &head, &nav, body)
}

/// The cold-start help: categories to follow and papers to like.
fn onboarding(
    data: &ForYouPage,
    here: &str,
    marks: &Marks,
    around: &Around<'_>,
    config: &WebSettings,
    now: chrono::DateTime<Utc>,
) -> Markup {
    let followed = &data.for_you.followed_categories;
    let viewer = crate::auth::current_viewer();
    html! {
        section.onboarding {
            h2 { "Tell us what you read" }
            @if let Some(v) = &viewer {
                form.categories method="post" action="/for-you/categories" {
                    input type="hidden" name="csrf" value=(v.csrf());
                    input type="hidden" name="next" value=(here);
                    fieldset {
                        legend { "Categories to follow" }
                        @for (c, name) in ONBOARDING_CATEGORIES {
                            label.category {
                                input type="checkbox" name=(format!("follow:{c}")) value="1" checked[followed.iter().any(|f| f == c)];
                                " " (name) " " span.chip { (c) }
                            }
                        }
                    }
                    button type="submit" { "Follow these categories" }
                }
            }
            @if !data.suggestions.is_empty() {
                h3 { "Like a few papers" }
                p.muted { "Upvote the papers you would read: recommendations follow at once." }
                ol.papers.suggestions start="1" {
                    @for (i, p) in data.suggestions.iter().enumerate() {
                        (list_item(p, i as u64 + 1, &CardMarks::of(marks, &p.paper.id), &Explained::of(p, &config.ranking, now), around))
                    }
                }
            }
            p.muted { "Or " a href="/settings/library" { "upload your library" } " (BibTeX or RIS)." }
        }
    }
}
