//! The discussion under a paper: comments with one level of replies.
//!
//! Members add comments and replies, and edit or delete their own: the
//! store checks authorship in the same statement as the change, so nobody
//! can change someone else's comment. Admins hide or show any comment
//! ([`set_hidden`] checks the role). Who sees what is the viewer's
//! [`Audience`]: hidden comments are blanked for everyone but admins.
//!
//! A discussion is read a page at a time ([`discussion`]: at most
//! [`PAGE_SIZE`] comments, in thread order, paged by the store), so a paper
//! with thousands of comments is as quick to show as one with ten; a link to
//! one comment finds its page ([`locate`]). A member may write at most a
//! configured number of comments per minute ([`CommentLimit`]), counted in
//! the database so that the limit holds across servers.

use chrono::{DateTime, Duration, Utc};
use paperboy_core::{CommentId, PaperId};
use paperboy_store::{Audience, Comment, Community, Moderation, StoreError, User};
use thiserror::Error;

/// Comments on one page of a discussion (replies count as comments).
pub const PAGE_SIZE: u32 = 100;

/// The window [`CommentLimit::per_minute`] counts in.
const WINDOW_SECONDS: i64 = 60;

/// Why a comment action was refused or failed.
#[derive(Debug, Error)]
pub enum CommentError {
    /// A member who is not an admin tried to hide or show a comment.
    #[error("only admins can hide comments")]
    NotAdmin,
    /// The member wrote [`CommentLimit::per_minute`] comments in the last
    /// minute; the next one is accepted after `retry_after` seconds.
    #[error(
        "you have posted {limit} comments in the last minute, the most this site takes: wait {retry_after} \
         seconds and post again (your text was not saved, so keep a copy)"
    )]
    TooMany { limit: u32, retry_after: u64 },
    /// The store refused (someone else's comment, a bad reply) or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How many comments a member may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommentLimit {
    /// Comments and replies per member per minute; 0 turns the limit off.
    pub per_minute: u32,
}

impl CommentLimit {
    /// The site's default: 5 a minute.
    pub const DEFAULT: CommentLimit = CommentLimit { per_minute: 5 };
}

impl Default for CommentLimit {
    fn default() -> Self {
        CommentLimit::DEFAULT
    }
}

/// One page of a paper's discussion as a viewer may see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discussion {
    /// At most [`PAGE_SIZE`] comments in thread order: each top-level comment
    /// followed by its replies. The first may be a reply to a comment on the
    /// page before.
    pub comments: Vec<Comment>,
    /// This page, counted from 0.
    pub page: u32,
    /// How many pages the discussion has (at least 1).
    pub pages: u32,
    /// Comments with text for this viewer, on all pages.
    pub live: u64,
}

/// The comments of `paper` as `viewer` (`None`: a visitor) may see them,
/// all at once (tests and tools; pages use [`discussion`]).
pub async fn visible(db: &dyn Community, paper: &PaperId, viewer: Option<&User>) -> Result<Vec<Comment>, StoreError> {
    db.comments(paper, audience_of(viewer)).await
}

/// Page `page` (from 0) of the discussion of `paper` as `viewer` may see it;
/// a page past the last is empty (its `pages` says how many there are).
pub async fn discussion(
    db: &dyn Community,
    paper: &PaperId,
    viewer: Option<&User>,
    page: u32,
) -> Result<Discussion, StoreError> {
    let offset = page.saturating_mul(PAGE_SIZE);
    let found = db.comment_page(paper, audience_of(viewer), offset, PAGE_SIZE).await?;
    let pages = found.total.div_ceil(u64::from(PAGE_SIZE)).max(1);
    Ok(Discussion { comments: found.comments, page, pages: u32::try_from(pages).unwrap_or(u32::MAX), live: found.live })
}

/// The paper of comment `id` and the page of its discussion that holds it,
/// for `viewer`; `None` when there is no such comment for them.
pub async fn locate(
    db: &dyn Community,
    id: CommentId,
    viewer: Option<&User>,
) -> Result<Option<(PaperId, u32)>, StoreError> {
    let found = db.comment_position(id, audience_of(viewer)).await?;
    Ok(found.map(|(paper, row)| (paper, u32::try_from(row / u64::from(PAGE_SIZE)).unwrap_or(u32::MAX))))
}

/// `author` comments on `paper`, or replies to `parent`, unless they have
/// reached `limit` in the last minute ([`CommentError::TooMany`]).
pub async fn add(
    db: &dyn Community,
    author: &User,
    paper: &PaperId,
    parent: Option<CommentId>,
    body: &str,
    limit: CommentLimit,
) -> Result<Comment, CommentError> {
    if limit.per_minute > 0 {
        let now = Utc::now();
        let (written, earliest) = db.comments_since(author.id, now - Duration::seconds(WINDOW_SECONDS)).await?;
        if written >= u64::from(limit.per_minute) {
            let retry_after = seconds_until_free(earliest.unwrap_or(now), now);
            return Err(CommentError::TooMany { limit: limit.per_minute, retry_after });
        }
    }
    Ok(db.add_comment(author.id, paper, parent, body).await?)
}

/// A comment just added and the page of its discussion that shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub comment: Comment,
    /// Counted from 0, as [`discussion`] takes it.
    pub page: u32,
}

/// [`add`], and where the new comment is shown (for the author's
/// browser, which goes there next).
pub async fn post(
    db: &dyn Community,
    author: &User,
    paper: &PaperId,
    parent: Option<CommentId>,
    body: &str,
    limit: CommentLimit,
) -> Result<Posted, CommentError> {
    let comment = add(db, author, paper, parent, body, limit).await?;
    let page = locate(db, comment.id, Some(author)).await?.map(|(_, page)| page).unwrap_or(0);
    Ok(Posted { comment, page })
}

/// Whole seconds until the window that began with `earliest` has passed
/// (1 to 60: a client told 0 would retry at once).
fn seconds_until_free(earliest: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    let left = earliest + Duration::seconds(WINDOW_SECONDS) - now;
    let secs = (left.num_milliseconds().max(0) + 999) / 1000;
    secs.clamp(1, WINDOW_SECONDS) as u64
}

/// `author` edits their own comment `id`.
pub async fn edit(db: &dyn Community, author: &User, id: CommentId, body: &str) -> Result<Comment, CommentError> {
    Ok(db.edit_comment(author.id, id, body).await?)
}

/// `author` deletes their own comment `id` (it stays as "[deleted]" under
/// its replies).
pub async fn delete(db: &dyn Community, author: &User, id: CommentId) -> Result<(), CommentError> {
    Ok(db.delete_comment(author.id, id).await?)
}

/// An admin hides (`hidden`) or shows comment `id`; anyone else is refused.
pub async fn set_hidden(db: &dyn Moderation, admin: &User, id: CommentId, hidden: bool) -> Result<(), CommentError> {
    if !admin.is_admin() {
        return Err(CommentError::NotAdmin);
    }
    db.set_comment_hidden(id, hidden).await?;
    tracing::info!(admin = %admin.username, comment = %id, hidden, "comment moderation");
    Ok(())
}

fn audience_of(viewer: Option<&User>) -> Audience {
    viewer.map(|u| Audience::of(u.role)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_the_rest_of_the_window_rounded_up() {
        let now = Utc::now();
        assert_eq!(seconds_until_free(now, now), 60);
        assert_eq!(seconds_until_free(now - Duration::milliseconds(59_500), now), 1);
        assert_eq!(seconds_until_free(now - Duration::seconds(20), now), 40);
        assert_eq!(seconds_until_free(now - Duration::seconds(90), now), 1);
    }
}
