//! The discussion under a paper: comments with one level of replies.
//!
//! Members add comments and replies, and edit or delete their own: the
//! store checks authorship in the same statement as the change, so nobody
//! can change someone else's comment. Admins hide or show any comment
//! ([`set_hidden`] checks the role). Who sees what is the viewer's
//! [`Audience`]: hidden comments are blanked for everyone but admins.

use paperboy_core::{CommentId, PaperId};
use paperboy_store::{Audience, Comment, Community, Moderation, StoreError, User};
use thiserror::Error;

/// Why a comment action was refused or failed.
#[derive(Debug, Error)]
pub enum CommentError {
    /// A member who is not an admin tried to hide or show a comment.
    #[error("only admins can hide comments")]
    NotAdmin,
    /// The store refused (someone else's comment, a bad reply) or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The comments of `paper` as `viewer` (`None`: a visitor) may see them.
pub async fn visible(db: &dyn Community, paper: &PaperId, viewer: Option<&User>) -> Result<Vec<Comment>, StoreError> {
    let audience = viewer.map(|u| Audience::of(u.role)).unwrap_or_default();
    db.comments(paper, audience).await
}

/// `author` comments on `paper`, or replies to `parent`.
pub async fn add(
    db: &dyn Community,
    author: &User,
    paper: &PaperId,
    parent: Option<CommentId>,
    body: &str,
) -> Result<Comment, CommentError> {
    Ok(db.add_comment(author.id, paper, parent, body).await?)
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
