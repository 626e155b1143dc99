//! What can go wrong fetching signals, each with a hint of what to do next.
//! Transport failures say how many attempts were made (the client has
//! already retried them); the others were not retried because retrying
//! would not help. A rate limit is not an error for the GitHub client (it
//! answers `RateLimited`), but is for calls that have nothing else to say.

use std::time::Duration;

use chrono::{DateTime, Utc};
use thiserror::Error;

/// A GitHub or Hugging Face API call failed. `service` names the API.
#[derive(Debug, Error)]
pub enum FetchError {
    /// No complete answer within the timeout, on every attempt.
    #[error(
        "the {service} did not answer within {}s ({}, {url}): it may be slow or overloaded; \
         try again later or raise the timeout",
        timeout.as_secs_f64(), tries(*attempts)
    )]
    Timeout { service: &'static str, url: String, timeout: Duration, attempts: u32 },

    /// The connection could not be made (refused, DNS, TLS, proxy).
    #[error(
        "cannot connect to the {service} ({}, {url}): {detail}; check the network, DNS, proxy \
         settings and the configured base URL",
        tries(*attempts)
    )]
    Connect { service: &'static str, url: String, attempts: u32, detail: String },

    /// The connection broke before a complete response.
    #[error(
        "the {service} dropped the connection before a complete response ({}, {url}): {detail}; \
         try again in a few minutes",
        tries(*attempts)
    )]
    Dropped { service: &'static str, url: String, attempts: u32, detail: String },

    /// An HTTP status that is not an answer (a 5xx that persisted through
    /// the retries, or an unexpected 4xx).
    #[error("the {service} answered HTTP {status} ({}, {url}): check the configured base URL, or try again later", tries(*attempts))]
    Status { service: &'static str, url: String, status: u16, attempts: u32 },

    /// HTTP 401: the token was refused.
    #[error(
        "the {service} refused the token (HTTP 401, {url}): check PAPERBOY_GITHUB_TOKEN (expired or \
         revoked?), or unset it to fetch without one, slowly"
    )]
    Unauthorized { service: &'static str, url: String },

    /// HTTP 403 that is not a rate limit (for example a repository blocked
    /// for its owner's account).
    #[error("the {service} refused access to {url} (HTTP 403): {message}")]
    Forbidden { service: &'static str, url: String, message: String },

    /// The API asks to wait longer than the client is configured to.
    #[error(
        "the {service} is rate-limited until {until} ({url}); nothing was sent: try again after \
         that (a token raises GitHub's limit from 60 to 5,000 requests an hour)"
    )]
    RateLimited { service: &'static str, url: String, until: DateTime<Utc> },

    /// The body could not be read as the documented JSON.
    #[error(
        "cannot read the {service} response ({url}): {reason} (the API may have answered with an \
         error page or changed its format; try again later, and report it if it persists)"
    )]
    Parse { service: &'static str, url: String, reason: String },

    /// More than a few redirects in a row.
    #[error("the {service} redirected too many times ({url}): check the configured base URL")]
    TooManyRedirects { service: &'static str, url: String },

    /// The client configuration is unusable.
    #[error("invalid signals client configuration: {0}")]
    Config(String),
}

fn tries(attempts: u32) -> String {
    if attempts == 1 { "1 attempt".to_string() } else { format!("{attempts} attempts") }
}

impl FetchError {
    /// True when the same call may succeed later (transport failures,
    /// timeouts, 5xx, rate limits).
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Timeout { .. }
            | FetchError::Connect { .. }
            | FetchError::Dropped { .. }
            | FetchError::RateLimited { .. } => true,
            FetchError::Status { status, .. } => *status >= 500 || *status == 429,
            FetchError::Unauthorized { .. }
            | FetchError::Forbidden { .. }
            | FetchError::Parse { .. }
            | FetchError::TooManyRedirects { .. }
            | FetchError::Config(_) => false,
        }
    }
}
