//! [`ArxivClient`]: builds API requests, paces them, retries transient
//! failures with exponential backoff (honouring `Retry-After`), and turns
//! responses into papers or [`ArxivError`]s.

use std::error::Error as _;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use paperboy_core::{ArxivId, Paper};
use paperboy_ingest::Rejection;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use tracing::{debug, warn};

use crate::ArxivError;
use crate::feed::{Feed, parse_feed, scan_head};
use crate::pace::Pacer;

/// The arXiv API endpoint.
pub const DEFAULT_BASE_URL: &str = "https://export.arxiv.org/api/query";
/// The `User-Agent` sent by default; arXiv asks API users to identify themselves.
pub const DEFAULT_USER_AGENT: &str =
    concat!("Paperboy/", env!("CARGO_PKG_VERSION"), " (self-hosted trending-papers service; paperboy-arxiv)");
/// Ids sent in one request; longer lists are split into several (paced) requests.
pub const MAX_IDS_PER_REQUEST: usize = 100;

/// Settings of an [`ArxivClient`]. Start from [`Default`] and change what you need:
///
/// ```
/// # use std::time::Duration;
/// # use paperboy_arxiv::{ArxivClient, ArxivSettings};
/// let client = ArxivClient::with_config(ArxivSettings {
///     user_agent: "Paperboy/0.1 (papers.example.org; mailto:admin@example.org)".into(),
///     ..ArxivSettings::default()
/// })?;
/// # Ok::<(), paperboy_arxiv::ArxivError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArxivSettings {
    /// The query endpoint; default [`DEFAULT_BASE_URL`].
    pub base_url: String,
    /// Default [`DEFAULT_USER_AGENT`]. Adding a contact (`mailto:`) is good manners.
    pub user_agent: String,
    /// The limit for one attempt, from connecting to the end of the body. Default 15 s.
    pub timeout: Duration,
    /// The least time between the starts of two requests (retries included)
    /// by all users of the client. Default 3 s, as arXiv's terms of use ask.
    pub interval: Duration,
    /// Retries after the first attempt for transient failures (timeouts,
    /// connection failures, HTTP 429, 500, 502, 503, 504). Default 3.
    pub max_retries: u32,
    /// The wait before the first retry; it doubles for each further retry,
    /// up to `max_backoff`. Default 2 s.
    pub backoff: Duration,
    /// Default 60 s.
    pub max_backoff: Duration,
    /// A `Retry-After` up to this long is waited out; a longer one ends the
    /// call with [`ArxivError::Status`] carrying the wait. Default 5 min.
    pub max_retry_after: Duration,
}

impl Default for ArxivSettings {
    fn default() -> Self {
        ArxivSettings {
            base_url: DEFAULT_BASE_URL.to_string(),
            user_agent: DEFAULT_USER_AGENT.to_string(),
            timeout: Duration::from_secs(15),
            interval: Duration::from_secs(3),
            max_retries: 3,
            backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

/// One page of a `search_query` listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    /// The papers of the page, in arXiv's order.
    pub papers: Vec<Paper>,
    /// Entries that could not be imported (location `entry N` and reason).
    pub rejected: Vec<Rejection>,
    /// All matches of the query (`opensearch:totalResults`), if the feed said.
    pub total_results: Option<u64>,
    /// The `start` of this page.
    pub start: u32,
}

impl Listing {
    /// Entries on this page, imported or not: `start + entries()` is the next page's start.
    pub fn entries(&self) -> usize {
        self.papers.len() + self.rejected.len()
    }
}

/// A polite arXiv API client. Cloning is cheap and clones share the pacing,
/// so one client (or its clones) per process keeps the whole process within
/// arXiv's rate limit.
#[derive(Debug, Clone)]
pub struct ArxivClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    base_url: Url,
    config: ArxivSettings,
    pacer: Pacer,
}

/// Why one attempt failed, and whether to try again.
enum Failure {
    /// Worth another attempt, after `wait` if the server said how long.
    Retry { error: Transport, wait: Option<Duration> },
    /// An overload status whose `Retry-After` is longer than we may wait.
    WaitTooLong { status: u16, wait: Duration },
}

/// A failure that the next attempt may not have.
enum Transport {
    Timeout,
    Connect(String),
    Dropped(String),
    Status(u16),
}

impl ArxivClient {
    /// A client with the default settings.
    pub fn new() -> Result<Self, ArxivError> {
        Self::with_config(ArxivSettings::default())
    }

    /// A client with these settings. Fails on an unusable base URL, a zero
    /// timeout or a user agent that is not a valid header value.
    pub fn with_config(config: ArxivSettings) -> Result<Self, ArxivError> {
        let base_url = Url::parse(&config.base_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| ArxivError::Config(format!("the base URL {:?} is not an http(s) URL", config.base_url)))?;
        if config.timeout.is_zero() {
            return Err(ArxivError::Config("the timeout must be more than zero".into()));
        }
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent.as_str())
            .timeout(config.timeout)
            .build()
            .map_err(|e| ArxivError::Config(format!("cannot build the HTTP client: {}", chain(&e))))?;
        let pacer = Pacer::new(config.interval);
        Ok(ArxivClient { inner: Arc::new(Inner { http, base_url, config, pacer }) })
    }

    /// The settings in use.
    pub fn config(&self) -> &ArxivSettings {
        &self.inner.config
    }

    /// Fetches the papers with these ids (`?id_list=a,b&max_results=2`).
    /// A versioned id gives that version, an unversioned one the latest.
    /// Ids arXiv does not know are simply absent from the result (arXiv
    /// omits them), so the result may be shorter than `ids`; an empty `ids`
    /// makes no request. More than [`MAX_IDS_PER_REQUEST`] ids are fetched
    /// in several requests.
    ///
    /// `listed_on` of each paper is the UTC day of its first version's
    /// submission (arXiv's `published`); set it yourself if your feed day is
    /// another (for example the day a user submitted it to Paperboy).
    ///
    /// An entry the importer rejects fails the call with [`ArxivError::Parse`].
    pub async fn fetch_papers(&self, ids: &[ArxivId]) -> Result<Vec<Paper>, ArxivError> {
        let mut papers = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_IDS_PER_REQUEST) {
            let id_list = chunk.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
            let params = [("id_list", id_list), ("max_results", chunk.len().to_string())];
            let (url, feed) = self.query(&params).await?;
            if let Some(r) = feed.rejected.first() {
                return Err(ArxivError::Parse { url, reason: r.to_string() });
            }
            papers.extend(feed.papers);
        }
        Ok(papers)
    }

    /// Fetches one paper; [`ArxivError::NotFound`] when arXiv has no such
    /// paper (or version). See [`fetch_papers`](Self::fetch_papers) for
    /// `listed_on`.
    pub async fn fetch_paper(&self, id: &ArxivId) -> Result<Paper, ArxivError> {
        let papers = self.fetch_papers(std::slice::from_ref(id)).await?;
        papers
            .into_iter()
            .find(|p| p.id.arxiv().is_some_and(|a| a.base() == id.base()))
            .ok_or_else(|| ArxivError::NotFound(id.clone()))
    }

    /// One page of a search (`?search_query=QUERY&start=START&max_results=MAX`,
    /// arXiv's syntax: `cat:cs.LG`, `au:del_maestro AND ti:checkerboard`,
    /// `submittedDate:[202601010000 TO 202601022359]`), newest submissions
    /// first (`sortBy=submittedDate&sortOrder=descending`), which keeps pages
    /// stable while paging. arXiv serves at most 2,000 results a request and
    /// 30,000 in all. Rejected entries are returned in the listing, not as errors.
    pub async fn fetch_listing(&self, query: &str, start: u32, max: u32) -> Result<Listing, ArxivError> {
        let params = [
            ("search_query", query.to_string()),
            ("start", start.to_string()),
            ("max_results", max.to_string()),
            ("sortBy", "submittedDate".to_string()),
            ("sortOrder", "descending".to_string()),
        ];
        let (_, feed) = self.query(&params).await?;
        Ok(Listing { papers: feed.papers, rejected: feed.rejected, total_results: feed.head.total_results, start })
    }

    /// Sends one query (with retries) and parses the answer.
    async fn query(&self, params: &[(&str, String)]) -> Result<(String, Feed), ArxivError> {
        let mut url = self.inner.base_url.clone();
        url.query_pairs_mut().extend_pairs(params.iter().map(|(k, v)| (k, v.as_str())));
        let url_text = url.to_string();
        let (status, body, attempts) = self.get(url, &url_text).await?;
        let today = chrono::Utc::now().date_naive();
        if status == StatusCode::OK {
            // The parser is synchronous; a 2,000-entry page is a few MB, so keep it off the async threads.
            let parse_url = url_text.clone();
            let feed =
                tokio::task::spawn_blocking(move || parse_feed(body, &parse_url, today)).await.map_err(|e| {
                    ArxivError::Parse { url: url_text.clone(), reason: format!("the parser failed: {e}") }
                })??;
            return Ok((url_text, feed));
        }
        // Any other final status (a 4xx): arXiv's own error feed (a bad id is a 400 with an Atom "Error" entry), or not.
        match scan_head(&body).error {
            Some(msg) => Err(ArxivError::Api(msg)),
            None => Err(ArxivError::Status { url: url_text, status: status.as_u16(), attempts, retry_after: None }),
        }
    }

    /// GETs `url`, retrying transient failures. Returns the status (200 or
    /// another non-retryable status), the body and the number of attempts.
    pub(crate) async fn get(&self, url: Url, url_text: &str) -> Result<(StatusCode, Vec<u8>, u32), ArxivError> {
        let config = &self.inner.config;
        let mut attempts = 0;
        loop {
            attempts += 1;
            self.inner.pacer.wait_turn().await;
            debug!(url = url_text, attempts, "arXiv API request");
            let (error, wait) = match self.attempt(url.clone()).await {
                Ok((status, body)) => return Ok((status, body, attempts)),
                Err(Failure::WaitTooLong { status, wait }) => {
                    let url = url_text.to_string();
                    return Err(ArxivError::Status { url, status, attempts, retry_after: Some(wait) });
                }
                Err(Failure::Retry { error, wait }) => (error, wait),
            };
            if attempts > config.max_retries {
                return Err(self.give_up(error, url_text, attempts));
            }
            let wait = wait.unwrap_or_else(|| backoff(config, attempts));
            warn!(url = url_text, attempts, wait_ms = wait.as_millis() as u64, "arXiv API: {}; retrying", error.what());
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(&self, url: Url) -> Result<(StatusCode, Vec<u8>), Failure> {
        let config = &self.inner.config;
        let response =
            self.inner.http.get(url).send().await.map_err(|e| Failure::Retry { error: classify(&e), wait: None })?;
        let status = response.status();
        if is_retryable(status) {
            let retry_after = retry_after(response.headers(), SystemTime::now());
            if let Some(wait) = retry_after.filter(|w| *w > config.max_retry_after) {
                return Err(Failure::WaitTooLong { status: status.as_u16(), wait });
            }
            return Err(Failure::Retry { error: Transport::Status(status.as_u16()), wait: retry_after });
        }
        let body = response.bytes().await.map_err(|e| Failure::Retry { error: classify(&e), wait: None })?;
        Ok((status, body.to_vec()))
    }

    fn give_up(&self, error: Transport, url: &str, attempts: u32) -> ArxivError {
        let url = url.to_string();
        match error {
            Transport::Timeout => ArxivError::Timeout { url, timeout: self.inner.config.timeout, attempts },
            Transport::Connect(detail) => ArxivError::Connect { url, attempts, detail },
            Transport::Dropped(detail) => ArxivError::Dropped { url, attempts, detail },
            Transport::Status(status) => ArxivError::Status { url, status, attempts, retry_after: None },
        }
    }
}

impl Transport {
    fn what(&self) -> String {
        match self {
            Transport::Timeout => "timed out".to_string(),
            Transport::Connect(d) => format!("cannot connect: {d}"),
            Transport::Dropped(d) => format!("connection dropped: {d}"),
            Transport::Status(s) => format!("HTTP {s}"),
        }
    }
}

fn is_retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

fn classify(e: &reqwest::Error) -> Transport {
    if e.is_timeout() {
        Transport::Timeout
    } else if e.is_connect() {
        Transport::Connect(chain(e))
    } else {
        Transport::Dropped(chain(e))
    }
}

/// The innermost useful messages of an error chain, without reqwest's
/// "error sending request for url (...)" wrapper, which repeats the URL.
fn chain(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    if parts.is_empty() { e.to_string() } else { parts.join(": ") }
}

/// The wait before retry number `attempts` (1-based): `backoff * 2^(attempts-1)`, capped.
fn backoff(config: &ArxivSettings, attempts: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempts.saturating_sub(1));
    config.backoff.saturating_mul(factor).min(config.max_backoff)
}

/// `Retry-After` as a wait: delay-seconds or an HTTP date (a past date is no wait).
fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = ArxivSettings {
            backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(10),
            ..Default::default()
        };
        let waits: Vec<u64> = (1..=5).map(|n| backoff(&config, n).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 10, 10]);
        assert_eq!(backoff(&config, 200), Duration::from_secs(10));
    }

    #[test]
    fn retry_after_takes_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // Wed, 21 Oct 2015 07:28:00 GMT
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h, now), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(120)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("Wed, 21 Oct 2015 07:28:30 GMT"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(30)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("Wed, 21 Oct 2015 07:00:00 GMT"));
        assert_eq!(retry_after(&h, now), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn bad_configurations_are_refused() {
        let bad_url = ArxivSettings { base_url: "export.arxiv.org/api/query".into(), ..Default::default() };
        assert!(matches!(ArxivClient::with_config(bad_url), Err(ArxivError::Config(_))));
        let no_time = ArxivSettings { timeout: Duration::ZERO, ..Default::default() };
        assert!(matches!(ArxivClient::with_config(no_time), Err(ArxivError::Config(_))));
        let ua = ArxivSettings { user_agent: "bad\nagent".into(), ..Default::default() };
        assert!(matches!(ArxivClient::with_config(ua), Err(ArxivError::Config(_))));
    }

    #[test]
    fn the_default_user_agent_names_paperboy() {
        assert!(ArxivClient::new().unwrap().config().user_agent.starts_with("Paperboy/"));
    }
}
