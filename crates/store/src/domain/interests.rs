//! [`Interests`]: what a member tells Paperboy about their taste, the input
//! of their recommendations (docs/RECOMMENDATIONS.md).
//!
//! Positive signals are upvotes and reading-list saves (kept by
//! [`crate::Community`]) and an imported library (BibTeX or RIS entries,
//! here); the negative signal is "not for me" on a paper; a member can also
//! follow authors and categories. [`Interests::interest_profile`] gathers it
//! all in one call.
//!
//! Rules every backend keeps:
//! * **Private.** Every method takes the member it is about; nothing here is
//!   ever returned for another member, and no public page reads it.
//! * A "not for me" paper and an upvote or save of the same paper may both
//!   exist; the recommender treats the latest as the member's word
//!   (`InterestProfile` carries the times).
//! * A library entry matched to a catalog paper (by arXiv id, DOI or exact
//!   title, in that order) keeps its own text as well, so clearing or hiding
//!   the paper never loses what the member uploaded.
//! * Clearing ([`Interests::clear_interests`]) is one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::{Paper, PaperId, UserId};
use serde::Serialize;

use crate::{Secret, StoreError, StoredPaper};

/// Why a paper counts as liked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LikeSource {
    Upvote,
    ReadingList,
    Library,
}

/// A catalog paper the member likes, with the latest time they said so.
#[derive(Debug, Clone, PartialEq)]
pub struct LikedPaper {
    pub paper: Paper,
    pub source: LikeSource,
    pub at: DateTime<Utc>,
}

/// Where an imported entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LibraryFormat {
    Bibtex,
    Ris,
}

impl LibraryFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            LibraryFormat::Bibtex => "bibtex",
            LibraryFormat::Ris => "ris",
        }
    }
}

/// One entry of an uploaded library, as parsed (see `paperboy_ingest::library`).
/// `title` is required; everything else is optional.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewLibraryEntry {
    /// The citation key (BibTeX) or the `ID` tag (RIS), if any.
    pub key: Option<String>,
    pub title: String,
    pub abstract_text: Option<String>,
    pub authors: Vec<String>,
    pub year: Option<i32>,
    /// Canonical arXiv id (`2401.01234`, `hep-th/9901001`), if the entry names one.
    pub arxiv_id: Option<PaperId>,
    /// Lower-cased DOI without a resolver prefix (`10.1145/3292500.3330701`).
    pub doi: Option<String>,
}

/// A stored library entry and the catalog paper it matched, if any.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LibraryEntry {
    pub id: i64,
    pub format: LibraryFormat,
    pub key: Option<String>,
    pub title: String,
    pub abstract_text: Option<String>,
    pub authors: Vec<String>,
    pub year: Option<i32>,
    pub arxiv_id: Option<String>,
    pub doi: Option<String>,
    /// The catalog paper it matched (not hidden), if any.
    pub paper: Option<PaperId>,
    /// How it matched: `arxiv_id`, `doi` or `title`.
    pub matched_by: Option<String>,
    pub added_at: DateTime<Utc>,
}

/// What [`Interests::import_library`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LibraryImport {
    /// Entries stored.
    pub added: u32,
    /// Of those, entries matched to a catalog paper.
    pub matched: u32,
    /// Entries skipped because the member's library already had them (same
    /// arXiv id, DOI, or title).
    pub duplicates: u32,
}

/// A library entry not in the catalog: it still counts through its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryText {
    pub entry: i64,
    pub title: String,
    pub abstract_text: String,
    pub authors: Vec<String>,
}

/// Everything the recommender needs about one member, in one read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InterestProfile {
    /// Upvoted, saved and library-matched catalog papers (one row per paper,
    /// with its most recent source and time), most recent first, at most
    /// the `limit` given. Hidden papers are left out.
    pub liked: Vec<LikedPaper>,
    /// Library entries that matched no catalog paper, most recent first (at
    /// most `limit`).
    pub library_texts: Vec<LibraryText>,
    /// Papers marked "not for me", with when, most recent first.
    pub not_for_me: Vec<(Paper, DateTime<Utc>)>,
    /// Followed author names as the member typed them, in the order followed.
    pub authors: Vec<String>,
    /// Followed categories (`cs.CL`), in the order followed.
    pub categories: Vec<String>,
}

impl InterestProfile {
    /// No signal at all: the member sees the cold-start page.
    pub fn is_empty(&self) -> bool {
        self.liked.is_empty() && self.library_texts.is_empty() && self.authors.is_empty() && self.categories.is_empty()
    }
}

/// What [`Interests::clear_interests`] removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InterestKind {
    NotForMe,
    Authors,
    Categories,
    Library,
    /// All of the above (upvotes and the reading list are the member's
    /// public and private lists; they are cleared from their own pages).
    Everything,
}

/// The most authors or categories a member may follow.
pub const MAX_FOLLOWS: usize = 200;
/// The most entries a member's library may hold.
pub const MAX_LIBRARY_ENTRIES: usize = 5_000;

/// A member's own signals for recommendations, and their private feed secret.
#[async_trait]
pub trait Interests: Send + Sync + 'static {
    /// The member's signals, each list at most `limit` long.
    async fn interest_profile(&self, user: UserId, limit: u32) -> Result<InterestProfile, StoreError>;

    /// Marks (`on`) or unmarks a paper "not for me". Idempotent.
    /// [`StoreError::PaperNotFound`] for unknown or hidden papers.
    async fn set_not_for_me(
        &self,
        user: UserId,
        paper: &PaperId,
        on: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// The member's "not for me" papers, most recent first (for their
    /// settings page; hidden papers left out).
    async fn not_for_me_papers(&self, user: UserId, limit: u32, offset: u32) -> Result<Vec<StoredPaper>, StoreError>;

    /// Which of `papers` the member marked "not for me" (for rendering cards).
    async fn not_for_me_among(&self, user: UserId, papers: &[PaperId]) -> Result<Vec<PaperId>, StoreError>;

    /// Follows (`on`) or unfollows an author, compared case- and
    /// space-insensitively. Over [`MAX_FOLLOWS`] is [`StoreError::TooMany`].
    async fn follow_author(&self, user: UserId, name: &str, on: bool, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Follows (`on`) or unfollows a category (validated by the caller).
    /// Over [`MAX_FOLLOWS`] is [`StoreError::TooMany`].
    async fn follow_category(
        &self,
        user: UserId,
        category: &str,
        on: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Stores parsed library entries, matching each to a catalog paper by
    /// arXiv id, then DOI, then exact title (case- and space-insensitive);
    /// entries the library already has are counted as duplicates. One
    /// transaction; over [`MAX_LIBRARY_ENTRIES`] in total is
    /// [`StoreError::TooMany`] and stores nothing.
    async fn import_library(
        &self,
        user: UserId,
        format: LibraryFormat,
        entries: &[NewLibraryEntry],
        now: DateTime<Utc>,
    ) -> Result<LibraryImport, StoreError>;

    /// The member's library, most recent first.
    async fn library(&self, user: UserId, limit: u32, offset: u32) -> Result<Vec<LibraryEntry>, StoreError>;

    /// Removes one entry of the member's own library; false if it was not theirs.
    async fn remove_library_entry(&self, user: UserId, entry: i64) -> Result<bool, StoreError>;

    /// Clears one kind of signal (or all of them) for the member.
    async fn clear_interests(&self, user: UserId, kind: InterestKind) -> Result<(), StoreError>;

    /// Makes a new secret for the member's private recommendations feed,
    /// replacing (and so revoking) the old one. Only its hash is stored.
    async fn rotate_feed_secret(&self, user: UserId, now: DateTime<Utc>) -> Result<Secret, StoreError>;

    /// Whether the member has a feed secret (the settings page says so; the
    /// secret itself is shown only when made).
    async fn has_feed_secret(&self, user: UserId) -> Result<bool, StoreError>;

    /// The member a feed secret belongs to; `None` for unknown or rotated
    /// secrets and for suspended members.
    async fn feed_secret_user(&self, secret: &str) -> Result<Option<UserId>, StoreError>;
}
