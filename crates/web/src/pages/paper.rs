//! The page of one paper: `/papers/2312.00752`, `/papers/hep-th/9901001`,
//! `/papers/pb-0123456789abcdef`. Other spellings of an id (with a version,
//! upper-case, an `arXiv:` prefix) redirect to the canonical URL. With a
//! search engine, the page ends with similar papers.
//!
//! The page ends with the discussion (`comments.rs`), a page of it at a
//! time (`?cpage=N`).
//!
//! `POST /papers/{id}/upvote` (a member's form, with its CSRF token) toggles
//! the member's upvote and sends them back (303) to the page they came from;
//! `POST /papers/{id}/comments` adds a comment or reply; `…/save` and
//! `…/unsave` keep the paper on the member's reading list; `…/hide` (admins
//! only, `hidden=1|0`) hides the paper from everyone else. Admins still see
//! a hidden paper's page, marked as hidden. `…/not-for-me` (`on=1|0`,
//! `next`) marks the paper "not for me" for the member (it leaves their
//! For-you list at once) or takes that back.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use paperboy_core::text::trim_to_words;
use paperboy_core::{FeedPeriod, PaperId};
use paperboy_services::{members, papers};
use paperboy_store::StoredPaper;

use crate::auth::{CurrentUser, Form, safe_next, see_other};
use crate::dates::human_day;
use crate::error::{WebError, html_result};
use crate::links::{ViewOpts, doi_url, is_web_url, paper_path, period_url};
use crate::pages::feed::{not_for_me_widget, short_authors, vote_widget};
use crate::pages::html_response;
use crate::pages::layout::{Head, Nav, page};
use crate::params::QueryString;
use crate::signals::{Explained, grouped};
use crate::{AppState, WebSettings};

/// Length of the meta description.
const DESCRIPTION_CHARS: usize = 160;

/// Reads the id from a wildcard path segment: `(id, canonical)` where
/// `canonical` is false when the path spelled it differently.
pub fn parse_id(path: Result<Path<String>, PathRejection>) -> Result<(PaperId, bool), WebError> {
    let Path(raw) = path.map_err(|e| WebError::bad(e.body_text()))?;
    let id = PaperId::parse(&raw)?;
    let canonical = id.to_string() == raw;
    Ok((id, canonical))
}

/// `GET /papers/{*id}`, `?cpage=N` for a later page of its discussion.
pub async fn show(
    State(st): State<AppState>,
    RawQuery(query): RawQuery,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    // `/papers/date/2026-03-11/` and `/papers/2312.00752/` mean the page without the slash.
    if let Ok(Path(raw)) = path.as_ref() {
        let trimmed = raw.trim_end_matches('/');
        // Only a path that is a valid `Location` as it stands: one with a
        // control character (`/papers/x%0D/`) is no paper, and gets the 400 below.
        let clean = !trimmed.chars().any(char::is_control);
        if trimmed.len() != raw.len() && !trimmed.is_empty() && !trimmed.contains("//") && clean {
            return Redirect::permanent(&format!("/papers/{trimmed}")).into_response();
        }
    }
    let result = async {
        let (id, canonical) = parse_id(path)?;
        if !canonical {
            return Ok(Redirect::permanent(&paper_path(&id)).into_response());
        }
        let comment_page = crate::pages::comments::requested_page(&QueryString::parse(query.as_deref())?)?;
        let viewer = crate::auth::current_viewer();
        let data = papers::page(st.store.as_ref(), &id, viewer.as_ref().map(|v| v.user()), comment_page).await?;
        if data.discussion.page >= data.discussion.pages {
            return Err(crate::pages::comments::no_such_page(&data.discussion));
        }
        let similar = similar_papers(&st, &data.paper.paper.id).await;
        let discussion = crate::pages::comments::section(&data.paper.paper.id, &data.discussion);
        let view = PaperView {
            voted: data.voted,
            saved: data.saved,
            not_for_me: data.not_for_me,
            similar: &similar,
            discussion,
        };
        Ok(html_response(StatusCode::OK, render(&st.config, &data.paper, view)))
    };
    html_result(&st.config, result.await)
}

/// `POST /papers/{id}/{action}`: `upvote` toggles the member's vote,
/// `comments` adds a comment, `save`/`unsave` change the reading list,
/// `hide` (admins) hides or shows the paper.
pub async fn post(
    State(st): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    path: Result<Path<String>, PathRejection>,
    form: Form,
) -> Response {
    let result = async {
        let Path(raw) = path.map_err(|e| WebError::bad(e.body_text()))?;
        if let Some(id) = raw.strip_suffix("/comments") {
            return crate::pages::comments::add(&st, &viewer, &PaperId::parse(id)?, form).await;
        }
        if let Some(id) = raw.strip_suffix("/not-for-me") {
            let id = PaperId::parse(id)?;
            let on = match form.get("on") {
                Some("1") | None => true,
                Some("0") => false,
                Some(other) => return Err(WebError::bad(format!("on must be 1 or 0, not {other:?}"))),
            };
            papers::set_not_for_me(st.store.as_ref(), viewer.user(), &id, on).await?;
            return Ok(see_other(&safe_next(Some(form.get("next").unwrap_or(&paper_path(&id))))));
        }
        for action in ["save", "unsave", "hide"] {
            if let Some(id) = raw.strip_suffix(&format!("/{action}")) {
                let id = PaperId::parse(id)?;
                let (db, user) = (st.store.as_ref(), viewer.user());
                match action {
                    "save" => members::save(db, user, &id).await?,
                    "unsave" => members::unsave(db, user, &id).await?,
                    _ => papers::set_hidden(db, user, &id, form.get("hidden") != Some("0")).await?,
                }
                return Ok(see_other(&safe_next(Some(form.get("back").unwrap_or(&paper_path(&id))))));
            }
        }
        let Some(id) = raw.strip_suffix("/upvote") else {
            return Err(WebError::no_route(&format!("/papers/{raw}")));
        };
        let id = PaperId::parse(id)?;
        papers::toggle_vote(st.store.as_ref(), viewer.user(), &id).await?;
        let back = match form.get("back") {
            Some(b) => safe_next(Some(b)),
            None => paper_path(&id),
        };
        Ok(see_other(&back))
    };
    html_result(&st.config, result.await)
}

/// Papers similar to `id` for its page; none without a search engine, and
/// none (logged) when the engine or the store fails: the page is still
/// worth showing.
async fn similar_papers(st: &AppState, id: &PaperId) -> Vec<StoredPaper> {
    let Some(engine) = &st.search else {
        return Vec::new();
    };
    match crate::search::similar(engine, st.store.as_ref(), id, crate::search::SIMILAR_ON_PAGE).await {
        Ok(papers) => papers.unwrap_or_default(),
        Err(e) => {
            tracing::warn!(error = %e, paper = %id, "similar papers left out");
            Vec::new()
        }
    }
}

/// Why the paper ranks where it does: each signal with its source (the
/// repository on GitHub, upvotes on Hugging Face Papers, votes here, a
/// recorded source page), then the score and its parts.
fn breakdown(e: &Explained) -> maud::Markup {
    let has_stars = e.repo.is_some() && (e.stars.is_some() || e.stars_this_week.is_some());
    html! {
        section.trending-why aria-labelledby="why-heading" {
            h2 #why-heading { "Why it is trending" }
            ul.signal-parts {
                @if let (Some(repo), Some(url)) = (&e.repo, e.repo_url()) {
                    li.part.github {
                        @if let Some(w) = e.stars_this_week.filter(|w| *w > 0) {
                            "+" (grouped(w as u64)) " " (if w == 1 { "star" } else { "stars" }) " this week on "
                        } @else if has_stars {
                            "Stars on "
                        } @else {
                            "Code: "
                        }
                        a href=(url) { (repo) }
                        @if let Some(total) = e.stars {
                            " (" (grouped(total)) " in all)"
                        }
                        span.source { " · source: GitHub" }
                    }
                }
                @if let Some(u) = e.hf_upvotes.filter(|u| *u > 0) {
                    li.part.huggingface {
                        (grouped(u)) " " (if u == 1 { "upvote" } else { "upvotes" }) " on "
                        @if let Some(hf) = &e.hf_url { a href=(hf) { "Hugging Face" } } @else { "Hugging Face" }
                        span.source { " · source: Hugging Face Papers" }
                    }
                }
                li.part.local {
                    (e.local_votes) " " (if e.local_votes == 1 { "vote" } else { "votes" }) " here"
                }
                @if let Some(rank) = &e.source_rank {
                    li.part.source-rank { (rank) span.source { " · a recorded rank on the page this site started from" } }
                }
            }
            p.score.muted {
                "Trending score " (format!("{:.4}", e.score.total))
                " = votes " (format!("{:.4}", e.score.local))
                " + Hugging Face " (format!("{:.4}", e.score.huggingface))
                " + stars " (format!("{:.4}", e.score.stars))
            }
        }
    }
}

/// What a paper page shows besides the paper.
pub struct PaperView<'a> {
    /// The member upvotes it.
    pub voted: bool,
    /// It is on the member's reading list.
    pub saved: bool,
    /// The member marked it "not for me".
    pub not_for_me: bool,
    /// Listed when not empty.
    pub similar: &'a [StoredPaper],
    /// The comments, which end the page.
    pub discussion: maud::Markup,
}

/// The paper page.
pub fn render(config: &WebSettings, stored: &StoredPaper, view: PaperView<'_>) -> String {
    let PaperView { voted, saved, not_for_me, similar, discussion } = view;
    let viewer = crate::auth::current_viewer();
    let here = paper_path(&stored.paper.id);
    let p = &stored.paper;
    let day = FeedPeriod::Day(p.listed_on);
    let description =
        if p.abstract_text.is_empty() { p.title.clone() } else { trim_to_words(&p.abstract_text, DESCRIPTION_CHARS) };
    let code = p.links.code.as_deref().filter(|u| is_web_url(u));
    let project = p.links.project.as_deref().filter(|u| is_web_url(u));
    let body = html! {
        article.paper-page {
            p.kicker {
                "Listed on "
                a href=(period_url(&day, ViewOpts::default(), 0)) { (human_day(p.listed_on)) }
                @if let Some(primary) = &p.primary_category {
                    " · "
                    a.chip href=(period_url(&day, ViewOpts { cat: Some(primary), ..ViewOpts::default() }, 0)) { (primary) }
                }
                @if p.withdrawn { " · " span.badge.withdrawn { "withdrawn" } }
            }
            h1 { (p.title) }
            @if !p.authors.is_empty() {
                @if let Some(v) = &viewer {
                    p.authors {
                        @for (i, a) in p.authors.iter().enumerate() {
                            @if i > 0 { ", " }
                            (a)
                            form.inline.follow method="post" action="/settings/interests/authors" {
                                input type="hidden" name="csrf" value=(v.csrf());
                                input type="hidden" name="name" value=(a);
                                input type="hidden" name="on" value="1";
                                input type="hidden" name="next" value=(here);
                                button.link type="submit" title=(format!("Follow {a}")) aria-label=(format!("Follow {a}")) { "+" }
                            }
                        }
                    }
                } @else {
                    p.authors { (p.authors.join(", ")) }
                }
            }
            @if let Some(by) = &stored.submitted_by {
                p.submitter.muted { "Submitted by " a href=(format!("/u/{by}")) { (by) } }
            }
            @if stored.hidden_at.is_some() {
                p.warning { "Hidden by a moderator: only admins see this page." }
            }
            p.actions {
                span.votes-inline title="Upvotes" { (vote_widget(&p.id, stored.upvotes, voted, &paper_path(&p.id))) }
                @if let Some(abs) = p.abs_url() { a.button href=(abs) { "arXiv" } }
                @if let Some(pdf) = p.pdf_url() { a.button href=(pdf) { "PDF" } }
                @if let Some(c) = code { a.button href=(c) { "Code" } }
                @if let Some(pp) = project { a.button href=(pp) { "Project page" } }
                @if let Some(v) = &viewer {
                    form.inline method="post" action=(format!("{here}/{}", if saved { "unsave" } else { "save" })) {
                        input type="hidden" name="csrf" value=(v.csrf());
                        button type="submit" { @if saved { "Saved ✓ (remove)" } @else { "Save" } }
                    }
                    (not_for_me_widget(&p.id, not_for_me, &here))
                    @if v.user().is_admin() {
                        form.inline method="post" action=(format!("{here}/hide")) {
                            input type="hidden" name="csrf" value=(v.csrf());
                            @if stored.hidden_at.is_some() {
                                input type="hidden" name="hidden" value="0";
                                button type="submit" { "Show paper" }
                            } @else {
                                input type="hidden" name="hidden" value="1";
                                button type="submit" { "Hide paper" }
                            }
                        }
                    }
                }
            }
            @if p.withdrawn {
                p.warning { "The authors have withdrawn this paper." }
            }
            (breakdown(&Explained::of(stored, &config.ranking, chrono::Utc::now())))
            section.abstract {
                h2 { "Abstract" }
                @if p.abstract_text.is_empty() {
                    p.muted { "No abstract." }
                } @else {
                    p { (p.abstract_text) }
                }
            }
            dl.meta {
                dt { "Identifier" }
                dd { code { (p.id) } @if let Some(v) = p.version { " (v" (v) ")" } }
                @if !p.categories.is_empty() {
                    dt { "Categories" }
                    dd.chips {
                        @for c in &p.categories {
                            a.chip href=(period_url(&day, ViewOpts { cat: Some(c), ..ViewOpts::default() }, 0)) { (c) }
                        }
                    }
                }
                @if let Some(t) = p.submitted_at {
                    dt { "Submitted" }
                    dd { time datetime=(t.to_rfc3339()) { (human_day(t.date_naive())) } }
                }
                @if let Some(t) = p.updated_at {
                    dt { "Updated" }
                    dd { time datetime=(t.to_rfc3339()) { (human_day(t.date_naive())) } }
                }
                dt { "Listed on" }
                dd { a href=(period_url(&day, ViewOpts::default(), 0)) { (human_day(p.listed_on)) } }
                @if let Some(c) = &p.comment {
                    dt { "Comment" }
                    dd { (c) }
                }
                @if let Some(j) = &p.journal_ref {
                    dt { "Journal ref" }
                    dd { (j) }
                }
                @if let Some(d) = &p.doi {
                    dt { "DOI" }
                    dd { a href=(doi_url(d)) { (d) } }
                }
            }
        }
        @if !similar.is_empty() {
            section.similar aria-labelledby="similar-heading" {
                h2 #similar-heading { "Similar papers" }
                ul.similar-list {
                    @for s in similar {
                        li data-paper-id=(s.paper.id) {
                            a.paper-title href=(paper_path(&s.paper.id)) { (s.paper.title) }
                            @if !s.paper.authors.is_empty() {
                                span.authors { (short_authors(&s.paper.authors)) }
                            }
                            time.muted datetime=(s.paper.listed_on.to_string()) { (human_day(s.paper.listed_on)) }
                        }
                    }
                }
            }
        }
        (discussion)
    };
    let canonical = format!("{}{}", config.base_url, paper_path(&p.id));
    let head = Head {
        title: &p.title,
        description: Some(&description),
        canonical: Some(canonical),
        feeds: None,
        noindex: false,
    };
    let nav = Nav { anchor: Some(day), opts: ViewOpts::default(), active: None, query: None };
    page(config, &head, &nav, body)
}
