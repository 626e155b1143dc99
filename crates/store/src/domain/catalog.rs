//! [`Catalog`]: the papers, as imported, harvested and submitted: upserts
//! (one by one and in bulk, [`PaperBatch`]), lookups, feeds and the change
//! feed that search indexes follow; and the values that cross it.
//!
//! The upsert rules (every backend keeps them): an upsert never regresses (an
//! older version or identical content is `Unchanged`); an update keeps the
//! paper's row, its feed day and all that is attached to it; an arXiv paper
//! with the title of a local paper takes that row over (`Merged`). Every
//! change is appended to the change feed in the same transaction.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use paperboy_core::{FeedSort, Paper, PaperId, Username};
use serde::Serialize;

use crate::{PaperBatch, StoreError};

/// What an upsert did with one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UpsertOutcome {
    Inserted,
    Updated,
    /// An arXiv record took over a local paper with the same title.
    Merged,
    Unchanged,
}

/// A paper as stored, with what the community added to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredPaper {
    #[serde(flatten)]
    pub paper: Paper,
    pub upvotes: i64,
    /// The member who submitted the paper; `None` for imported papers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submitted_by: Option<Username>,
    /// When an admin hid the paper; only ever set in what admins are shown
    /// (see [`crate::Audience`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden_at: Option<DateTime<Utc>>,
    /// What the outside world says of the paper (GitHub, Hugging Face, a
    /// recorded source page); all `None` until a signal job has seen it.
    #[serde(skip_serializing_if = "PaperSignals::is_empty")]
    pub signals: PaperSignals,
}

/// A paper's external trending signals as last recorded (issue 15,
/// docs/RANKING.md "Trending signals"). Every field is `None` when its source
/// has not reported on the paper.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaperSignals {
    /// The paper's GitHub repository, `owner/name` as GitHub spells it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub github_repo: Option<String>,
    /// The repository's stars at the last observation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub github_stars: Option<u64>,
    /// Stars the repository gained in the 7 days before `observed_at`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stars_this_week: Option<i64>,
    /// Upvotes on Hugging Face Papers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hf_upvotes: Option<u64>,
    /// Comments on Hugging Face Papers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hf_comments: Option<u64>,
    /// The paper's rank on a recorded source page (the seed trending page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_rank: Option<SourceRank>,
    /// When any of the above was last recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_at: Option<DateTime<Utc>>,
}

impl PaperSignals {
    /// No source has reported on the paper.
    pub fn is_empty(&self) -> bool {
        *self == PaperSignals::default()
    }
}

/// A paper's place on a recorded page, shown as such ("#3 on Trending
/// Papers, 2026-03-11").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceRank {
    /// The page's name, e.g. `Trending Papers`.
    pub page: String,
    /// 1 for the first paper.
    pub rank: u32,
}

/// Which papers a feed page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedQuery {
    /// First day (inclusive); `None` for no lower bound.
    pub from: Option<NaiveDate>,
    /// Day after the last (exclusive); `None` for no upper bound.
    pub until: Option<NaiveDate>,
    /// A category such as `cs.CV` (primary or cross-list), or an archive such as `cs`.
    pub category: Option<String>,
    /// `New`, `Top` (most upvotes), or `Trending` (see `paperboy_core::ranking`).
    pub sort: FeedSort,
    /// Only papers with a known code repository (`?has_code=1`).
    pub has_code: bool,
    pub offset: u32,
    pub limit: u32,
}

impl Default for FeedQuery {
    fn default() -> Self {
        FeedQuery {
            from: None,
            until: None,
            category: None,
            sort: FeedSort::New,
            has_code: false,
            offset: 0,
            limit: 30,
        }
    }
}

/// One page of a feed and the size of the whole feed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedPage {
    pub items: Vec<StoredPaper>,
    pub total: u64,
}

/// One entry of the change feed: paper `paper_id` changed at `seq`. `paper` is
/// its current state, or `None` when it no longer exists under that id (a
/// local paper merged into an arXiv one).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub seq: u64,
    pub paper_id: paperboy_core::PaperId,
    pub paper: Option<Paper>,
}

/// What a [`CommunityChange`] changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommunityKind {
    /// A vote was added or taken back: the paper's count, the order of the
    /// feeds ranked by votes around its day, the voter's profile.
    Vote,
    /// A comment was added, edited, deleted, hidden or shown: the paper's
    /// discussion and comment count, the author's profile.
    Comment,
    /// A member was suspended or reinstated: their profile.
    Member,
}

impl CommunityKind {
    /// The word stored in `community_changes.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            CommunityKind::Vote => "vote",
            CommunityKind::Comment => "comment",
            CommunityKind::Member => "member",
        }
    }

    /// The kind stored as `word`.
    pub fn parse(word: &str) -> Option<CommunityKind> {
        match word {
            "vote" => Some(CommunityKind::Vote),
            "comment" => Some(CommunityKind::Comment),
            "member" => Some(CommunityKind::Member),
            _ => None,
        }
    }
}

/// One entry of the community change feed (votes, comments, suspensions:
/// what `paper_changes` does not carry), for the response caches of every
/// server. Numbers come from a sequence but, on PostgreSQL, may become
/// visible out of order: a follower must not assume that everything up to
/// the highest number it saw is complete.
#[derive(Debug, Clone, PartialEq)]
pub struct CommunityChange {
    pub seq: u64,
    pub kind: CommunityKind,
    /// The paper whose pages changed, if any.
    pub paper_id: Option<PaperId>,
    /// That paper's listing day, when it still exists.
    pub listed_on: Option<NaiveDate>,
    /// The member whose profile changed, if any.
    pub user: Option<paperboy_core::UserId>,
}

/// The catalog: papers, their feeds and the change feed that search indexes follow.
#[async_trait]
pub trait Catalog: Send + Sync + 'static {
    /// Inserts or updates papers in one transaction, keyed by arXiv id.
    ///
    /// Rules: a record whose content equals what we have is `Unchanged`; an
    /// older version than the stored one is `Unchanged` (never a regression);
    /// an update keeps the paper's row, feed date, votes and everything else
    /// attached to it. An arXiv paper whose normalised title matches a local
    /// (`pb-…`) paper takes that paper over (`Merged`); a local paper whose
    /// title is already in the catalog is `Unchanged`.
    async fn upsert_papers(&self, papers: &[Paper]) -> Result<Vec<UpsertOutcome>, StoreError>;

    /// [`Catalog::upsert_papers`] for papers whose ids, title keys and content
    /// fingerprints the caller already computed: the same rules, the same
    /// one transaction, less work for the writer.
    async fn upsert_batch(&self, batch: PaperBatch) -> Result<Vec<UpsertOutcome>, StoreError> {
        self.upsert_papers(batch.papers()).await
    }

    /// One paper by id, as the public sees it (`None` for a hidden paper).
    async fn get_paper(&self, id: &PaperId) -> Result<Option<StoredPaper>, StoreError>;

    /// A page of a feed, as the public sees it (hidden papers left out),
    /// ordered by `query.sort`; `trending` is ranked at the current time.
    async fn feed(&self, query: &FeedQuery) -> Result<FeedPage, StoreError>;

    /// The papers with these ids, as the public sees them, in the order of
    /// `ids`; ids the catalog does not have (or hides) are left out. One
    /// call for a page of search hits or similar papers, however long.
    async fn papers_by_ids(&self, ids: &[PaperId]) -> Result<Vec<StoredPaper>, StoreError>;

    /// The most recent day that has papers.
    async fn latest_listing_date(&self) -> Result<Option<NaiveDate>, StoreError>;

    /// The nearest days before and after `day` that have papers.
    async fn neighbour_dates(&self, day: NaiveDate) -> Result<(Option<NaiveDate>, Option<NaiveDate>), StoreError>;

    /// How many papers the catalog holds.
    async fn count_papers(&self) -> Result<u64, StoreError>;

    /// Changes after sequence number `after`, oldest first, at most `limit`.
    /// Followers (search indexes) apply them in order and remember the last `seq`.
    /// A paper that is hidden now comes back as `paper: None`, like one that
    /// no longer exists; hiding and showing a paper are changes.
    async fn changes_since(&self, after: u64, limit: u32) -> Result<Vec<Change>, StoreError>;

    /// The newest sequence number in the change feed (0 when empty).
    async fn last_change_seq(&self) -> Result<u64, StoreError>;

    /// Up to `limit` entries of the community change feed numbered above
    /// `after`, in number order (see [`CommunityChange`] on gaps).
    async fn community_changes_since(&self, after: u64, limit: u32) -> Result<Vec<CommunityChange>, StoreError>;

    /// The highest number in the community change feed (0 when empty).
    async fn last_community_seq(&self) -> Result<u64, StoreError>;

    /// Deletes community changes recorded before `before`; returns how many.
    async fn sweep_community_changes(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;
}
