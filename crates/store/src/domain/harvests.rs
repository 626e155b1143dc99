//! [`Harvests`]: the record of arXiv harvest runs and their checkpoints.
//!
//! A run is started with its arguments ([`HarvestArgs`]); after each page
//! is stored, the harvester records the page's counts and the resumption
//! token of the next page in one statement (the checkpoint). If the latest
//! run with the same arguments did not complete and has a checkpoint,
//! [`Harvests::start_harvest`] resumes it: the new run starts from that
//! token and the old one, if still marked running (its process died), is
//! marked interrupted. A completed run is never resumed.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::StoreError;

/// What a harvest lists: the arguments of its first request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HarvestArgs {
    /// The OAI-PMH endpoint.
    pub base_url: String,
    /// `arXiv` or `arXivRaw`.
    pub metadata_prefix: String,
    /// An OAI set (`cs`), if any.
    pub set: Option<String>,
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

/// Who started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HarvestTrigger {
    /// `paperboy harvest`.
    Manual,
    /// The daily schedule of `paperboy serve`.
    Schedule,
}

impl HarvestTrigger {
    pub fn as_str(self) -> &'static str {
        match self {
            HarvestTrigger::Manual => "manual",
            HarvestTrigger::Schedule => "schedule",
        }
    }
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HarvestStatus {
    Running,
    Completed,
    Failed,
    /// Its process stopped without finishing it; a later run resumed it.
    Interrupted,
}

impl HarvestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HarvestStatus::Running => "running",
            HarvestStatus::Completed => "completed",
            HarvestStatus::Failed => "failed",
            HarvestStatus::Interrupted => "interrupted",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "running" => HarvestStatus::Running,
            "completed" => HarvestStatus::Completed,
            "failed" => HarvestStatus::Failed,
            "interrupted" => HarvestStatus::Interrupted,
            _ => return None,
        })
    }
}

/// What happened to the records of one page (or of a whole run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct HarvestCounts {
    /// Records read, whatever became of them.
    pub records: u64,
    /// New papers.
    pub inserted: u64,
    /// New versions or changed metadata (including local papers taken over).
    pub updated: u64,
    /// Papers we already had as they are.
    pub unchanged: u64,
    /// Papers outside the configured categories.
    pub filtered: u64,
    /// Records deleted upstream.
    pub deleted: u64,
    /// Records that could not be read.
    pub rejected: u64,
}

impl HarvestCounts {
    pub fn add(&mut self, other: &HarvestCounts) {
        self.records += other.records;
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.filtered += other.filtered;
        self.deleted += other.deleted;
        self.rejected += other.rejected;
    }
}

/// One harvest run as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HarvestRun {
    pub id: i64,
    pub trigger: HarvestTrigger,
    pub args: HarvestArgs,
    pub status: HarvestStatus,
    pub started_at: DateTime<Utc>,
    /// The last checkpoint or status change.
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The run this one took over from.
    pub resumed_from: Option<i64>,
    /// The resumption token this run started from (`None`: the first page).
    pub start_token: Option<String>,
    /// The checkpoint: the token of the next page to fetch, `None` before a
    /// resumed run's first page or after the last page.
    pub next_token: Option<String>,
    pub pages: u64,
    pub counts: HarvestCounts,
    /// Rejected records plus the error that ended the run, if any.
    pub errors: u64,
    pub complete_list_size: Option<u64>,
    pub last_error: Option<String>,
}

/// The harvest log.
#[async_trait]
pub trait Harvests: Send + Sync + 'static {
    /// Starts a run; with `resume`, from the checkpoint of the latest run with
    /// the same `args` if that run did not complete (see the module docs).
    async fn start_harvest(
        &self,
        args: &HarvestArgs,
        trigger: HarvestTrigger,
        resume: bool,
    ) -> Result<HarvestRun, StoreError>;

    /// The checkpoint after a stored page: adds `counts` and one page, and
    /// sets the next token (`None` after the last page).
    async fn record_harvest_page(
        &self,
        run: i64,
        counts: &HarvestCounts,
        next_token: Option<&str>,
        complete_list_size: Option<u64>,
    ) -> Result<(), StoreError>;

    /// Ends a run as completed (no `error`) or failed. The checkpoint stays.
    async fn finish_harvest(&self, run: i64, error: Option<&str>) -> Result<HarvestRun, StoreError>;

    /// One run.
    async fn harvest_run(&self, id: i64) -> Result<Option<HarvestRun>, StoreError>;

    /// The most recent runs, newest first.
    async fn recent_harvests(&self, limit: u32) -> Result<Vec<HarvestRun>, StoreError>;

    /// The most recent completed run from `base_url` in this format and set
    /// (any dates): where an incremental harvest picks up.
    async fn last_completed_harvest(
        &self,
        base_url: &str,
        metadata_prefix: &str,
        set: Option<&str>,
    ) -> Result<Option<HarvestRun>, StoreError>;
}
