//! The values that cross the [`crate::Store`] boundary besides core's domain types.

use chrono::NaiveDate;
use paperboy_core::{FeedSort, Paper};
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
