//! The discussion under a paper: comments with one level of replies,
//! written in the Markdown subset of [`crate::markdown`].
//!
//! A paper page shows one page of it (`?cpage=N`, from 0; at most
//! [`comments::PAGE_SIZE`] comments in thread order, with links to the pages
//! before and after); `GET /comments/{cid}` is a comment's permalink and
//! sends the browser to the page that holds it. Members may post
//! `comments_per_minute` comments a minute; one more is a 429 with
//! `Retry-After`.
//!
//! Members add a comment or a reply (`POST /papers/{id}/comments`, with
//! `body` and, for a reply, `parent`), and edit or delete their own
//! (`POST /comments/{cid}/edit`, `/comments/{cid}/delete`); admins hide or
//! show any (`POST /comments/{cid}/hide` with `hidden=1|0`). Who acts is
//! always the session's member; the rules are
//! [`paperboy_services::comments`]'s (the store checks authorship in the
//! same statement as the change, so nobody can edit or delete someone
//! else's comment). Every form carries the CSRF token and comes back (303) to the
//! comment on the paper page. No JavaScript: reply and edit forms open in
//! `<details>`.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, PreEscaped, html};
use paperboy_core::{CommentId, PaperId};
use paperboy_services::comments::{self, CommentLimit, Discussion};
use paperboy_store::Comment;

use crate::AppState;
use crate::auth::{CurrentUser, Form, Viewer, current_viewer, safe_next, see_other};
use crate::dates::human_day;
use crate::error::{WebError, html_result};
use crate::links::paper_path;
use crate::params::{QueryString, percent_encode, quote};

/// The query parameter that picks a page of the discussion.
pub const PAGE_PARAM: &str = "cpage";

/// Which page of the discussion a paper page shows: `cpage`, counted from 0.
pub fn requested_page(q: &QueryString) -> Result<u32, WebError> {
    match q.get(PAGE_PARAM) {
        None => Ok(0),
        Some(p) => p.parse::<u32>().map_err(|_| {
            WebError::bad(format!("{PAGE_PARAM}={:?} is not a comment page number: use 0, 1, 2, …", quote(p)))
        }),
    }
}

/// The 404 for a comment page past the last one.
pub fn no_such_page(d: &Discussion) -> WebError {
    WebError::NotFound(format!(
        "This discussion has {} page{} of comments (numbered from 0); there is no page {}.",
        d.pages,
        if d.pages == 1 { "" } else { "s" },
        d.page
    ))
}

/// The link to page `page` of the discussion of the paper at `here`.
fn page_url(here: &str, page: u32) -> String {
    match page {
        0 => here.to_string(),
        n => format!("{here}?{PAGE_PARAM}={n}"),
    }
}

/// Where comment `id` is shown: its page of the paper's discussion.
pub fn comment_url(paper: &PaperId, page: u32, id: CommentId) -> String {
    format!("{}#c{id}", page_url(&paper_path(paper), page))
}

/// A top-level comment with its replies on this page, or (`head` is
/// `None`) the replies that open a page whose parent is on the page before.
struct Thread<'a> {
    head: Option<&'a Comment>,
    replies: Vec<&'a Comment>,
}

impl Thread<'_> {
    /// The comment the replies answer.
    fn parent(&self) -> Option<CommentId> {
        self.head.map(|h| h.id).or_else(|| self.replies.first().and_then(|r| r.parent))
    }
}

/// Groups a page of comments in thread order (each top-level comment, then
/// its replies) into threads, in one pass: a reply belongs to the thread
/// just before it. A reply that does not (it can only open a page) starts
/// a thread of its own, so no comment is ever dropped.
fn threads(comments: &[Comment]) -> Vec<Thread<'_>> {
    let mut out: Vec<Thread<'_>> = Vec::new();
    for c in comments {
        match (c.parent, out.last_mut()) {
            (Some(parent), Some(t)) if t.parent() == Some(parent) => t.replies.push(c),
            (Some(_), _) => out.push(Thread { head: None, replies: vec![c] }),
            (None, _) => out.push(Thread { head: Some(c), replies: Vec::new() }),
        }
    }
    out
}

/// The discussion section of a paper page: one page of it.
pub fn section(paper: &PaperId, discussion: &Discussion) -> Markup {
    let viewer = current_viewer();
    let here = paper_path(paper);
    let live = discussion.live;
    let threads = threads(&discussion.comments);
    html! {
        section.comments #comments aria-labelledby="comments-heading" {
            h2 #comments-heading { "Discussion" @if live > 0 { " (" (live) ")" } }
            @if threads.is_empty() {
                p.muted { "No comments yet." }
            }
            (pager(&here, discussion))
            ol.comment-list {
                @for t in &threads {
                    li.thread {
                        @if let Some(head) = t.head {
                            (comment(head, viewer.as_ref(), &here, true))
                        } @else if let Some(parent) = t.parent() {
                            p.muted.continued {
                                "Replies to "
                                a href=(format!("/comments/{parent}")) { "a comment on the page before" }
                            }
                        }
                        @if !t.replies.is_empty() {
                            ol.replies {
                                @for r in &t.replies { li { (comment(r, viewer.as_ref(), &here, false)) } }
                            }
                        }
                    }
                }
            }
            (pager(&here, discussion))
            @if let Some(v) = &viewer {
                form.comment-form method="post" action=(format!("{here}/comments")) {
                    input type="hidden" name="csrf" value=(v.csrf());
                    label for="new-comment" { "Add a comment" }
                    textarea #new-comment name="body" rows="4" required maxlength="10000" {}
                    p.muted.hint { "Markdown: *emphasis*, **strong**, `code`, ``` code blocks ```, - lists, [links](https://…)." }
                    button type="submit" { "Comment" }
                }
            } @else {
                p { a href=(format!("/login?next={}", percent_encode(&format!("{here}#comments")))) { "Log in" } " to join the discussion." }
            }
        }
    }
}

/// Links to the previous and next pages of comments, when there are several.
fn pager(here: &str, d: &Discussion) -> Markup {
    html! {
        @if d.pages > 1 {
            nav.pager.comment-pager aria-label="Comment pages" {
                @if d.page > 0 {
                    a rel="prev" href=(format!("{}#comments", page_url(here, d.page - 1))) { "← Earlier comments" }
                    " "
                }
                span.muted { "Comments page " (d.page.saturating_add(1)) " of " (d.pages) }
                @if d.page.saturating_add(1) < d.pages {
                    " "
                    a rel="next" href=(format!("{}#comments", page_url(here, d.page + 1))) { "Later comments →" }
                }
            }
        }
    }
}

fn comment(c: &Comment, viewer: Option<&Viewer>, here: &str, top_level: bool) -> Markup {
    let mine = viewer.is_some_and(|v| v.user().id == c.author_id);
    let admin = viewer.is_some_and(|v| v.user().is_admin());
    let deleted = c.deleted_at.is_some();
    let back = format!("/comments/{}", c.id);
    html! {
        article.comment #(format!("c{}", c.id)) {
            p.comment-meta {
                a.author href=(format!("/u/{}", c.author)) { strong { (c.author) } }
                " · "
                a.permalink href=(format!("/comments/{}", c.id)) title="Link to this comment" {
                    time datetime=(c.created_at.to_rfc3339()) { (human_day(c.created_at.date_naive())) }
                }
                @if c.edited_at.is_some() && !deleted { " · edited" }
                @if c.hidden_at.is_some() { " · " span.badge { "hidden" } }
            }
            @if deleted {
                p.muted { "[deleted]" }
            } @else if c.body.is_empty() {
                p.muted { "[hidden by a moderator]" }
            } @else {
                div.comment-body { (PreEscaped(crate::markdown::render(&c.body))) }
            }
            @if let Some(v) = viewer && !deleted {
                div.comment-actions {
                    @if top_level && c.hidden_at.is_none() {
                        details {
                            summary { "reply" }
                            form.comment-form method="post" action=(format!("{here}/comments")) {
                                input type="hidden" name="csrf" value=(v.csrf());
                                input type="hidden" name="parent" value=(c.id);
                                textarea name="body" rows="3" required maxlength="10000" aria-label="Your reply" {}
                                button type="submit" { "Reply" }
                            }
                        }
                    }
                    @if mine {
                        details {
                            summary { "edit" }
                            form.comment-form method="post" action=(format!("/comments/{}/edit", c.id)) {
                                input type="hidden" name="csrf" value=(v.csrf());
                                textarea name="body" rows="4" required maxlength="10000" aria-label="Your comment" { (c.body) }
                                button type="submit" { "Save" }
                            }
                        }
                        form.inline method="post" action=(format!("/comments/{}/delete", c.id)) {
                            input type="hidden" name="csrf" value=(v.csrf());
                            input type="hidden" name="back" value=(here);
                            button.link type="submit" { "delete" }
                        }
                    }
                    @if admin {
                        form.inline method="post" action=(format!("/comments/{}/hide", c.id)) {
                            input type="hidden" name="csrf" value=(v.csrf());
                            input type="hidden" name="back" value=(back);
                            @if c.hidden_at.is_some() {
                                input type="hidden" name="hidden" value="0";
                                " " button.link type="submit" { "show" }
                            } @else {
                                input type="hidden" name="hidden" value="1";
                                " " button.link type="submit" { "hide" }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /papers/{id}/comments` (dispatched from the paper routes).
pub async fn add(st: &AppState, viewer: &Viewer, paper: &PaperId, form: Form) -> Result<Response, WebError> {
    let parent = match form.get("parent") {
        None => None,
        Some(p) => Some(CommentId(p.parse().map_err(|_| WebError::bad("parent must be a comment number"))?)),
    };
    let limit = CommentLimit { per_minute: st.config.comments_per_minute };
    let posted = comments::post(st.store.as_ref(), viewer.user(), paper, parent, form.raw("body"), limit).await?;
    Ok(see_other(&comment_url(paper, posted.page, posted.comment.id)))
}

/// `GET /comments/{cid}`: a comment's permalink, which sends the browser to
/// the page of its paper's discussion that holds it (pages move as replies
/// arrive, this link does not).
pub async fn permalink(State(st): State<AppState>, path: Result<Path<i64>, PathRejection>) -> Response {
    let result = async {
        let id = comment_id(path)?;
        let viewer = current_viewer();
        match comments::locate(st.store.as_ref(), id, viewer.as_ref().map(|v| v.user())).await? {
            Some((paper, page)) => Ok(see_other(&comment_url(&paper, page, id))),
            None => Err(WebError::NotFound(format!("There is no comment {id}."))),
        }
    };
    html_result(&st.config, result.await)
}

fn comment_id(path: Result<Path<i64>, PathRejection>) -> Result<CommentId, WebError> {
    path.map(|Path(id)| CommentId(id))
        .map_err(|_| WebError::bad("a comment is named by its number, e.g. /comments/12/edit"))
}

/// The steps the comment actions share: the comment's number from the path
/// and the form (parsed once, and its CSRF token [`crate::auth::csrf_middleware`] has
/// checked) go to `act`, which makes the change and says where to go back
/// to. The answer is a 303 there, or the error as a page.
async fn comment_action(
    st: &AppState,
    path: Result<Path<i64>, PathRejection>,
    form: Form,
    act: impl AsyncFnOnce(CommentId, Form) -> Result<String, WebError>,
) -> Response {
    let result = async {
        let id = comment_id(path)?;
        Ok(see_other(&act(id, form).await?))
    };
    html_result(&st.config, result.await)
}

/// `POST /comments/{cid}/edit` with `body`: only the author's own.
pub async fn edit(
    State(st): State<AppState>,
    CurrentUser(v): CurrentUser,
    path: Result<Path<i64>, PathRejection>,
    form: Form,
) -> Response {
    comment_action(&st, path, form, async |id, form| {
        let c = comments::edit(st.store.as_ref(), v.user(), id, form.raw("body")).await?;
        Ok(format!("/comments/{}", c.id))
    })
    .await
}

/// `POST /comments/{cid}/delete`: only the author's own.
pub async fn delete(
    State(st): State<AppState>,
    CurrentUser(v): CurrentUser,
    path: Result<Path<i64>, PathRejection>,
    form: Form,
) -> Response {
    comment_action(&st, path, form, async |id, form| {
        comments::delete(st.store.as_ref(), v.user(), id).await?;
        Ok(safe_next(form.get("back")))
    })
    .await
}

/// `POST /comments/{cid}/hide` with `hidden=1|0`: admins only.
pub async fn hide(
    State(st): State<AppState>,
    CurrentUser(v): CurrentUser,
    path: Result<Path<i64>, PathRejection>,
    form: Form,
) -> Response {
    comment_action(&st, path, form, async |id, form| {
        comments::set_hidden(st.store.as_ref(), v.user(), id, form.get("hidden") != Some("0")).await?;
        Ok(safe_next(form.get("back")))
    })
    .await
}
