//! The discussion under a paper: comments with one level of replies,
//! written in the Markdown subset of [`crate::markdown`].
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

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, PreEscaped, html};
use paperboy_core::{CommentId, PaperId};
use paperboy_services::comments;
use paperboy_store::Comment;

use crate::AppState;
use crate::auth::{CurrentUser, Form, Viewer, current_viewer, safe_next, see_other};
use crate::dates::human_day;
use crate::error::{WebError, html_result};
use crate::links::paper_path;
use crate::params::percent_encode;

/// The discussion section of a paper page.
pub fn section(paper: &PaperId, comments: &[Comment]) -> Markup {
    let viewer = current_viewer();
    let here = paper_path(paper);
    let top: Vec<&Comment> = comments.iter().filter(|c| c.parent.is_none()).collect();
    let live = comments.iter().filter(|c| c.deleted_at.is_none() && !c.body.is_empty()).count();
    html! {
        section.comments #comments aria-labelledby="comments-heading" {
            h2 #comments-heading { "Discussion" @if live > 0 { " (" (live) ")" } }
            @if top.is_empty() {
                p.muted { "No comments yet." }
            }
            ol.comment-list {
                @for c in &top {
                    li.thread {
                        (comment(c, viewer.as_ref(), &here, true))
                        @let replies: Vec<&Comment> = comments.iter().filter(|r| r.parent == Some(c.id)).collect();
                        @if !replies.is_empty() {
                            ol.replies {
                                @for r in replies { li { (comment(r, viewer.as_ref(), &here, false)) } }
                            }
                        }
                    }
                }
            }
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

fn comment(c: &Comment, viewer: Option<&Viewer>, here: &str, top_level: bool) -> Markup {
    let mine = viewer.is_some_and(|v| v.user().id == c.author_id);
    let admin = viewer.is_some_and(|v| v.user().is_admin());
    let deleted = c.deleted_at.is_some();
    let back = format!("{here}#c{}", c.id);
    html! {
        article.comment #(format!("c{}", c.id)) {
            p.comment-meta {
                a.author href=(format!("/u/{}", c.author)) { strong { (c.author) } }
                " · "
                time datetime=(c.created_at.to_rfc3339()) { (human_day(c.created_at.date_naive())) }
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
pub async fn add(st: &AppState, viewer: &Viewer, paper: &PaperId, body: &[u8]) -> Result<Response, WebError> {
    let form = Form::parse(body)?;
    let parent = match form.get("parent") {
        None => None,
        Some(p) => Some(CommentId(p.parse().map_err(|_| WebError::bad("parent must be a comment number"))?)),
    };
    let c = comments::add(st.store.as_ref(), viewer.user(), paper, parent, form.raw("body")).await?;
    Ok(see_other(&format!("{}#c{}", paper_path(paper), c.id)))
}

fn comment_id(path: Result<Path<i64>, PathRejection>) -> Result<CommentId, WebError> {
    path.map(|Path(id)| CommentId(id))
        .map_err(|_| WebError::bad("a comment is named by its number, e.g. /comments/12/edit"))
}

/// The steps the comment actions share: the comment's number from the path
/// and the form (whose CSRF token [`crate::auth::csrf_middleware`] has
/// checked) go to `act`, which makes the change and says where to go back
/// to. The answer is a 303 there, or the error as a page.
async fn comment_action(
    st: &AppState,
    path: Result<Path<i64>, PathRejection>,
    body: &[u8],
    act: impl AsyncFnOnce(CommentId, Form) -> Result<String, WebError>,
) -> Response {
    let result = async {
        let id = comment_id(path)?;
        let form = Form::parse(body)?;
        Ok(see_other(&act(id, form).await?))
    };
    html_result(&st.config, result.await)
}

/// `POST /comments/{cid}/edit` with `body`: only the author's own.
pub async fn edit(
    State(st): State<AppState>,
    CurrentUser(v): CurrentUser,
    path: Result<Path<i64>, PathRejection>,
    body: Bytes,
) -> Response {
    comment_action(&st, path, &body, async |id, form| {
        let c = comments::edit(st.store.as_ref(), v.user(), id, form.raw("body")).await?;
        Ok(format!("{}#c{}", paper_path(&c.paper_id), c.id))
    })
    .await
}

/// `POST /comments/{cid}/delete`: only the author's own.
pub async fn delete(
    State(st): State<AppState>,
    CurrentUser(v): CurrentUser,
    path: Result<Path<i64>, PathRejection>,
    body: Bytes,
) -> Response {
    comment_action(&st, path, &body, async |id, form| {
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
    body: Bytes,
) -> Response {
    comment_action(&st, path, &body, async |id, form| {
        comments::set_hidden(st.store.as_ref(), v.user(), id, form.get("hidden") != Some("0")).await?;
        Ok(safe_next(form.get("back")))
    })
    .await
}
