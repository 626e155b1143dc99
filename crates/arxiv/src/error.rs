//! What can go wrong talking to the arXiv API, each with a hint of what to
//! do next. Transport failures say how many attempts were made (the client
//! has already retried them); the others were not retried because retrying
//! would not help.

use std::time::Duration;

use paperboy_core::ArxivId;
use thiserror::Error;

/// An arXiv API call failed.
#[derive(Debug, Error)]
pub enum ArxivError {
    /// No complete answer within the configured timeout, on every attempt.
    #[error(
        "the arXiv API did not answer within {}s ({}, {url}): arXiv may be slow \
         or overloaded; try again in a few minutes or raise the timeout",
        timeout.as_secs_f64(), tries(*attempts)
    )]
    Timeout { url: String, timeout: Duration, attempts: u32 },

    /// The connection could not be made (refused, DNS, TLS, proxy).
    #[error(
        "cannot connect to the arXiv API ({}, {url}): {detail}; check the network, \
         DNS, proxy settings and the configured base URL",
        tries(*attempts)
    )]
    Connect { url: String, attempts: u32, detail: String },

    /// The connection was made but closed or broken before a complete response.
    #[error(
        "the arXiv API dropped the connection before a complete response ({}, {url}): \
         {detail}; arXiv may be restarting or shedding load, try again in a few minutes",
        tries(*attempts)
    )]
    Dropped { url: String, attempts: u32, detail: String },

    /// An HTTP status that is not an answer: a 4xx other than arXiv's own
    /// error feed, or a 5xx/429 that persisted through the retries or asked
    /// to wait longer than the client is configured to.
    #[error("the arXiv API answered HTTP {status} ({}, {url}){}", tries(*attempts), status_hint(*status, *retry_after))]
    Status { url: String, status: u16, attempts: u32, retry_after: Option<Duration> },

    /// arXiv understood the request and refused it (its Atom "Error" entry),
    /// e.g. `incorrect id format for abc`.
    #[error("arXiv refused the request: {0} (check the id or query you sent)")]
    Api(String),

    /// arXiv answered, but has no paper with this id.
    #[error(
        "arXiv has no paper {0} (check the id, and its version if it has one; a new submission \
         only appears once arXiv has announced it)"
    )]
    NotFound(ArxivId),

    /// The response could not be read as an arXiv Atom feed.
    #[error(
        "cannot read the arXiv API response ({url}): {reason} (arXiv may have answered with an error \
         page; try again later, and report it if it persists)"
    )]
    Parse { url: String, reason: String },

    /// An OAI-PMH server answered with an `<error>` other than
    /// `noRecordsMatch` (which is an empty result, not an error).
    #[error("the OAI-PMH server answered {url} with error \"{code}\": {message} ({hint})")]
    Oai { url: String, code: String, message: String, hint: String },

    /// The client configuration is unusable.
    #[error("invalid arXiv client configuration: {0}")]
    Config(String),
}

fn tries(attempts: u32) -> String {
    if attempts == 1 { "1 attempt".to_string() } else { format!("{attempts} attempts") }
}

fn status_hint(status: u16, retry_after: Option<Duration>) -> String {
    match (status, retry_after) {
        (_, Some(wait)) => format!(
            ": arXiv asks to wait {}s before the next request, longer than this client will wait; \
             try again after that",
            wait.as_secs()
        ),
        (429 | 500..=599, None) => ": arXiv is overloaded or unavailable; try again in a few minutes".to_string(),
        (404, None) => ": check the configured base URL (it should end in /api/query)".to_string(),
        _ => ": check the request and the configured base URL".to_string(),
    }
}

impl ArxivError {
    /// True when trying the same call again later may succeed (transport
    /// failures, timeouts, overload statuses).
    pub fn is_transient(&self) -> bool {
        match self {
            ArxivError::Timeout { .. } | ArxivError::Connect { .. } | ArxivError::Dropped { .. } => true,
            ArxivError::Status { status, .. } => *status == 429 || *status >= 500,
            ArxivError::Api(_)
            | ArxivError::Oai { .. }
            | ArxivError::NotFound(_)
            | ArxivError::Parse { .. }
            | ArxivError::Config(_) => false,
        }
    }
}
