//! [`Community`]: what members do with papers: votes, submissions,
//! comments, reading lists, and their public profiles.
//!
//! Rules every backend keeps:
//! * A paper's `upvotes` always equals its rows in the votes table: every vote
//!   change updates both in one transaction, so concurrent toggles never lose
//!   or double-count a vote.
//! * Ownership is checked in the same statement as the change: editing or
//!   deleting a comment by anyone but its author is
//!   [`StoreError::NotCommentAuthor`].
//! * Hidden papers and comments are left out for [`Audience::Public`] (see
//!   [`crate::Moderation`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::{CommentId, Paper, PaperId, Role, UserId, Username};
use serde::Serialize;

use crate::{Audience, FeedPage, StoreError, StoredPaper};

/// Whether the member now upvotes the paper, and its new count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Vote {
    pub voted: bool,
    pub upvotes: i64,
}

/// What [`Community::submit_paper`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmitOutcome {
    /// The paper was new: it is listed today with the member as submitter.
    Submitted,
    /// The paper was listed already: the member's upvote was added instead.
    AlreadyListed,
}

/// The result of a submission: what happened and the paper's vote state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Submission {
    pub outcome: SubmitOutcome,
    pub vote: Vote,
}

/// One comment on a paper. A reply has a `parent`, which is always a
/// top-level comment (one level of replies).
///
/// A deleted comment keeps its place (so replies keep their context) with
/// an empty `body` for everyone. A hidden comment has an empty `body` for the
/// public audience and its text for admins; both see its `hidden_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comment {
    pub id: CommentId,
    pub paper_id: PaperId,
    pub author_id: UserId,
    pub author: Username,
    pub parent: Option<CommentId>,
    /// The Markdown source as written; render it with escaping.
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub hidden_at: Option<DateTime<Utc>>,
}

/// One page of a paper's discussion ([`Community::comment_page`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CommentPage {
    /// In thread order: each top-level comment followed by its replies,
    /// oldest first. The first may be a reply whose parent ends the page
    /// before (a long thread spans pages).
    pub comments: Vec<Comment>,
    /// All the comments of the discussion in this order (deleted and hidden
    /// ones keep their place): what the pages count.
    pub total: u64,
    /// The ones with text for this audience (not deleted; not hidden, unless
    /// the audience is admins): the count a reader is told.
    pub live: u64,
}

/// A paper on a member's reading list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadingListEntry {
    #[serde(flatten)]
    pub paper: StoredPaper,
    pub added_at: DateTime<Utc>,
}

/// Which of a member's papers a profile lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberPapers {
    /// Papers the member submitted, most recent submission first.
    Submitted,
    /// Papers the member upvotes, most recent vote first.
    Upvoted,
}

/// The counts on a member's public page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub username: Username,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
    pub suspended: bool,
    pub submissions: u64,
    pub upvotes: u64,
    pub comments: u64,
}

/// Votes, submissions, comments, reading lists and profiles.
#[async_trait]
pub trait Community: Send + Sync + 'static {
    /// Adds the member's upvote, or takes it back if there was one.
    /// Atomic: concurrent toggles never lose or double-count a vote.
    /// [`StoreError::PaperNotFound`] for unknown or hidden papers.
    async fn toggle_vote(&self, user: UserId, paper: &PaperId) -> Result<Vote, StoreError>;

    /// Sets the member's vote to `voted` (idempotent; for the API's PUT and DELETE).
    async fn set_vote(&self, user: UserId, paper: &PaperId, voted: bool) -> Result<Vote, StoreError>;

    /// Which of `papers` the member upvotes (for rendering a list's arrows).
    async fn voted_among(&self, user: UserId, papers: &[PaperId]) -> Result<Vec<PaperId>, StoreError>;

    /// A member submits `paper` (already fetched from arXiv). A paper the
    /// catalog lacks is inserted, listed on the day of `now` (its
    /// `listed_on` is overwritten), recorded as the member's submission and
    /// upvoted by them; a paper already listed (by id, or by title for a
    /// local one) is upvoted instead, its metadata updated by the usual
    /// upsert rules. One transaction. The paper is normalised and validated
    /// here; the recency window is the caller's check. A hidden paper is
    /// [`StoreError::PaperNotFound`].
    async fn submit_paper(&self, user: UserId, paper: &Paper, now: DateTime<Utc>) -> Result<Submission, StoreError>;

    /// Adds a comment (see [`paperboy_core::member::comment_body`]), or a
    /// reply when `parent` is given: the parent must be a live top-level
    /// comment on the same paper, else [`StoreError::BadReply`].
    async fn add_comment(
        &self,
        author: UserId,
        paper: &PaperId,
        parent: Option<CommentId>,
        body: &str,
    ) -> Result<Comment, StoreError>;

    /// Replaces the text of the author's own comment.
    async fn edit_comment(&self, author: UserId, comment: CommentId, body: &str) -> Result<Comment, StoreError>;

    /// Deletes the author's own comment: its text is erased, its place kept.
    async fn delete_comment(&self, author: UserId, comment: CommentId) -> Result<(), StoreError>;

    /// A paper's discussion, oldest first (replies after their parent's
    /// earlier siblings; group them by `parent`).
    async fn comments(&self, paper: &PaperId, audience: Audience) -> Result<Vec<Comment>, StoreError>;

    /// Rows `offset..offset + limit` of a paper's discussion in thread order
    /// (each top-level comment, then its replies; oldest first), paged in
    /// SQL, with the counts of the whole discussion. Empty for a paper the
    /// audience may not see.
    async fn comment_page(
        &self,
        paper: &PaperId,
        audience: Audience,
        offset: u32,
        limit: u32,
    ) -> Result<CommentPage, StoreError>;

    /// The paper of comment `id` and the comment's row in its discussion's
    /// thread order (what [`Community::comment_page`] pages), for links
    /// that land on the page holding it; `None` for an unknown comment or
    /// one on a paper the audience may not see.
    async fn comment_position(&self, id: CommentId, audience: Audience) -> Result<Option<(PaperId, u64)>, StoreError>;

    /// How many comments and replies `author` wrote at or after `since`
    /// (deleted ones included), and when the earliest of them was written:
    /// what a per-member comment limit counts.
    async fn comments_since(
        &self,
        author: UserId,
        since: DateTime<Utc>,
    ) -> Result<(u64, Option<DateTime<Utc>>), StoreError>;

    /// How many live, visible comments each paper has (for lists).
    async fn comment_counts(&self, papers: &[PaperId]) -> Result<Vec<(PaperId, u64)>, StoreError>;

    /// Adds a paper to the member's private reading list; `false` if it was there.
    async fn add_to_reading_list(&self, user: UserId, paper: &PaperId) -> Result<bool, StoreError>;

    /// Removes it; `false` if it was not there.
    async fn remove_from_reading_list(&self, user: UserId, paper: &PaperId) -> Result<bool, StoreError>;

    /// The reading list, most recently added first (hidden papers left out).
    async fn reading_list(&self, user: UserId) -> Result<Vec<ReadingListEntry>, StoreError>;

    /// The counts for a member's page; `None` for an unknown username.
    async fn profile(&self, username: &Username) -> Result<Option<Profile>, StoreError>;

    /// A page of the member's submissions or upvotes (hidden papers left out).
    async fn member_papers(
        &self,
        user: UserId,
        which: MemberPapers,
        offset: u32,
        limit: u32,
    ) -> Result<FeedPage, StoreError>;
}
