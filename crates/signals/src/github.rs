//! [`GithubClient`]: the GitHub REST API calls trending needs, as a good API
//! citizen. `GET /repos/{owner}/{repo}` with the stored ETag
//! (`If-None-Match`; a 304 costs no rate limit), following a rename (301)
//! and telling the caller the new name, 404/410/451 as gone; and the newest
//! stargazers with their `starred_at` times
//! (`Accept: application/vnd.github.star+json`), read from the `Link`
//! header's `last` page backwards within a page budget.
//!
//! All clones share one governor: requests are paced ([`GithubSettings::interval`]:
//! 0.72 s with a token, 5,000 an hour; 60 s without, 60 an hour), nothing is
//! sent while `X-RateLimit-Remaining` says 0 until `X-RateLimit-Reset`, and
//! a 403/429 with `Retry-After` (or a secondary limit's message) holds
//! everyone for that long. A wait longer than [`GithubSettings::max_wait`] is
//! not waited: the call answers `RateLimited { until }` without sending.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::Url;
use reqwest::header::{ACCEPT, AUTHORIZATION, ETAG, HeaderMap, HeaderValue, IF_NONE_MATCH};
use serde::Deserialize;

use crate::FetchError;
use crate::http::{Outcome, Reply, Transport, TransportConfig};
use crate::links::RepoRef;
use crate::velocity::{Gain, gain_from_stargazers};

/// The GitHub REST API.
pub const DEFAULT_GITHUB_URL: &str = "https://api.github.com";
/// The `User-Agent` sent by default (GitHub refuses requests without one).
pub const DEFAULT_USER_AGENT: &str =
    concat!("Paperboy/", env!("CARGO_PKG_VERSION"), " (self-hosted trending-papers service; paperboy-signals)");
/// The pacing with a token: 5,000 requests an hour.
pub const TOKEN_INTERVAL: Duration = Duration::from_millis(720);
/// The pacing without a token: 60 requests an hour.
pub const ANONYMOUS_INTERVAL: Duration = Duration::from_secs(60);
/// Stargazers per page (GitHub's maximum).
pub const STARGAZERS_PER_PAGE: u32 = 100;
/// GitHub lists at most this many pages of stargazers (40,000 stars): past
/// that, the `last` page is not the newest and the newest cannot be read.
pub const MAX_STARGAZER_PAGES: u32 = 400;

const API_VERSION: &str = "2022-11-28";
const STAR_JSON: &str = "application/vnd.github.star+json";
const SERVICE: &str = "GitHub API";

/// Settings of a [`GithubClient`]. [`Default`] is without a token;
/// [`GithubSettings::with_token`] sets the token and its faster pacing.
#[derive(Clone, PartialEq, Eq)]
pub struct GithubSettings {
    /// Default [`DEFAULT_GITHUB_URL`].
    pub base_url: String,
    /// Sent as `Authorization: Bearer`. `PAPERBOY_GITHUB_TOKEN` at the binary's edge.
    pub token: Option<String>,
    pub user_agent: String,
    /// One attempt, connecting to end of body. Default 20 s.
    pub timeout: Duration,
    /// The least time between two requests of all clones. Default
    /// [`ANONYMOUS_INTERVAL`], [`TOKEN_INTERVAL`] with a token.
    pub interval: Duration,
    /// The longest a call waits for a rate limit before answering
    /// `RateLimited` instead. Default 5 min.
    pub max_wait: Duration,
    /// Retries of transport failures and 5xx, and of rate-limit waits. Default 3.
    pub max_retries: u32,
    /// First retry wait, doubling up to `max_backoff`. Default 2 s, 60 s.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// The wait after a secondary rate limit without `Retry-After`. Default 60 s.
    pub secondary_wait: Duration,
    /// Requests one [`GithubClient::stargazers`] call may make. Default 3.
    pub stargazer_pages: u32,
}

impl std::fmt::Debug for GithubSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GithubSettings")
            .field("base_url", &self.base_url)
            .field("token", &self.token.as_ref().map(|_| "(set)"))
            .field("interval", &self.interval)
            .field("max_wait", &self.max_wait)
            .field("stargazer_pages", &self.stargazer_pages)
            .finish_non_exhaustive()
    }
}

impl Default for GithubSettings {
    fn default() -> Self {
        GithubSettings {
            base_url: DEFAULT_GITHUB_URL.to_string(),
            token: None,
            user_agent: DEFAULT_USER_AGENT.to_string(),
            timeout: Duration::from_secs(20),
            interval: ANONYMOUS_INTERVAL,
            max_wait: Duration::from_secs(300),
            max_retries: 3,
            backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(60),
            secondary_wait: Duration::from_secs(60),
            stargazer_pages: 3,
        }
    }
}

impl GithubSettings {
    /// The defaults with a token (an empty one counts as none) and the pacing it allows.
    pub fn with_token(token: Option<String>) -> Self {
        let token = token.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
        let interval = if token.is_some() { TOKEN_INTERVAL } else { ANONYMOUS_INTERVAL };
        GithubSettings { token, interval, ..GithubSettings::default() }
    }
}

/// A repository's counts at the time of a fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoSnapshot {
    /// GitHub's spelling of `owner/name` (after a rename, the new one).
    pub full_name: String,
    /// GitHub's numeric id: stable across renames.
    pub id: Option<u64>,
    pub stars: u64,
    pub forks: u64,
    pub pushed_at: Option<DateTime<Utc>>,
    pub archived: bool,
    /// Send it back as `etag` next time.
    pub etag: Option<String>,
}

/// What a repository fetch found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepoFetch {
    Fresh(RepoSnapshot),
    /// 304: unchanged since the ETag (costs no rate limit).
    NotModified,
    /// Renamed or transferred (301, followed): the new name and its counts.
    Moved {
        to: RepoRef,
        snapshot: RepoSnapshot,
    },
    /// 404, 410 or 451: deleted, made private, or blocked.
    Gone,
    /// Nothing was sent: the limits say to wait until then.
    RateLimited {
        until: DateTime<Utc>,
    },
}

/// The newest stargazers of a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stargazers {
    /// Their `starred_at`, newest first.
    pub starred_at: Vec<DateTime<Utc>>,
    /// Pages read (requests made).
    pub pages_read: u32,
    /// The `last` page number (1 when there is only one page).
    pub last_page: u32,
    /// Every current stargazer was read (the first page too).
    pub complete: bool,
    /// GitHub stops listing at [`MAX_STARGAZER_PAGES`]: the pages read are
    /// not the newest, so they say nothing about this week.
    pub capped: bool,
}

impl Stargazers {
    /// Stars gained in `window` before `now`, unless the listing is capped.
    pub fn gain(&self, now: DateTime<Utc>, window: TimeDelta) -> Option<Gain> {
        (!self.capped).then(|| gain_from_stargazers(&self.starred_at, self.complete, now, window))
    }
}

/// What a stargazers fetch found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StargazerFetch {
    Sample(Stargazers),
    Gone,
    RateLimited { until: DateTime<Utc> },
}

/// A polite GitHub REST client. Clones share pacing and rate-limit state:
/// use one per process.
#[derive(Debug, Clone)]
pub struct GithubClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    transport: Transport,
    base_url: Url,
    config: GithubSettings,
}

#[derive(Deserialize)]
struct RepoBody {
    full_name: String,
    id: Option<u64>,
    stargazers_count: u64,
    #[serde(default)]
    forks_count: u64,
    pushed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    archived: bool,
}

#[derive(Deserialize)]
struct StarBody {
    starred_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct MessageBody {
    message: Option<String>,
}

impl GithubClient {
    pub fn new(config: GithubSettings) -> Result<Self, FetchError> {
        let base_url = Url::parse(config.base_url.trim_end_matches('/'))
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| {
                FetchError::Config(format!("the GitHub base URL {:?} is not an http(s) URL", config.base_url))
            })?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/vnd.github+json"));
        headers.insert("x-github-api-version", HeaderValue::from_static(API_VERSION));
        if let Some(token) = &config.token {
            let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| FetchError::Config("the GitHub token is not a valid header value".into()))?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
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
            secondary_wait: config.secondary_wait,
        })?;
        Ok(GithubClient { inner: Arc::new(Inner { transport, base_url, config }) })
    }

    pub fn config(&self) -> &GithubSettings {
        &self.inner.config
    }

    /// Requests left in the rate-limit window, as GitHub last reported it
    /// (counted down by the requests sent since); `None` before the first answer.
    pub fn remaining(&self) -> Option<u64> {
        self.inner.transport.remaining()
    }

    /// `GET /repos/{owner}/{name}`, conditional on `etag` if given.
    pub async fn repo(&self, repo: &RepoRef, etag: Option<&str>) -> Result<RepoFetch, FetchError> {
        let url = self.url(&["repos", &repo.owner, &repo.name], &[]);
        let mut headers = HeaderMap::new();
        if let Some(value) = etag.and_then(|e| HeaderValue::from_str(e).ok()) {
            headers.insert(IF_NONE_MATCH, value);
        }
        let reply = match self.inner.transport.get(url.clone(), headers).await? {
            Outcome::RateLimited(until) => return Ok(RepoFetch::RateLimited { until: utc(until) }),
            Outcome::Reply(reply) => reply,
        };
        match reply.status.as_u16() {
            200 => {
                let body: RepoBody = parse(&url, &reply.body)?;
                let snapshot = RepoSnapshot {
                    etag: reply.headers.get(ETAG).and_then(|v| v.to_str().ok()).map(str::to_string),
                    full_name: body.full_name,
                    id: body.id,
                    stars: body.stargazers_count,
                    forks: body.forks_count,
                    pushed_at: body.pushed_at,
                    archived: body.archived,
                };
                let now_named = RepoRef::parse(&snapshot.full_name).ok_or_else(|| FetchError::Parse {
                    service: SERVICE,
                    url: url.to_string(),
                    reason: format!("full_name {:?} is not owner/name", snapshot.full_name),
                })?;
                if now_named.key() != repo.key() {
                    Ok(RepoFetch::Moved { to: now_named, snapshot })
                } else {
                    Ok(RepoFetch::Fresh(snapshot))
                }
            }
            304 => Ok(RepoFetch::NotModified),
            404 | 410 | 451 => Ok(RepoFetch::Gone),
            _ => Err(refusal(&url, reply)),
        }
    }

    /// The newest stargazers with their `starred_at` times: the first page
    /// (which says, in its `Link` header, which page is last), then from the
    /// last page backwards, until a page reaches back to `since`, the first
    /// page, or [`GithubSettings::stargazer_pages`] requests.
    pub async fn stargazers(&self, repo: &RepoRef, since: DateTime<Utc>) -> Result<StargazerFetch, FetchError> {
        let budget = self.inner.config.stargazer_pages.max(1);
        let mut times = Vec::new();
        let (first, last_page) = match self.star_page(repo, 1).await? {
            PageFetch::Page { times, last } => (times, last.unwrap_or(1)),
            PageFetch::Gone => return Ok(StargazerFetch::Gone),
            PageFetch::RateLimited(until) => return Ok(StargazerFetch::RateLimited { until }),
        };
        let capped = last_page >= MAX_STARGAZER_PAGES;
        let mut pages_read = 1;
        let mut complete = last_page <= 1;
        if complete {
            times.extend(first);
        } else {
            let (mut page, mut lowest_read) = (last_page, last_page + 1);
            while page > 1 && pages_read < budget {
                match self.star_page(repo, page).await? {
                    PageFetch::Page { times: page_times, .. } => {
                        pages_read += 1;
                        lowest_read = page;
                        let reached = page_times.iter().min().is_some_and(|t| *t <= since);
                        times.extend(page_times);
                        if reached {
                            break;
                        }
                    }
                    PageFetch::Gone => return Ok(StargazerFetch::Gone),
                    // What was read so far is still the newest stars: keep it.
                    PageFetch::RateLimited(_) => break,
                }
                page -= 1;
            }
            if lowest_read == 2 {
                // Every page from the last down to the second was read, and the first too.
                times.extend(first);
                complete = true;
            }
        }
        times.sort_unstable_by(|a, b| b.cmp(a));
        Ok(StargazerFetch::Sample(Stargazers { starred_at: times, pages_read, last_page, complete, capped }))
    }

    async fn star_page(&self, repo: &RepoRef, page: u32) -> Result<PageFetch, FetchError> {
        let (per_page, page_text) = (STARGAZERS_PER_PAGE.to_string(), page.to_string());
        let url = self
            .url(&["repos", &repo.owner, &repo.name, "stargazers"], &[("per_page", &per_page), ("page", &page_text)]);
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static(STAR_JSON));
        let reply = match self.inner.transport.get(url.clone(), headers).await? {
            Outcome::RateLimited(until) => return Ok(PageFetch::RateLimited(utc(until))),
            Outcome::Reply(reply) => reply,
        };
        match reply.status.as_u16() {
            200 => {
                let body: Vec<StarBody> = parse(&url, &reply.body)?;
                let times = body.into_iter().map(|s| s.starred_at).collect::<Option<Vec<_>>>().ok_or_else(|| {
                    FetchError::Parse {
                        service: SERVICE,
                        url: url.to_string(),
                        reason: format!("a stargazer without starred_at (was the Accept: {STAR_JSON} header dropped?)"),
                    }
                })?;
                let last = reply.headers.get("link").and_then(|v| v.to_str().ok()).and_then(last_page);
                Ok(PageFetch::Page { times, last })
            }
            404 | 410 | 451 => Ok(PageFetch::Gone),
            _ => Err(refusal(&url, reply)),
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

enum PageFetch {
    Page { times: Vec<DateTime<Utc>>, last: Option<u32> },
    Gone,
    RateLimited(DateTime<Utc>),
}

/// The page number of the `rel="last"` link of a `Link` header.
pub(crate) fn last_page(link: &str) -> Option<u32> {
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        if !params.split(';').any(|p| p.trim().trim_start_matches("rel=").trim_matches('"') == "last") {
            return None;
        }
        let url = Url::parse(target.trim().trim_start_matches('<').trim_end_matches('>')).ok()?;
        url.query_pairs().find(|(k, _)| k == "page").and_then(|(_, v)| v.parse().ok())
    })
}

fn parse<T: for<'de> Deserialize<'de>>(url: &Url, body: &[u8]) -> Result<T, FetchError> {
    serde_json::from_slice(body).map_err(|e| FetchError::Parse {
        service: SERVICE,
        url: url.to_string(),
        reason: e.to_string(),
    })
}

/// The error for a final answer that is not one of the expected ones.
fn refusal(url: &Url, reply: Reply) -> FetchError {
    let url = url.to_string();
    match reply.status.as_u16() {
        401 => FetchError::Unauthorized { service: SERVICE, url },
        403 => {
            let message = serde_json::from_slice::<MessageBody>(&reply.body)
                .ok()
                .and_then(|m| m.message)
                .unwrap_or_else(|| "no message".to_string());
            FetchError::Forbidden { service: SERVICE, url, message }
        }
        status => FetchError::Status { service: SERVICE, url, status, attempts: 1 },
    }
}

pub(crate) fn utc(t: SystemTime) -> DateTime<Utc> {
    DateTime::<Utc>::from(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_page_is_read_from_the_link_header() {
        let link = "<https://api.github.com/repositories/1300192/stargazers?per_page=100&page=2>; rel=\"next\", \
                    <https://api.github.com/repositories/1300192/stargazers?per_page=100&page=14>; rel=\"last\"";
        assert_eq!(last_page(link), Some(14));
        let first_only = "<https://api.github.com/repositories/1/stargazers?page=2>; rel=\"next\"";
        assert_eq!(last_page(first_only), None);
        assert_eq!(last_page("garbage"), None);
    }

    #[test]
    fn tokens_set_the_pacing_and_stay_out_of_debug_output() {
        let c = GithubSettings::with_token(Some("ghp_secret".into()));
        assert_eq!(c.interval, TOKEN_INTERVAL);
        assert!(!format!("{c:?}").contains("ghp_secret"));
        assert_eq!(GithubSettings::with_token(Some("  ".into())).interval, ANONYMOUS_INTERVAL);
        let bad = GithubSettings { base_url: "api.github.com".into(), ..GithubSettings::default() };
        assert!(matches!(GithubClient::new(bad), Err(FetchError::Config(_))));
        let c =
            GithubClient::new(GithubSettings { base_url: "http://127.0.0.1:9/api/v3/".into(), ..Default::default() })
                .unwrap();
        let url = c.url(&["repos", "a", "b"], &[("page", "2")]);
        assert_eq!(url.as_str(), "http://127.0.0.1:9/api/v3/repos/a/b?page=2");
    }
}
