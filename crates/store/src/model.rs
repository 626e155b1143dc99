//! The values that cross the [`crate::Store`] boundary besides core's domain types.

use chrono::{DateTime, NaiveDate, Utc};
use paperboy_core::{FeedSort, Paper, Username};
use serde::Serialize;

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
    pub offset: u32,
    pub limit: u32,
}

impl Default for FeedQuery {
    fn default() -> Self {
        FeedQuery { from: None, until: None, category: None, sort: FeedSort::New, offset: 0, limit: 30 }
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
