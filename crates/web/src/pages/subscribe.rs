//! Email digests on the site: subscribing without an account (double
//! opt-in), the confirmation link, one-click unsubscribe, and the manage
//! page that every mail links to.
//!
//! * `GET /subscribe?email=…`: the form (the box on every page is a plain
//!   GET form, so that cached pages carry no CSRF token); `POST /subscribe`
//!   (CSRF-checked, rate limited per client address) records the address
//!   and queues the confirmation mail. The answer is the same whether or
//!   not the address was subscribed, so the form tells nobody who is.
//! * `GET /subscribe/confirm/{token}`: a signed, expiring link confirms.
//! * `GET /unsubscribe/{token}` shows a button; `POST` unsubscribes. The
//!   POST needs no CSRF token (RFC 8058 one-click comes from mail
//!   providers): the signed token is the proof.
//! * `GET|POST /subscription/{token}`: frequency, categories and saved
//!   searches, reached with the signed manage link (CSRF-checked forms).
//!
//! Forged, garbled and expired links are 400, each with what to do next.

use crate::pages::account::{form_response, simple_page};
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Utc;
use maud::{Markup, html};
use paperboy_core::Email;
use paperboy_mail::{Postman, Purpose, TokenError};
use paperboy_store::{Database, Frequency, MAX_CATEGORIES, MAX_SAVED_SEARCHES, StoreError, Subscriber, SubscriberId};

use crate::AppState;
use crate::auth::{self, Form, MaybeUser};
use crate::error::{WebError, html_result};
use crate::params::QueryString;
use crate::ratelimit::FailureLimiter;

/// Subscribe requests per client address per window.
pub const SUBSCRIBE_MAX: u32 = 10;
/// Longest saved-search query accepted.
pub const MAX_QUERY_CHARS: usize = 200;

/// The subscribe form's rate limit, per `ip:…` (every request counts).
pub struct SubscribeLimit(pub FailureLimiter);

impl SubscribeLimit {
    pub fn new(store: Arc<dyn Database>) -> Self {
        SubscribeLimit(FailureLimiter::new(store, "subscribe", SUBSCRIBE_MAX, Duration::from_secs(15 * 60)))
    }
}

pub const MAIL_OFF: &str = "Email digests are not set up on this site (the server has no SMTP server configured). Use the Atom or RSS feeds instead.";

/// The mail service, or the 404 that says digests are off here.
pub fn postman(st: &AppState) -> Result<&Arc<Postman>, WebError> {
    st.mail.as_ref().ok_or_else(|| WebError::NotFound(MAIL_OFF.to_string()))
}

fn token_error(e: TokenError) -> WebError {
    // The visitor's link, not our failure: 400 for a broken or forged one,
    // 410 for one that worked until it expired; both say what to do next.
    let msg = crate::error::capitalize(&e.to_string());
    match e {
        TokenError::Invalid => WebError::BadRequest(msg),
        TokenError::Expired => WebError::Gone(msg),
    }
}

/// The subscriber a signed link is for.
async fn subscriber_of(st: &AppState, token: &str, purpose: Purpose) -> Result<Subscriber, WebError> {
    let id = postman(st)?.signer().verify(token, purpose, Utc::now()).map_err(token_error)?;
    st.store.subscriber(id).await?.ok_or_else(|| {
        WebError::NotFound("This subscription no longer exists: subscribe again from any page.".to_string())
    })
}

fn store_refusal(e: StoreError) -> WebError {
    match e {
        StoreError::TooManySavedSearches { .. } | StoreError::TooManyCategories { .. } => {
            WebError::BadRequest(crate::error::capitalize(&e.to_string()))
        }
        StoreError::SubscriberNotFound(_) => WebError::NotFound(crate::error::capitalize(&e.to_string())),
        other => other.into(),
    }
}

fn subscribe_form(st: &AppState, csrf: &str, email: &str, error: Option<&str>) -> String {
    let body = html! {
        section.account-form {
            h1 { "Get trending papers in your email inbox" }
            @if let Some(e) = error { p.form-error role="alert" { (e) } }
            p { "Every weekday morning (or once a week, as you choose), the papers people are reading. "
                "We send one mail to confirm your address first; every mail has a one-click unsubscribe link." }
            form method="post" action="/subscribe" {
                input type="hidden" name="csrf" value=(csrf);
                label { "Email" input type="email" name="email" value=(email) required autocomplete="email" maxlength="254"; }
                button type="submit" { "Subscribe" }
            }
        }
    };
    simple_page(st, "Subscribe", body)
}

/// `GET /subscribe?email=…`.
pub async fn form_page(State(st): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let result = async {
        postman(&st)?;
        let q = QueryString::parse(q.as_deref())?;
        let email = q.get("email").unwrap_or("").chars().take(254).collect::<String>();
        let (csrf, cookie) = auth::form_token(&st, &headers)?;
        Ok(form_response(StatusCode::OK, subscribe_form(&st, &csrf, &email, None), cookie))
    };
    html_result(&st.config, result.await)
}

/// `POST /subscribe`.
pub async fn subscribe(
    State(st): State<AppState>,
    Extension(limit): Extension<Arc<SubscribeLimit>>,
    MaybeUser(viewer): MaybeUser,
    headers: HeaderMap,
    request_ext: axum::http::Extensions,
    body: Bytes,
) -> Response {
    let result = async {
        let mail = postman(&st)?;
        let ip_key = auth::client_key("ip", &request_ext);
        limit.0.attempt(&ip_key).await?;
        let form = Form::parse(&body)?;
        let typed = form.raw("email");
        let email = match Email::parse(typed) {
            Ok(e) => e,
            Err(e) => {
                let (csrf, cookie) = auth::form_token(&st, &headers)?;
                let msg = crate::error::capitalize(&e.to_string());
                let shown: String = typed.chars().filter(|c| !c.is_control()).take(254).collect();
                return Ok(form_response(
                    StatusCode::BAD_REQUEST,
                    subscribe_form(&st, &csrf, &shown, Some(&msg)),
                    cookie,
                ));
            }
        };
        // A member subscribing their own verified address needs no opt-in mail.
        let own =
            viewer.as_ref().map(|v| v.user()).filter(|u| u.email.key() == email.key() && u.email_verified_at.is_some());
        let sub = st.store.subscribe(&email, own.map(|u| u.id)).await?;
        if own.is_some() {
            st.store.confirm_subscriber(sub.id).await?;
        } else if sub.confirmed_at.is_none() {
            mail.send_confirmation(&sub).await.map_err(|e| WebError::Internal(e.to_string()))?;
        }
        let body = html! {
            section.notice {
                h1 { "Check your inbox" }
                @if own.is_some() {
                    p { "You are subscribed with " strong { (email) } ". Manage it in your " a href="/settings" { "settings" } "." }
                } @else {
                    p { "If " strong { (email) } " is not subscribed yet, a mail with a confirmation link is on its way. "
                        "Open it to start receiving the digest." }
                }
                p { a href="/" { "← To the papers" } }
            }
        };
        Ok(form_response(StatusCode::OK, simple_page(&st, "Check your inbox", body), None))
    };
    html_result(&st.config, result.await)
}

/// `GET /subscribe/confirm/{token}`.
pub async fn confirm(State(st): State<AppState>, Path(token): Path<String>) -> Response {
    let result = async {
        let sub = subscriber_of(&st, &token, Purpose::Confirm).await?;
        let sub = st.store.confirm_subscriber(sub.id).await.map_err(store_refusal)?;
        let manage = postman(&st)?.builder.manage_url(sub.id);
        let body = html! {
            section.notice {
                h1 { "You are subscribed" }
                p { "The digest will come to " strong { (sub.email) } " " (frequency_words(sub.frequency)) "." }
                p { a href=(manage) { "Choose categories, saved searches and how often" } }
                p { a href="/" { "← To the papers" } }
            }
        };
        Ok(form_response(StatusCode::OK, simple_page(&st, "Subscribed", body), None))
    };
    html_result(&st.config, result.await)
}

fn frequency_words(f: Frequency) -> &'static str {
    match f {
        Frequency::Daily => "every weekday morning",
        Frequency::Weekly => "every Monday morning",
    }
}

/// `GET /unsubscribe/{token}`: a button, so that link scanners that open
/// every URL in a mail do not unsubscribe anyone.
pub async fn unsubscribe_page(State(st): State<AppState>, Path(token): Path<String>) -> Response {
    let result = async {
        let sub = subscriber_of(&st, &token, Purpose::Unsubscribe).await?;
        let body = html! {
            section.account-form {
                h1 { "Unsubscribe" }
                @if sub.unsubscribed_at.is_some() {
                    p { strong { (sub.email) } " is not subscribed any more." }
                } @else {
                    p { "Stop sending digests to " strong { (sub.email) } "?" }
                    form method="post" action=(format!("/unsubscribe/{token}")) {
                        button type="submit" { "Unsubscribe" }
                    }
                }
            }
        };
        Ok(form_response(StatusCode::OK, simple_page(&st, "Unsubscribe", body), None))
    };
    html_result(&st.config, result.await)
}

/// `POST /unsubscribe/{token}`: the button, or RFC 8058 one-click.
pub async fn unsubscribe(State(st): State<AppState>, Path(token): Path<String>) -> Response {
    let result = async {
        let sub = subscriber_of(&st, &token, Purpose::Unsubscribe).await?;
        st.store.unsubscribe(sub.id).await?;
        tracing::info!(subscriber = %sub.id, "unsubscribed");
        let body = html! {
            section.notice {
                h1 { "Unsubscribed" }
                p { "No more digests will be sent to " strong { (sub.email) } "." }
                p { "Changed your mind? " a href=(format!("/subscribe?email={}", crate::params::percent_encode(sub.email.as_str()))) { "Subscribe again" } "." }
            }
        };
        Ok(form_response(StatusCode::OK, simple_page(&st, "Unsubscribed", body), None))
    };
    html_result(&st.config, result.await)
}

/// The manage form for a subscriber; `action` is where it posts.
pub async fn manage_body(
    st: &AppState,
    sub: &Subscriber,
    action: &str,
    csrf: &str,
    error: Option<&str>,
    notice: Option<&str>,
) -> Result<Markup, WebError> {
    let searches = st.store.saved_searches(sub.id).await?;
    let unsubscribe = postman(st)?.builder.unsubscribe_url(sub.id);
    Ok(html! {
        section.account-form.digest-settings {
            h2 { "Email digest for " (sub.email) }
            @if let Some(e) = error { p.form-error role="alert" { (e) } }
            @if let Some(n) = notice { p.notice role="status" { (n) } }
            @if sub.unsubscribed_at.is_some() {
                p { "This address is unsubscribed: saving below does not resubscribe it. "
                    a href=(format!("/subscribe?email={}", crate::params::percent_encode(sub.email.as_str()))) { "Subscribe again" } }
            } @else if sub.confirmed_at.is_none() {
                p { "Waiting for confirmation: open the link in the mail we sent." }
            } @else if sub.paused_at.is_some() {
                p { "Paused because mails to this address kept bouncing. Saving below resumes it." }
            }
            form method="post" action=(action) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="do" value="update";
                fieldset {
                    legend { "How often" }
                    label { input type="radio" name="frequency" value="daily" checked[sub.frequency == Frequency::Daily]; " Every weekday" }
                    label { input type="radio" name="frequency" value="weekly" checked[sub.frequency == Frequency::Weekly]; " Weekly (Mondays)" }
                }
                label { "Categories to follow " small.muted { "(space separated, e.g. cs.LG cs.CV; at most " (MAX_CATEGORIES) ")" }
                    input type="text" name="categories" value=(sub.categories.join(" ")) maxlength="400"; }
                button type="submit" { "Save" }
            }
            h3 { "Saved searches" }
            @if searches.is_empty() { p.muted { "None yet: new papers matching a saved search get their own section." } }
            ul {
                @for s in &searches {
                    li {
                        (s.query) " "
                        form.inline method="post" action=(action) {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="do" value="remove";
                            input type="hidden" name="search" value=(s.id);
                            button.link type="submit" { "remove" }
                        }
                    }
                }
            }
            @if searches.len() < MAX_SAVED_SEARCHES {
                form method="post" action=(action) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="do" value="add";
                    label { "Add a saved search" input type="text" name="query" required maxlength=(MAX_QUERY_CHARS); }
                    button type="submit" { "Add" }
                }
            }
            p.muted { a href=(unsubscribe) { "Unsubscribe" } }
        }
    })
}

/// `GET /subscription/{token}`.
pub async fn manage_page(State(st): State<AppState>, headers: HeaderMap, Path(token): Path<String>) -> Response {
    let result = async {
        let sub = subscriber_of(&st, &token, Purpose::Manage).await?;
        let (csrf, cookie) = auth::form_token(&st, &headers)?;
        let body = manage_body(&st, &sub, &format!("/subscription/{token}"), &csrf, None, None).await?;
        Ok(form_response(StatusCode::OK, simple_page(&st, "Your email digest", body), cookie))
    };
    html_result(&st.config, result.await)
}

/// Applies one manage form (`do` = update, add or remove) to `sub`:
/// `Ok(notice)` or `Err(message)` for the person, store failures as errors.
pub async fn apply_manage(st: &AppState, sub: &Subscriber, form: &Form) -> Result<Result<String, String>, WebError> {
    match form.get("do") {
        Some("update") => {
            let Some(frequency) = form.get("frequency").and_then(Frequency::parse) else {
                return Ok(Err("Choose how often: daily or weekly.".into()));
            };
            let categories = match parse_categories(form.raw("categories")) {
                Ok(c) => c,
                Err(msg) => return Ok(Err(msg)),
            };
            match st.store.update_subscription(sub.id, frequency, &categories).await {
                Ok(_) => Ok(Ok("Saved.".into())),
                Err(e @ StoreError::TooManyCategories { .. }) => Ok(Err(crate::error::capitalize(&e.to_string()))),
                Err(e) => Err(store_refusal(e)),
            }
        }
        Some("add") => {
            let query = match check_query(form.raw("query")) {
                Ok(q) => q,
                Err(msg) => return Ok(Err(msg)),
            };
            match st.store.add_saved_search(sub.id, &query).await {
                Ok(_) => Ok(Ok(format!("Saved search added: {query}"))),
                Err(e @ StoreError::TooManySavedSearches { .. }) => Ok(Err(crate::error::capitalize(&e.to_string()))),
                Err(e) => Err(store_refusal(e)),
            }
        }
        Some("remove") => {
            let Some(id) = form.get("search").and_then(|s| s.parse::<i64>().ok()) else {
                return Ok(Err("Which saved search? Reload the page and try again.".into()));
            };
            st.store.remove_saved_search(sub.id, id).await?;
            Ok(Ok("Saved search removed.".into()))
        }
        _ => Ok(Err("Unknown action: reload the page and try again.".into())),
    }
}

/// `POST /subscription/{token}`.
pub async fn manage(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let result = async {
        let sub = subscriber_of(&st, &token, Purpose::Manage).await?;
        let form = Form::parse(&body)?;
        let outcome = apply_manage(&st, &sub, &form).await?;
        let sub = st.store.subscriber(sub.id).await?.unwrap_or(sub);
        let (csrf, cookie) = auth::form_token(&st, &headers)?;
        let action = format!("/subscription/{token}");
        let (status, body) = match outcome {
            Ok(notice) => (StatusCode::OK, manage_body(&st, &sub, &action, &csrf, None, Some(&notice)).await?),
            Err(msg) => (StatusCode::BAD_REQUEST, manage_body(&st, &sub, &action, &csrf, Some(&msg), None).await?),
        };
        Ok(form_response(status, simple_page(&st, "Your email digest", body), cookie))
    };
    html_result(&st.config, result.await)
}

/// A saved-search query as typed: one line of at most [`MAX_QUERY_CHARS`]
/// characters, no control characters (a CR/LF is refused, not cleaned).
pub fn check_query(raw: &str) -> Result<String, String> {
    if raw.chars().any(|c| c.is_control()) {
        return Err("A saved search is one line of text: remove line breaks and control characters.".into());
    }
    let q = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if q.is_empty() {
        return Err("Type what to search for, for example: diffusion models".into());
    }
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(format!("A saved search has at most {MAX_QUERY_CHARS} characters: shorten it."));
    }
    Ok(q)
}

/// `cs.LG cs.CV` (commas allowed): arXiv category names only.
pub fn parse_categories(raw: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for c in raw.split([' ', ',', '\t']).filter(|c| !c.is_empty()) {
        let ok = c.len() <= 20
            && c.chars().next().is_some_and(|ch| ch.is_ascii_alphabetic())
            && c.chars().all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '-'));
        if !ok {
            let shown: String = c.chars().filter(|ch| !ch.is_control()).take(20).collect();
            return Err(format!("{shown:?} is not a category: use arXiv names such as cs.LG or math.PR."));
        }
        if !out.iter().any(|o| o == c) {
            out.push(c.to_string());
        }
    }
    if out.len() > MAX_CATEGORIES {
        return Err(format!("Follow at most {MAX_CATEGORIES} categories."));
    }
    Ok(out)
}

/// A signed manage link for a member's own subscription (settings page).
pub fn manage_path(st: &AppState, id: SubscriberId) -> Option<String> {
    let p = st.mail.as_ref()?;
    let url = p.builder.manage_url(id);
    Some(url.strip_prefix(&st.config.base_url).map(str::to_string).unwrap_or(url))
}

// --- Members: the same, in their settings ----------------------------------

/// The "Email digest" part of `/settings`: the manage form for the member's
/// subscription, or a button to subscribe with the account's address.
pub async fn settings_section(st: &AppState, v: &crate::auth::Viewer) -> Result<Markup, WebError> {
    if st.mail.is_none() {
        return Ok(html! {});
    }
    let user = v.user();
    let sub = match st.store.subscriber_for_user(user.id).await? {
        Some(s) => Some(s),
        None => st.store.subscriber_by_email(&user.email).await?.filter(|s| s.user == Some(user.id)),
    };
    match sub {
        Some(sub) => manage_body(st, &sub, "/settings/digest", v.csrf(), None, None).await,
        None => Ok(html! {
            section.account-form.digest-settings {
                h2 { "Email digest" }
                p { "Get trending papers, your saved searches and followed categories at " strong { (user.email) } "." }
                form method="post" action="/settings/digest" {
                    input type="hidden" name="csrf" value=(v.csrf());
                    input type="hidden" name="do" value="subscribe";
                    button type="submit" { "Subscribe" }
                }
            }
        }),
    }
}

/// `POST /settings/digest`: subscribe with the account's address, or the
/// manage actions on the member's own subscription; back to `/settings`.
pub async fn settings_digest(
    State(st): State<AppState>,
    crate::auth::CurrentUser(v): crate::auth::CurrentUser,
    body: Bytes,
) -> Response {
    let result = async {
        let mail = postman(&st)?;
        let form = Form::parse(&body)?;
        let user = v.user();
        if form.get("do") == Some("subscribe") {
            let sub = st.store.subscribe(&user.email, Some(user.id)).await?;
            if user.email_verified_at.is_some() {
                st.store.confirm_subscriber(sub.id).await?;
            } else if sub.confirmed_at.is_none() {
                mail.send_confirmation(&sub).await.map_err(|e| WebError::Internal(e.to_string()))?;
            }
            return Ok(auth::see_other("/settings"));
        }
        let sub = st.store.subscriber_for_user(user.id).await?.ok_or_else(|| {
            WebError::NotFound("You have no email digest yet: subscribe first (in your settings).".to_string())
        })?;
        match apply_manage(&st, &sub, &form).await? {
            Ok(_) => Ok(auth::see_other("/settings")),
            Err(msg) => Err(WebError::BadRequest(msg)),
        }
    };
    html_result(&st.config, result.await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_and_categories_are_checked() {
        assert_eq!(check_query("  diffusion   models ").unwrap(), "diffusion models");
        assert!(check_query("a\r\nBcc: x@y.org").is_err());
        assert!(check_query("   ").is_err());
        assert!(check_query(&"x".repeat(201)).is_err());
        assert_eq!(parse_categories("cs.LG, cs.CV cs.LG").unwrap(), vec!["cs.LG", "cs.CV"]);
        assert!(parse_categories("cs.LG'; DROP").is_err());
    }
}
