//! Members' pages: the public profile `/u/{username}` (counts, and the
//! member's submissions or upvotes, `?tab=upvotes`, paged with `?p=`), and
//! the private reading list (`/reading-list`, `/reading-list.bib` as
//! BibTeX; papers are saved and unsaved from their page with
//! `POST /papers/{id}/save` and `/unsave`).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use paperboy_core::Username;
use paperboy_services::members;
use paperboy_store::{MemberPapers, StoredPaper};

use crate::AppState;
use crate::auth::CurrentUser;
use crate::dates::human_day;
use crate::error::{WebError, html_result};
use crate::links::paper_path;
use crate::pages::feed::short_authors;
use crate::pages::html_response;
use crate::pages::layout::{Head, Nav, page};
use crate::params::{QueryString, offset};

/// Papers per profile page.
const PROFILE_PAGE: u32 = 30;

fn paper_list(items: &[StoredPaper]) -> Markup {
    html! {
        ul.member-papers {
            @for s in items {
                li data-paper-id=(s.paper.id) {
                    span.votes-inline title="Upvotes" { "▲ " (s.upvotes) }
                    " "
                    a.paper-title href=(paper_path(&s.paper.id)) { (s.paper.title) }
                    @if !s.paper.authors.is_empty() { " " span.authors { (short_authors(&s.paper.authors)) } }
                    " " time.muted datetime=(s.paper.listed_on.to_string()) { (human_day(s.paper.listed_on)) }
                }
            }
        }
    }
}

/// `GET /u/{username}`.
pub async fn profile(
    State(st): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Response {
    let result = async {
        let Path(raw) = path.map_err(|e| WebError::bad(e.body_text()))?;
        let name = Username::parse(&raw)?;
        let q = QueryString::parse(q.as_deref())?;
        let upvoted = match q.get("tab") {
            None | Some("submissions") => false,
            Some("upvotes") => true,
            Some(other) => {
                return Err(WebError::bad(format!(
                    "tab={:?} is not a list: use submissions or upvotes",
                    other.chars().take(40).collect::<String>()
                )));
            }
        };
        let page_no = q.page()?;
        let not_found = || WebError::NotFound(format!("There is no member named {name}"));
        let which = if upvoted { MemberPapers::Upvoted } else { MemberPapers::Submitted };
        let skip = offset(page_no, PROFILE_PAGE)?;
        let found =
            members::profile(st.store.as_ref(), &name, which, skip, PROFILE_PAGE).await?.ok_or_else(not_found)?;
        let (profile, list) = (found.profile, found.papers);
        let base = format!("/u/{}", profile.username);
        let tab_q = if upvoted { "?tab=upvotes" } else { "" };
        let pages = list.total.div_ceil(u64::from(PROFILE_PAGE)).max(1);
        let body = html! {
            section.profile {
                h1 { (profile.username) }
                p.muted {
                    "Member since " (human_day(profile.joined_at.date_naive()))
                    @if profile.role.is_admin() { " · admin" }
                    @if profile.suspended { " · suspended" }
                }
                p { (profile.submissions) " submissions · " (profile.upvotes) " upvotes · " (profile.comments) " comments" }
                nav.sorts aria-label="Lists" {
                    @if upvoted {
                        a.sort href=(base) { "Submissions" }
                        span.sort.current { "Upvotes" }
                    } @else {
                        span.sort.current { "Submissions" }
                        a.sort href=(format!("{base}?tab=upvotes")) { "Upvotes" }
                    }
                }
                @if list.items.is_empty() {
                    p.muted { "Nothing here yet." }
                } @else {
                    (paper_list(&list.items))
                }
                @if pages > 1 {
                    nav.pages aria-label="Pages" {
                        @if page_no > 0 {
                            a.prev rel="prev" href=(format!("{base}{}{}p={}", tab_q, if tab_q.is_empty() { "?" } else { "&" }, page_no - 1)) { "← Previous page" }
                        }
                        span.where { "Page " (u64::from(page_no) + 1) " of " (pages) }
                        @if u64::from(page_no) + 1 < pages {
                            a.next rel="next" href=(format!("{base}{}{}p={}", tab_q, if tab_q.is_empty() { "?" } else { "&" }, page_no + 1)) { "Next page →" }
                        }
                    }
                }
            }
        };
        let title = profile.username.to_string();
        let head = Head { title: &title, noindex: true, ..Head::default() };
        Ok(html_response(StatusCode::OK, page(&st.config, &head, &Nav::default(), body)))
    };
    html_result(&st.config, result.await)
}

/// `GET /reading-list`: the member's saved papers.
pub async fn reading_list(State(st): State<AppState>, CurrentUser(v): CurrentUser) -> Response {
    let result = async {
        let list = members::reading_list(st.store.as_ref(), v.user()).await?;
        let body = html! {
            section.reading-list {
                h1 { "Reading list" }
                @if list.is_empty() {
                    p { "Nothing saved yet: use “Save” on a paper's page." }
                } @else {
                    p { a href="/reading-list.bib" { "Download as BibTeX" } }
                    ul.member-papers {
                        @for e in &list {
                            li data-paper-id=(e.paper.paper.id) {
                                a.paper-title href=(paper_path(&e.paper.paper.id)) { (e.paper.paper.title) }
                                @if !e.paper.paper.authors.is_empty() { " " span.authors { (short_authors(&e.paper.paper.authors)) } }
                                " "
                                form.inline method="post" action=(format!("{}/unsave", paper_path(&e.paper.paper.id))) {
                                    input type="hidden" name="csrf" value=(v.csrf());
                                    input type="hidden" name="back" value="/reading-list";
                                    button.link type="submit" { "remove" }
                                }
                            }
                        }
                    }
                }
            }
        };
        let head = Head { title: "Reading list", noindex: true, ..Head::default() };
        Ok(html_response(StatusCode::OK, page(&st.config, &head, &Nav::default(), body)))
    };
    html_result(&st.config, result.await)
}

/// `GET /reading-list.bib`.
pub async fn reading_list_bib(State(st): State<AppState>, CurrentUser(v): CurrentUser) -> Response {
    let result = async {
        let list = members::reading_list(st.store.as_ref(), v.user()).await?;
        let text = crate::bibtex::file(list.iter().map(|e| &e.paper.paper));
        let mut r = (StatusCode::OK, text).into_response();
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-bibtex; charset=utf-8"));
        h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"reading-list.bib\""));
        Ok(r)
    };
    html_result(&st.config, result.await)
}
