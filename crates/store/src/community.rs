//! The community half of the store: members, sessions, API tokens, one-time
//! email links, votes, submissions, comments, reading lists and moderation.
//!
//! It is its own trait, [`Community`], beside the catalog's [`crate::Store`],
//! so that catalog-only backends (and test doubles) keep working; a backend
//! that does both is a [`Database`], and the web layer holds an
//! `Arc<dyn Database>`.
//!
//! Rules every method keeps:
//! * Secrets (session, API and email tokens) are generated here from the
//!   operating system's CSPRNG and returned once; only their SHA-256 hashes
//!   are stored, so a copy of the database opens no accounts.
//! * Sessions and API tokens of a suspended member are refused by the lookups,
//!   and suspending deletes the member's sessions.
//! * Hidden papers and comments are left out for [`Audience::Public`] and shown
//!   to [`Audience::Admin`]. Who is an admin is the caller's check: the store
//!   trusts `Audience::Admin` and the moderation methods (the command line
//!   calls them as the operator, without a member).
//! * Ownership is checked here, in the same statement as the change: editing
//!   or deleting a comment by anyone but its author is
//!   [`StoreError::NotCommentAuthor`]; a token belongs to the member passed in.
//! * A paper's `upvotes` always equals its rows in the votes table: every vote
//!   change updates both in one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::{ApiTokenId, CommentId, Email, Paper, PaperId, Role, UserId, Username};
use serde::Serialize;

use crate::{FeedPage, FeedQuery, Store, StoreError, StoredPaper};

/// A member's account, without the password hash (see [`Community::password_hash`]).
/// Not `Serialize` on purpose: it holds the private email address; public
/// pages use [`Profile`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub username: Username,
    pub email: Email,
    pub role: Role,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub suspended_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.role.is_admin()
    }

    pub fn is_suspended(&self) -> bool {
        self.suspended_at.is_some()
    }

    pub fn is_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }
}

/// What sign-up (or `paperboy admin create-user`) hands the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub username: Username,
    pub email: Email,
    /// The argon2id hash in PHC string form (`$argon2id$v=19$...`), made by
    /// the caller; the store never sees the password.
    pub password_hash: String,
    pub role: Role,
    /// Accounts made by the operator may start verified.
    pub email_verified: bool,
}

/// A freshly made secret, returned once. Only its hash is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl Secret {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// A new login session: `token` goes into the session cookie, `csrf_token`
/// into the forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub token: Secret,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// A live session, found by its cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A personal API token as its owner sees it in their settings (the secret
/// itself is shown once, by [`Community::create_api_token`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What a one-time email link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailPurpose {
    /// Confirms the address the link was sent to.
    Verify,
    /// Lets the member choose a new password.
    Reset,
}

impl EmailPurpose {
    pub fn as_str(&self) -> &'static str {
        match self {
            EmailPurpose::Verify => "verify",
            EmailPurpose::Reset => "reset",
        }
    }
}

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

/// Members, their credentials, and everything they do with papers.
#[async_trait]
pub trait Community: Send + Sync + 'static {
    // --- Accounts ---------------------------------------------------------

    /// Creates an account. A username or email address already in use
    /// (ignoring case) is [`StoreError::UsernameTaken`] or
    /// [`StoreError::EmailTaken`]; the username is checked first.
    async fn create_user(&self, new: &NewUser) -> Result<User, StoreError>;

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>, StoreError>;

    /// By username, ignoring case.
    async fn user_by_username(&self, username: &Username) -> Result<Option<User>, StoreError>;

    /// By email address, ignoring case.
    async fn user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError>;

    /// The member's argon2id hash, for checking a password at login.
    async fn password_hash(&self, id: UserId) -> Result<Option<String>, StoreError>;

    /// Replaces the password hash. Sessions are left alone: call
    /// [`Community::delete_user_sessions`] to log out everywhere.
    async fn set_password(&self, id: UserId, password_hash: &str) -> Result<(), StoreError>;

    /// Changes the email address and marks it unverified again;
    /// [`StoreError::EmailTaken`] when another account has it.
    async fn set_email(&self, id: UserId, email: &Email) -> Result<User, StoreError>;

    /// Marks the address verified (keeps the first verification time).
    async fn mark_email_verified(&self, id: UserId) -> Result<(), StoreError>;

    /// Makes a member an admin or takes it back.
    async fn set_role(&self, id: UserId, role: Role) -> Result<(), StoreError>;

    /// Suspends a member (deleting their sessions) or lifts the suspension.
    async fn set_suspended(&self, id: UserId, suspended: bool) -> Result<(), StoreError>;

    // --- Sessions ---------------------------------------------------------

    /// Starts a session for `user` that ends at `expires_at`, with a new
    /// random token and CSRF token. Call it at every login (new id each time).
    async fn create_session(&self, user: UserId, expires_at: DateTime<Utc>) -> Result<NewSession, StoreError>;

    /// The session whose cookie holds `token`; `None` when unknown, expired,
    /// or the member is suspended.
    async fn session(&self, token: &str) -> Result<Option<Session>, StoreError>;

    /// Ends one session (logout); `false` when there was none.
    async fn delete_session(&self, token: &str) -> Result<bool, StoreError>;

    /// Ends every session of a member; returns how many there were.
    async fn delete_user_sessions(&self, user: UserId) -> Result<u64, StoreError>;

    /// Removes expired sessions and email links; returns how many rows went.
    async fn purge_expired(&self) -> Result<u64, StoreError>;

    // --- Personal API tokens ----------------------------------------------

    /// A new token named `name` (see [`paperboy_core::member::token_name`]);
    /// the secret (`pb_` and 64 hex digits) is returned once.
    async fn create_api_token(&self, user: UserId, name: &str) -> Result<(ApiToken, Secret), StoreError>;

    /// A member's tokens, newest first, revoked ones included.
    async fn api_tokens(&self, user: UserId) -> Result<Vec<ApiToken>, StoreError>;

    /// Revokes one of `user`'s own tokens; `false` when `user` has no such
    /// live token (someone else's token is never touched).
    async fn revoke_api_token(&self, user: UserId, token: ApiTokenId) -> Result<bool, StoreError>;

    /// The member a bearer token belongs to, recording its use; `None` when
    /// unknown, revoked, or the member is suspended.
    async fn api_token_user(&self, secret: &str) -> Result<Option<User>, StoreError>;

    // --- One-time email links ---------------------------------------------

    /// A link secret for `purpose`, valid until `expires_at` and usable once.
    /// A verification link is bound to the member's current address.
    async fn create_email_token(
        &self,
        user: UserId,
        purpose: EmailPurpose,
        expires_at: DateTime<Utc>,
    ) -> Result<Secret, StoreError>;

    /// Uses a link: [`StoreError::TokenUnknown`] (also for the wrong purpose),
    /// [`StoreError::TokenExpired`] or [`StoreError::TokenUsed`], else the
    /// member, after marking the link used. A `Verify` link also marks the
    /// address verified, in the same transaction, if the member's address is
    /// still the one it was sent to (else `TokenUnknown`). For `Reset`, the
    /// caller then sets the password.
    async fn consume_email_token(&self, secret: &str, purpose: EmailPurpose) -> Result<User, StoreError>;

    // --- Votes and submissions --------------------------------------------

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

    // --- Comments ---------------------------------------------------------

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

    /// Hides a comment from the public or shows it again (moderation).
    async fn set_comment_hidden(&self, comment: CommentId, hidden: bool) -> Result<(), StoreError>;

    /// A paper's discussion, oldest first (replies after their parent's
    /// earlier siblings; group them by `parent`).
    async fn comments(&self, paper: &PaperId, audience: Audience) -> Result<Vec<Comment>, StoreError>;

    /// How many live, visible comments each paper has (for lists).
    async fn comment_counts(&self, papers: &[PaperId]) -> Result<Vec<(PaperId, u64)>, StoreError>;

    // --- Reading list -----------------------------------------------------

    /// Adds a paper to the member's private reading list; `false` if it was there.
    async fn add_to_reading_list(&self, user: UserId, paper: &PaperId) -> Result<bool, StoreError>;

    /// Removes it; `false` if it was not there.
    async fn remove_from_reading_list(&self, user: UserId, paper: &PaperId) -> Result<bool, StoreError>;

    /// The reading list, most recently added first (hidden papers left out).
    async fn reading_list(&self, user: UserId) -> Result<Vec<ReadingListEntry>, StoreError>;

    // --- Profiles ---------------------------------------------------------

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

    // --- Papers as an audience sees them ----------------------------------

    /// [`Store::get_paper`] for `audience`: admins also get hidden papers.
    async fn paper_for(&self, id: &PaperId, audience: Audience) -> Result<Option<StoredPaper>, StoreError>;

    /// [`Store::feed`] for `audience`, ranked at `now` (`trending` depends on it).
    async fn feed_for(&self, query: &FeedQuery, audience: Audience, now: DateTime<Utc>)
    -> Result<FeedPage, StoreError>;

    /// Hides a paper from feeds, lookups, search and lists, or shows it again.
    /// [`StoreError::PaperNotFound`] for an unknown id.
    async fn set_paper_hidden(&self, paper: &PaperId, hidden: bool) -> Result<(), StoreError>;
}

/// A backend that keeps the catalog, the community, the mail, the harvest
/// log and the coordination between processes.
pub trait Database: Store + Community + crate::Mailing + crate::Harvests + crate::Coordination {}

impl<T: Store + Community + crate::Mailing + crate::Harvests + crate::Coordination> Database for T {}
