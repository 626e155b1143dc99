//! [`HfClient`]: Hugging Face Papers, the public JSON behind
//! huggingface.co/papers. `GET /api/daily_papers?date=YYYY-MM-DD` lists a
//! day's papers (each an item with `paper` and the item's `numComments`);
//! `GET /api/papers/{arxiv id}` is one paper. Per paper we keep the arXiv id,
//! upvotes, comment count, GitHub repository and its stars as Hugging Face
//! last saw them, project page and `ai_keywords`. Missing fields are
//! tolerated (absent or `null` is "unknown"); a body that is not the
//! documented JSON is a [`FetchError::Parse`] naming the place. Wherever
//! these numbers are shown, Hugging Face is credited as their source.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use reqwest::Url;
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use serde::Deserialize;
use tracing::warn;

use crate::FetchError;
use crate::github::{DEFAULT_USER_AGENT, utc};
use crate::http::{Outcome, Transport, TransportConfig};
use crate::links::{RepoRef, repo_from_url};

/// Hugging Face.
pub const DEFAULT_HF_URL: &str = "https://huggingface.co";
const SERVICE: &str = "Hugging Face API";

/// Settings of an [`HfClient`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HfSettings {
    /// Default [`DEFAULT_HF_URL`].
    pub base_url: String,
    pub user_agent: String,
    /// Default 20 s.
    pub timeout: Duration,
    /// The least time between two requests. Default 2 s: a day's list is one
    /// request, so even a month of days is a minute.
    pub interval: Duration,
    /// The longest a `Retry-After` is waited out. Default 5 min.
    pub max_wait: Duration,
    /// Default 3; backoff 2 s doubling to 60 s.
    pub max_retries: u32,
    pub backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for HfSettings {
    fn default() -> Self {
        HfSettings {
            base_url: DEFAULT_HF_URL.to_string(),
            user_agent: DEFAULT_USER_AGENT.to_string(),
            timeout: Duration::from_secs(20),
            interval: Duration::from_secs(2),
            max_wait: Duration::from_secs(300),
            max_retries: 3,
            backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(60),
        }
    }
}

/// One paper as Hugging Face Papers shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HfPaper {
    /// The arXiv id (Hugging Face's paper id).
    pub arxiv_id: String,
    pub title: Option<String>,
    pub upvotes: u64,
    /// Comments on its Hugging Face page (`numComments`), if given.
    pub num_comments: Option<u64>,
    /// `githubRepo`, as given (a URL).
    pub github_repo: Option<String>,
    /// `githubStars` when Hugging Face last looked.
    pub github_stars: Option<u64>,
    pub project_page: Option<String>,
    pub ai_keywords: Vec<String>,
    pub published_at: Option<DateTime<Utc>>,
}

impl HfPaper {
    /// The GitHub repository of `githubRepo`, if it names one.
    pub fn repo(&self) -> Option<RepoRef> {
        self.github_repo.as_deref().and_then(repo_from_url)
    }
}

/// A polite Hugging Face Papers client; clones share the pacing.
#[derive(Debug, Clone)]
pub struct HfClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    transport: Transport,
    base_url: Url,
    config: HfSettings,
}

#[derive(Deserialize)]
struct DailyItem {
    paper: Option<PaperBody>,
    #[serde(rename = "numComments")]
    num_comments: Option<u64>,
    title: Option<String>,
}

#[derive(Deserialize)]
struct PaperBody {
    id: Option<String>,
    title: Option<String>,
    upvotes: Option<u64>,
    #[serde(rename = "numComments")]
    num_comments: Option<u64>,
    #[serde(rename = "githubRepo")]
    github_repo: Option<String>,
    #[serde(rename = "githubStars")]
    github_stars: Option<u64>,
    #[serde(rename = "projectPage")]
    project_page: Option<String>,
    ai_keywords: Option<Vec<String>>,
    #[serde(rename = "publishedAt")]
    published_at: Option<DateTime<Utc>>,
}

impl PaperBody {
    fn into_paper(self, item_comments: Option<u64>, item_title: Option<String>) -> Option<HfPaper> {
        let arxiv_id = self.id.map(|i| i.trim().to_string()).filter(|i| !i.is_empty())?;
        let nonempty = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        Some(HfPaper {
            arxiv_id,
            title: nonempty(self.title).or_else(|| nonempty(item_title)),
            upvotes: self.upvotes.unwrap_or(0),
            num_comments: item_comments.or(self.num_comments),
            github_repo: nonempty(self.github_repo),
            github_stars: self.github_stars,
            project_page: nonempty(self.project_page),
            ai_keywords: self.ai_keywords.unwrap_or_default(),
            published_at: self.published_at,
        })
    }
}

impl HfClient {
    pub fn new(config: HfSettings) -> Result<Self, FetchError> {
        let base_url = Url::parse(config.base_url.trim_end_matches('/'))
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| {
                FetchError::Config(format!("the Hugging Face base URL {:?} is not an http(s) URL", config.base_url))
            })?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let transport = Transport::new(TransportConfig {
            service: SERVICE,
            user_agent: config.user_agent.clone(),
            default_headers: headers,
            timeout: config.timeout,
            interval: config.interval,
            max_wait: config.max_wait,
            max_retries: config.max_retries,
            backoff: config.backoff,
            max_backoff: config.max_backoff,
            secondary_wait: Duration::from_secs(60),
        })?;
        Ok(HfClient { inner: Arc::new(Inner { transport, base_url, config }) })
    }

    pub fn config(&self) -> &HfSettings {
        &self.inner.config
    }

    /// The papers of one day's list, in Hugging Face's order. Items without
    /// a paper id are skipped (and logged).
    pub async fn daily_papers(&self, date: NaiveDate) -> Result<Vec<HfPaper>, FetchError> {
        let day = date.format("%Y-%m-%d").to_string();
        let url = self.url(&["api", "daily_papers"], &[("date", &day)]);
        let Some(body) = self.get(&url).await? else {
            return Err(FetchError::Status { service: SERVICE, url: url.to_string(), status: 404, attempts: 1 });
        };
        let items: Vec<DailyItem> = parse(&url, &body)?;
        let total = items.len();
        let papers: Vec<HfPaper> = items
            .into_iter()
            .filter_map(|item| item.paper.and_then(|p| p.into_paper(item.num_comments, item.title)))
            .collect();
        if papers.len() < total {
            warn!(url = %url, skipped = total - papers.len(), "Hugging Face daily papers: items without a paper id");
        }
        Ok(papers)
    }

    /// One paper, or `None` when Hugging Face does not list it (404).
    pub async fn paper(&self, arxiv_id: &str) -> Result<Option<HfPaper>, FetchError> {
        let url = self.url(&["api", "papers", arxiv_id], &[]);
        let Some(body) = self.get(&url).await? else { return Ok(None) };
        let paper: PaperBody = parse(&url, &body)?;
        paper.into_paper(None, None).map(Some).ok_or_else(|| FetchError::Parse {
            service: SERVICE,
            url: url.to_string(),
            reason: "the paper has no id".into(),
        })
    }

    /// The body of a 200, `None` for a 404.
    async fn get(&self, url: &Url) -> Result<Option<Vec<u8>>, FetchError> {
        let reply = match self.inner.transport.get(url.clone(), HeaderMap::new()).await? {
            Outcome::RateLimited(until) => {
                return Err(FetchError::RateLimited { service: SERVICE, url: url.to_string(), until: utc(until) });
            }
            Outcome::Reply(reply) => reply,
        };
        match reply.status.as_u16() {
            200 => Ok(Some(reply.body)),
            404 => Ok(None),
            status => Err(FetchError::Status { service: SERVICE, url: url.to_string(), status, attempts: 1 }),
        }
    }

    fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.inner.base_url.clone();
        url.path_segments_mut().expect("an http(s) base URL has a path").pop_if_empty().extend(segments);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }
}

fn parse<T: for<'de> Deserialize<'de>>(url: &Url, body: &[u8]) -> Result<T, FetchError> {
    serde_json::from_slice(body).map_err(|e| FetchError::Parse {
        service: SERVICE,
        url: url.to_string(),
        reason: e.to_string(),
    })
}
