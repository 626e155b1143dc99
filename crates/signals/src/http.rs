//! The HTTP plumbing both API clients share: one GET with the governor's
//! pacing and limits, redirects followed by hand (so that a client can tell
//! it was moved), retries with backoff for transport failures and 5xx, and
//! the rate-limit answers (403/429 with `Retry-After`, a zero remaining, or
//! a secondary limit) turned into waits shared by every clone.

use std::error::Error as _;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, IF_NONE_MATCH, LOCATION, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use tracing::{debug, warn};

use crate::FetchError;
use crate::governor::Governor;

/// At most this many redirects are followed for one request.
const MAX_REDIRECTS: u32 = 5;

/// Settings of a [`Transport`].
#[derive(Debug, Clone)]
pub(crate) struct TransportConfig {
    pub service: &'static str,
    pub user_agent: String,
    pub default_headers: HeaderMap,
    pub timeout: Duration,
    pub interval: Duration,
    pub max_wait: Duration,
    pub max_retries: u32,
    pub backoff: Duration,
    pub max_backoff: Duration,
    pub secondary_wait: Duration,
}

#[derive(Debug)]
pub(crate) struct Transport {
    http: reqwest::Client,
    governor: Governor,
    config: TransportConfig,
}

/// A final answer.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

pub(crate) enum Outcome {
    Reply(Reply),
    /// Nothing (more) was sent: the limits say to wait until then, longer
    /// than the configured `max_wait`.
    RateLimited(SystemTime),
}

enum Transient {
    Timeout,
    Connect(String),
    Dropped(String),
    Status(u16),
}

impl Transport {
    pub(crate) fn new(config: TransportConfig) -> Result<Self, FetchError> {
        if config.timeout.is_zero() {
            return Err(FetchError::Config("the timeout must be more than zero".into()));
        }
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent.as_str())
            .default_headers(config.default_headers.clone())
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| FetchError::Config(format!("cannot build the HTTP client: {}", chain(&e))))?;
        let governor = Governor::new(config.interval);
        Ok(Transport { http, governor, config })
    }

    pub(crate) fn remaining(&self) -> Option<u64> {
        self.governor.remaining()
    }

    /// GETs `url` with these extra headers.
    pub(crate) async fn get(&self, url: Url, mut headers: HeaderMap) -> Result<Outcome, FetchError> {
        let c = &self.config;
        let mut url = url;
        let (mut attempts, mut redirects, mut limited) = (0u32, 0u32, 0u32);
        loop {
            if let Err(until) = self.governor.admit(c.max_wait).await {
                debug!(url = %url, "{}: rate-limited, not sending", c.service);
                return Ok(Outcome::RateLimited(until));
            }
            attempts += 1;
            debug!(url = %url, attempts, "{} request", c.service);
            let failure = match self.http.get(url.clone()).headers(headers.clone()).send().await {
                Err(e) => classify(&e),
                Ok(response) => {
                    let status = response.status();
                    let head = response.headers().clone();
                    self.governor.observe(header_u64(&head, "x-ratelimit-remaining"), reset_time(&head));
                    if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                        let next = head.get(LOCATION).and_then(|l| l.to_str().ok()).and_then(|l| url.join(l).ok());
                        match next {
                            Some(next) if redirects < MAX_REDIRECTS => {
                                debug!(from = %url, to = %next, "{}: redirected", c.service);
                                redirects += 1;
                                url = next;
                                // The stored ETag was for the old address; ask for the whole answer.
                                headers.remove(IF_NONE_MATCH);
                                attempts -= 1;
                                continue;
                            }
                            _ => {
                                return Err(FetchError::TooManyRedirects { service: c.service, url: url.to_string() });
                            }
                        }
                    }
                    match response.bytes().await {
                        Err(e) => classify(&e),
                        Ok(body) => {
                            let reply = Reply { status, headers: head, body: body.to_vec() };
                            match self.limit_wait(&reply) {
                                Some(wait) => {
                                    let until = SystemTime::now() + wait;
                                    self.governor.block_until(until);
                                    limited += 1;
                                    warn!(url = %url, wait_s = wait.as_secs_f64(), "{}: rate limit (HTTP {status}); waiting", c.service);
                                    if wait > c.max_wait || limited > c.max_retries {
                                        return Ok(Outcome::RateLimited(until));
                                    }
                                    attempts -= 1;
                                    continue;
                                }
                                None if matches!(status.as_u16(), 500 | 502 | 503 | 504) => {
                                    Transient::Status(status.as_u16())
                                }
                                None => return Ok(Outcome::Reply(reply)),
                            }
                        }
                    }
                }
            };
            if attempts > c.max_retries {
                return Err(self.give_up(failure, &url, attempts));
            }
            let wait = backoff(c.backoff, c.max_backoff, attempts);
            warn!(url = %url, attempts, wait_ms = wait.as_millis() as u64, "{}: {}; retrying", c.service, failure.what());
            tokio::time::sleep(wait).await;
        }
    }

    /// How long a rate-limit answer asks to wait, or `None` when the answer
    /// is not one. A 403 or 429 is a rate limit when it carries
    /// `Retry-After`, says no request remains (then the governor already
    /// holds everyone until the reset: no extra wait), or says so in its
    /// message (a secondary limit without `Retry-After`: wait
    /// `secondary_wait`, as GitHub asks, at least a minute).
    fn limit_wait(&self, reply: &Reply) -> Option<Duration> {
        if !matches!(reply.status.as_u16(), 403 | 429) {
            return None;
        }
        if let Some(wait) = retry_after(&reply.headers, SystemTime::now()) {
            return Some(wait);
        }
        if header_u64(&reply.headers, "x-ratelimit-remaining") == Some(0) {
            return Some(match reset_time(&reply.headers) {
                Some(reset) => reset.duration_since(SystemTime::now()).unwrap_or(Duration::from_secs(1)),
                None => self.config.secondary_wait,
            });
        }
        let says_so = String::from_utf8_lossy(&reply.body).to_ascii_lowercase().contains("rate limit");
        (reply.status.as_u16() == 429 || says_so).then_some(self.config.secondary_wait)
    }

    fn give_up(&self, failure: Transient, url: &Url, attempts: u32) -> FetchError {
        let (service, url) = (self.config.service, url.to_string());
        match failure {
            Transient::Timeout => FetchError::Timeout { service, url, timeout: self.config.timeout, attempts },
            Transient::Connect(detail) => FetchError::Connect { service, url, attempts, detail },
            Transient::Dropped(detail) => FetchError::Dropped { service, url, attempts, detail },
            Transient::Status(status) => FetchError::Status { service, url, status, attempts },
        }
    }
}

impl Transient {
    fn what(&self) -> String {
        match self {
            Transient::Timeout => "timed out".to_string(),
            Transient::Connect(d) => format!("cannot connect: {d}"),
            Transient::Dropped(d) => format!("connection dropped: {d}"),
            Transient::Status(s) => format!("HTTP {s}"),
        }
    }
}

fn classify(e: &reqwest::Error) -> Transient {
    if e.is_timeout() {
        Transient::Timeout
    } else if e.is_connect() {
        Transient::Connect(chain(e))
    } else {
        Transient::Dropped(chain(e))
    }
}

/// The innermost messages of an error chain, without reqwest's wrapper that repeats the URL.
pub(crate) fn chain(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    if parts.is_empty() { e.to_string() } else { parts.join(": ") }
}

/// `backoff * 2^(attempts-1)`, capped.
fn backoff(first: Duration, cap: Duration, attempts: u32) -> Duration {
    first.saturating_mul(2u32.saturating_pow(attempts.saturating_sub(1))).min(cap)
}

pub(crate) fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// `X-RateLimit-Reset` (UTC epoch seconds) as a time.
fn reset_time(headers: &HeaderMap) -> Option<SystemTime> {
    header_u64(headers, "x-ratelimit-reset").map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s))
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
    fn limit_headers_are_read() {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        h.insert("x-ratelimit-reset", HeaderValue::from_static("1772100000"));
        assert_eq!(header_u64(&h, "x-ratelimit-remaining"), Some(0));
        assert_eq!(reset_time(&h), Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_772_100_000)));
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // Wed, 21 Oct 2015 07:28:00 GMT
        h.insert(RETRY_AFTER, HeaderValue::from_static("Wed, 21 Oct 2015 07:28:30 GMT"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(30)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("61"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(61)));
        assert_eq!(backoff(Duration::from_secs(2), Duration::from_secs(10), 3), Duration::from_secs(8));
        assert_eq!(backoff(Duration::from_secs(2), Duration::from_secs(10), 30), Duration::from_secs(10));
    }
}
