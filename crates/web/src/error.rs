//! The one error type of the HTTP layer and how it becomes a response: an
//! HTML page for the site, `{"error": "..."}` for the JSON API.
//!
//! Messages of 4xx errors are written for the person who typed the URL and
//! are shown as they are. The store's refusals (a taken username, someone
//! else's comment, an unknown paper, a used link) are 4xx with the store's
//! message; a store or search-index failure is logged with
//! `tracing::error!` and shown only as a generic message. A 429, and a 503
//! for a server too busy hashing passwords, carry `Retry-After`.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use paperboy_core::{CoreError, PaperId};
use paperboy_search::SearchError;
use paperboy_store::StoreError;
use thiserror::Error;

use crate::WebSettings;
use crate::pages;

/// Shown instead of the details of a server-side failure.
pub const GENERIC_500: &str = "Something went wrong on our side. The error has been logged; please try again later.";

/// Why search answers 503 when the server runs without a search index.
pub const SEARCH_OFF: &str = "Search is not set up on this server: it was started without a search index. Browse the papers by day, week or month instead.";

/// Everything a request can fail with.
#[derive(Debug, Error)]
pub enum WebError {
    /// The request is malformed: a bad id, date, parameter... The message
    /// says what was wrong and what is expected.
    #[error("{0}")]
    BadRequest(String),
    /// A valid paper id that is not in the catalog.
    #[error("We don't have {0} yet")]
    UnknownPaper(PaperId),
    /// No route at this path (the path is kept for the message).
    #[error("There is no page at {0}")]
    NoRoute(String),
    #[error("This method is not allowed here (the Allow header lists the ones that are)")]
    MethodNotAllowed,
    /// Not logged in, or no valid API token (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Logged in but not allowed, or a form without a valid CSRF token (403).
    #[error("{0}")]
    Forbidden(String),
    /// Something other than a paper that does not exist (a comment, a member).
    #[error("{0}")]
    NotFound(String),
    /// A link that worked once and has expired (410).
    #[error("{0}")]
    Gone(String),
    /// A form body over the limit (413).
    #[error("The form is too large")]
    TooLarge,
    /// An upload over its limit (413); the message says the limit and what to do.
    #[error("{0}")]
    TooLargeUpload(String),
    /// Too many failed attempts; try again after `retry_after` seconds (429).
    #[error("Too many failed attempts: wait {} and try again", wait_text(*retry_after))]
    TooManyAttempts { retry_after: u64 },
    /// Too many of something allowed only so often (comments a minute);
    /// the message says what and how long to wait (429 with `Retry-After`).
    #[error("{message}")]
    RateLimited { message: String, retry_after: u64 },
    /// Every password-hashing permit is taken; try again after
    /// `retry_after` seconds (503).
    #[error("The server is busy checking passwords: wait {} and try again", wait_text(*retry_after))]
    Busy { retry_after: u64 },
    /// The server runs without a search engine.
    #[error("{}", SEARCH_OFF)]
    SearchOff,
    /// The store failed; details go to the log, not to the client.
    #[error("store failure: {0}")]
    Store(StoreError),
    /// The search index failed; details go to the log, not to the client.
    #[error("search failure: {0}")]
    Search(#[from] SearchError),
    /// The request's body did not arrive within the server's body timeout (408).
    #[error(
        "The request body arrived too slowly, so the server stopped waiting for it. Check your connection and send the form again."
    )]
    SlowBody,
    /// A handler panicked; the panic is logged with this id (500).
    #[error(
        "Something went wrong on our side (request id {request_id}). The error has been logged; please try again later, and quote the request id if you report it."
    )]
    Panicked { request_id: String },
    /// Anything else that is our fault; logged, shown as a generic message.
    #[error("internal error: {0}")]
    Internal(String),
}

/// "14 minutes", "1 minute", "30 seconds".
fn wait_text(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs} second{}", if secs == 1 { "" } else { "s" }),
        _ => {
            let m = secs.div_ceil(60);
            format!("{m} minute{}", if m == 1 { "" } else { "s" })
        }
    }
}

/// The store's refusals are the client's doing (4xx); its failures are ours.
impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        let msg = capitalize(&e.to_string());
        match e {
            StoreError::Invalid(_)
            | StoreError::UsernameTaken { .. }
            | StoreError::EmailTaken
            | StoreError::BadReply { .. }
            | StoreError::TokenUnknown
            | StoreError::TokenUsed
            | StoreError::TooMany { .. }
            | StoreError::DigestNeedsMember
            | StoreError::NulInText => WebError::BadRequest(msg),
            StoreError::TokenExpired => WebError::Gone(msg),
            StoreError::PaperNotFound { .. } | StoreError::CommentNotFound(_) | StoreError::UserNotFound(_) => {
                WebError::NotFound(msg)
            }
            StoreError::NotCommentAuthor(_) | StoreError::CommentHidden(_) => WebError::Forbidden(msg),
            other => WebError::Store(other),
        }
    }
}

impl From<paperboy_services::accounts::AccountError> for WebError {
    fn from(e: paperboy_services::accounts::AccountError) -> Self {
        use paperboy_services::accounts::AccountError as A;
        match e {
            // The store's refusals (a used or expired link) stay 4xx.
            A::Store(s) => WebError::from(s),
            A::Hash(h) => WebError::Internal(h),
            A::WrongCredentials | A::Suspended => WebError::Unauthorized(capitalize(&e.to_string())),
            A::Limited(l) => l.into(),
            other => WebError::BadRequest(capitalize(&other.to_string())),
        }
    }
}

impl From<paperboy_services::limits::LimitError> for WebError {
    fn from(e: paperboy_services::limits::LimitError) -> Self {
        use paperboy_services::limits::LimitError as L;
        match e {
            L::TooMany { retry_after } => WebError::TooManyAttempts { retry_after },
            L::Busy { retry_after } => WebError::Busy { retry_after },
            L::Store(s) => s.into(),
        }
    }
}

impl From<paperboy_services::comments::CommentError> for WebError {
    fn from(e: paperboy_services::comments::CommentError) -> Self {
        use paperboy_services::comments::CommentError as C;
        match e {
            C::NotAdmin => WebError::Forbidden("Only admins can hide comments.".to_string()),
            C::TooMany { retry_after, .. } => {
                WebError::RateLimited { message: capitalize(&e.to_string()), retry_after }
            }
            C::Store(e) => e.into(),
        }
    }
}

impl From<paperboy_services::recommend::RecsError> for WebError {
    fn from(e: paperboy_services::recommend::RecsError) -> Self {
        use paperboy_services::recommend::RecsError as R;
        match e {
            R::Store(e) => e.into(),
            e @ R::Search(_) => WebError::Internal(e.to_string()),
        }
    }
}

impl From<paperboy_services::papers::PaperError> for WebError {
    fn from(e: paperboy_services::papers::PaperError) -> Self {
        use paperboy_services::papers::PaperError as P;
        match e {
            P::Unknown(id) => WebError::UnknownPaper(id),
            P::NotAdmin => WebError::Forbidden("Only admins can hide papers.".to_string()),
            P::Store(e) => e.into(),
        }
    }
}

/// Broken subscription links are 400 (garbled, forged) or 410 (expired), a
/// vanished subscription 404, the store's refusals 4xx; the rest is ours.
impl From<paperboy_services::subscriptions::SubscriptionError> for WebError {
    fn from(e: paperboy_services::subscriptions::SubscriptionError) -> Self {
        use paperboy_mail::TokenError;
        use paperboy_services::subscriptions::SubscriptionError as S;
        match e {
            S::Link(e) => {
                let msg = capitalize(&e.to_string());
                match e {
                    TokenError::Invalid => WebError::BadRequest(msg),
                    TokenError::Expired => WebError::Gone(msg),
                }
            }
            e @ (S::Gone | S::NoDigest) => WebError::NotFound(format!("{}.", capitalize(&e.to_string()))),
            e @ S::Unverified(_) => WebError::Forbidden(format!("{}.", capitalize(&e.to_string()))),
            S::Mail(e) => WebError::Internal(e.to_string()),
            S::Limited(l) => l.into(),
            e @ S::BadAddress(_) => WebError::BadRequest(capitalize(&e.to_string())),
            S::Store(
                e @ (StoreError::TooManySavedSearches { .. }
                | StoreError::TooManyCategories { .. }
                | StoreError::TooMany { .. }
                | StoreError::DigestNeedsMember
                | StoreError::SubscriberNotFound(_)),
            ) => {
                let msg = capitalize(&e.to_string());
                if matches!(e, StoreError::SubscriberNotFound(_)) {
                    WebError::NotFound(msg)
                } else {
                    WebError::BadRequest(msg)
                }
            }
            S::Store(e) => e.into(),
        }
    }
}

/// The message with its first letter in upper case, for a page ("arXiv"
/// keeps its spelling).
pub fn capitalize(s: &str) -> String {
    if s.starts_with("arXiv") {
        return s.to_string();
    }
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

impl From<CoreError> for WebError {
    fn from(e: CoreError) -> Self {
        WebError::BadRequest(e.to_string())
    }
}

impl WebError {
    pub fn bad(message: impl Into<String>) -> Self {
        WebError::BadRequest(message.into())
    }

    /// A 404 for a path, with the path shortened so that a huge URL does
    /// not come back as a huge page.
    pub fn no_route(path: &str) -> Self {
        let mut shown: String = path.chars().take(200).collect();
        if shown.len() < path.len() {
            shown.push('…');
        }
        WebError::NoRoute(shown)
    }

    pub fn status(&self) -> StatusCode {
        match self {
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::UnknownPaper(_) | WebError::NoRoute(_) | WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            WebError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::Gone(_) => StatusCode::GONE,
            WebError::TooLarge | WebError::TooLargeUpload(_) => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::TooManyAttempts { .. } | WebError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            WebError::SlowBody => StatusCode::REQUEST_TIMEOUT,
            WebError::Panicked { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            WebError::SearchOff | WebError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Store(_) | WebError::Search(_) | WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the client is told: the message for 4xx, a generic text for 5xx.
    pub fn public_message(&self) -> String {
        match self {
            WebError::Store(_) | WebError::Search(_) | WebError::Internal(_) => GENERIC_500.to_string(),
            other => other.to_string(),
        }
    }

    fn log(&self) {
        match self {
            WebError::Store(e) => tracing::error!(error = %e, "request failed: store error"),
            WebError::Search(e) => tracing::error!(error = %e, "request failed: search index error"),
            WebError::Internal(e) => tracing::error!(error = %e, "request failed: internal error"),
            _ => {}
        }
    }

    /// The error as the JSON API reports it: `{"error": "..."}`.
    pub fn into_json_response(self) -> Response {
        self.log();
        let body = serde_json::json!({ "error": self.public_message() }).to_string();
        let mut r = (self.status(), [(header::CONTENT_TYPE, "application/json")], body).into_response();
        self.add_headers(&mut r);
        r
    }

    /// `Retry-After` on 429s and on a busy server's 503s.
    fn add_headers(&self, r: &mut Response) {
        if let WebError::TooManyAttempts { retry_after }
        | WebError::RateLimited { retry_after, .. }
        | WebError::Busy { retry_after } = self
        {
            r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(*retry_after));
        }
    }

    /// The error as an HTML page in the site's layout.
    pub fn into_html_response(self, config: &WebSettings) -> Response {
        self.log();
        let status = self.status();
        let mut r = pages::html_response(status, pages::error::render(config, &self));
        self.add_headers(&mut r);
        r
    }
}

/// Turns a handler's result into a response, rendering errors as HTML.
pub fn html_result(config: &WebSettings, result: Result<Response, WebError>) -> Response {
    result.unwrap_or_else(|e| e.into_html_response(config))
}

/// Turns a handler's result into a response, rendering errors as JSON.
pub fn json_result(result: Result<Response, WebError>) -> Response {
    result.unwrap_or_else(WebError::into_json_response)
}
