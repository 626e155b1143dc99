//! [`Signals`]: what the outside world says of papers (issue 15,
//! docs/RANKING.md "Trending signals"): the GitHub repositories papers name,
//! with their status, ETag and star series; Hugging Face Papers' counts; a
//! paper's rank on a recorded source page; and each source's fetch state.
//! The signal jobs write through it; every paper query reads the per-paper
//! summary it keeps ([`crate::PaperSignals`] on each [`crate::StoredPaper`]),
//! and [`Signals::code_trending`] is the `/trending` view.
//!
//! The store computes nothing from the network here: star velocity, refresh
//! intervals and repository names are worked out by the caller
//! (`paperboy-signals`) and recorded as given.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::PaperId;
use serde::Serialize;

use crate::{FeedPage, FeedQuery, StoreError};

/// Where a paper names a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkSource {
    /// The paper's code link.
    CodeLink,
    /// Its arXiv comment.
    Comment,
    /// Its abstract.
    Abstract,
    /// Hugging Face Papers lists it as the paper's repository.
    Huggingface,
}

impl LinkSource {
    /// The word stored for it.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkSource::CodeLink => "code_link",
            LinkSource::Comment => "comment",
            LinkSource::Abstract => "abstract",
            LinkSource::Huggingface => "huggingface",
        }
    }

    /// The stored word back; `None` for one this build does not know.
    pub fn parse(s: &str) -> Option<LinkSource> {
        Some(match s {
            "code_link" => LinkSource::CodeLink,
            "comment" => LinkSource::Comment,
            "abstract" => LinkSource::Abstract,
            "huggingface" => LinkSource::Huggingface,
            _ => return None,
        })
    }
}

/// A repository named by a paper, as the linker found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoLink {
    /// `owner/name` as the paper spells it.
    pub full_name: String,
    pub source: LinkSource,
}

/// A repository's state as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RepoStatus {
    Ok,
    /// 404, 410 or 451: deleted, private or blocked. Never fetched again.
    Gone,
    /// 301: renamed or transferred to the repository with this key.
    Renamed {
        to: String,
    },
}

/// A repository as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Repository {
    /// `owner/name` in lower case: the key (GitHub's names ignore case).
    pub key: String,
    /// GitHub's spelling (the paper's until the first fetch).
    pub full_name: String,
    pub status: RepoStatus,
    /// The ETag of the last full answer, for `If-None-Match`.
    pub etag: Option<String>,
    pub stars: Option<u64>,
    pub forks: Option<u64>,
    pub pushed_at: Option<DateTime<Utc>>,
    /// Stars gained in the 7 days before `last_fetched`, as last worked out.
    pub weekly_stars: Option<i64>,
    pub first_seen: DateTime<Utc>,
    pub last_fetched: Option<DateTime<Utc>>,
    pub next_fetch_at: DateTime<Utc>,
    /// The last failure, cleared by the next success.
    pub last_error: Option<String>,
}

/// The counts of a full (200) answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoCounts {
    /// GitHub's spelling of `owner/name`.
    pub full_name: String,
    pub stars: u64,
    pub forks: u64,
    pub pushed_at: Option<DateTime<Utc>>,
    pub etag: Option<String>,
}

/// What one fetch of a repository found, to record at `now`.
#[derive(Debug, Clone, PartialEq)]
pub enum RepoUpdate {
    /// 200: new counts (a star observation is recorded).
    Fresh { counts: RepoCounts, weekly_stars: Option<i64>, next_fetch_at: DateTime<Utc> },
    /// 304: unchanged (the last star count is observed again).
    NotModified { weekly_stars: Option<i64>, next_fetch_at: DateTime<Utc> },
    /// 301: the repository is now `counts.full_name`; the old row is marked
    /// renamed, the new one gets the counts and the old one's paper links.
    Renamed { counts: RepoCounts, weekly_stars: Option<i64>, next_fetch_at: DateTime<Utc> },
    /// 404/410/451: marked gone, never fetched again, left out of summaries.
    Gone,
    /// The fetch failed; try again at `next_fetch_at`.
    Failed { error: String, next_fetch_at: DateTime<Utc> },
}

/// What Hugging Face Papers says of one paper.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HfSignal {
    pub upvotes: u64,
    pub comments: Option<u64>,
    /// `owner/name` of its GitHub repository.
    pub github_repo: Option<String>,
    pub github_stars: Option<u64>,
    pub project_page: Option<String>,
    pub ai_keywords: Vec<String>,
}

/// One source's fetch state (`paperboy signals status`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct SourceState {
    /// `github` or `huggingface`.
    pub source: String,
    pub last_run_at: Option<DateTime<Utc>>,
    pub last_ok_at: Option<DateTime<Utc>>,
    /// What the last run did, one line.
    pub last_note: Option<String>,
    pub last_error: Option<String>,
    /// No request before this (a rate limit's reset).
    pub waiting_until: Option<DateTime<Utc>>,
    pub waiting_why: Option<String>,
    /// The source's own progress marker (the GitHub linker's change-feed position).
    pub cursor: u64,
}

/// Counts of the repositories, for status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct RepoCensus {
    pub total: u64,
    /// Fetchable now.
    pub due: u64,
    /// Never fetched yet.
    pub never_fetched: u64,
    pub gone: u64,
    pub renamed: u64,
    /// Whose last fetch failed.
    pub failing: u64,
    /// Papers with a Hugging Face record.
    pub hf_papers: u64,
}

/// The trending signals: repositories and their stars, Hugging Face counts,
/// source ranks, fetch state, and the code-trending view.
#[async_trait]
pub trait Signals: Send + Sync + 'static {
    /// Links `paper` to the repositories in `links` (created, due at once,
    /// if new; links that exist are kept with their first source). Returns
    /// how many links are new (0 for a paper the catalog does not have).
    async fn link_repositories(
        &self,
        paper: &PaperId,
        links: &[RepoLink],
        now: DateTime<Utc>,
    ) -> Result<u32, StoreError>;

    /// Repositories to fetch at `now` (status ok, `next_fetch_at` reached),
    /// most overdue first, at most `limit`.
    async fn due_repositories(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Repository>, StoreError>;

    /// One repository by `owner/name` (any case).
    async fn repository(&self, full_name: &str) -> Result<Option<Repository>, StoreError>;

    /// The repository's star observations at or after `since`, oldest first,
    /// plus the newest one before `since` (the baseline of a weekly gain).
    async fn star_history(
        &self,
        full_name: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, u64)>, StoreError>;

    /// Records what a fetch of `full_name` found, at `now`, and rewrites the
    /// summaries of the papers that name it.
    async fn record_repository(
        &self,
        full_name: &str,
        update: RepoUpdate,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Records Hugging Face's counts for `paper` (replacing the last ones);
    /// `false` when the catalog does not have the paper.
    async fn record_hf(&self, paper: &PaperId, signal: &HfSignal, now: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Records `paper`'s rank on the page `page` (1 first), replacing any
    /// rank it had; `false` when the catalog does not have the paper.
    async fn record_source_rank(
        &self,
        paper: &PaperId,
        page: &str,
        rank: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// The fetch state of `source` (a default, empty state if it never ran).
    async fn source_state(&self, source: &str) -> Result<SourceState, StoreError>;

    /// Replaces the fetch state of `state.source`.
    async fn save_source_state(&self, state: &SourceState) -> Result<(), StoreError>;

    /// Counts of repositories by state at `now`, for status.
    async fn repo_census(&self, now: DateTime<Utc>) -> Result<RepoCensus, StoreError>;

    /// The code-trending view (`/trending`): public papers listed at most
    /// `max_age_days` (the store's trending settings) before now that name a
    /// repository, in `paperboy_core::trending::rank_code_trending` order
    /// (most stars this week first), paged by `query.offset`/`limit` and
    /// filtered by its days and category; `query.sort` is ignored.
    async fn code_trending(&self, query: &FeedQuery) -> Result<FeedPage, StoreError>;
}
