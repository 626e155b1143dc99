//! [`Moderation`]: what admins (and the operator, from the command line) do:
//! roles, suspensions, hiding papers and comments, and seeing the catalog
//! as an admin does ([`Audience::Admin`]).
//!
//! Who is an admin is the caller's check: the store trusts
//! `Audience::Admin` and these methods. Hidden papers leave public feeds,
//! lookups and the change feed (so search drops them); admins still see them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::{CommentId, PaperId, Role, UserId};

use crate::{FeedPage, FeedQuery, StoreError, StoredPaper};

/// Who is looking at papers and comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Audience {
    /// Everyone, members and admins browsing as members: hidden papers are
    /// left out, hidden comments come back without their text.
    #[default]
    Public,
    /// An admin: hidden things are shown, with their `hidden_at`.
    Admin,
}

impl Audience {
    /// The audience of a member of `role`.
    pub fn of(role: Role) -> Self {
        if role.is_admin() { Audience::Admin } else { Audience::Public }
    }
}

/// Roles, suspensions, hiding, and the admin's view of the catalog.
#[async_trait]
pub trait Moderation: Send + Sync + 'static {
    /// Makes a member an admin or takes it back.
    async fn set_role(&self, id: UserId, role: Role) -> Result<(), StoreError>;

    /// Suspends a member (deleting their sessions) or lifts the suspension.
    async fn set_suspended(&self, id: UserId, suspended: bool) -> Result<(), StoreError>;

    /// Hides a comment from the public or shows it again (moderation).
    async fn set_comment_hidden(&self, comment: CommentId, hidden: bool) -> Result<(), StoreError>;

    /// [`Catalog::get_paper`](crate::Catalog::get_paper) for `audience`: admins also get hidden papers.
    async fn paper_for(&self, id: &PaperId, audience: Audience) -> Result<Option<StoredPaper>, StoreError>;

    /// [`Catalog::feed`](crate::Catalog::feed) for `audience`, ranked at `now` (`trending` depends on it).
    async fn feed_for(&self, query: &FeedQuery, audience: Audience, now: DateTime<Utc>)
    -> Result<FeedPage, StoreError>;

    /// Hides a paper from feeds, lookups, search and lists, or shows it again.
    /// [`StoreError::PaperNotFound`] for an unknown id.
    async fn set_paper_hidden(&self, paper: &PaperId, hidden: bool) -> Result<(), StoreError>;
}
