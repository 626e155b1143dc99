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
//!   searches, reached with the signed manage link (CSRF-checked forms);
//!   on a member's own subscription also what the digest carries (trending
//!   papers, recommended for me, or both).
//!
//! Forged, garbled and expired links are 400, each with what to do next.
//! The workflows are [`paperboy_services::subscriptions`]'s; this module
//! reads the forms and renders the pages.

use crate::pages::account::{form_response, simple_page};
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};
use paperboy_core::Email;
use paperboy_mail::{Postman, Purpose};
use paperboy_services::subscriptions::{self, Change, Digest, Done};
use paperboy_store::{DigestContent, Frequency, MAX_CATEGORIES, MAX_SAVED_SEARCHES, SubscriberId};

use crate::AppState;
use crate::auth::{self, Form, MaybeUser};
use crate::error::{WebError, html_result};
use crate::params::QueryString;
use crate::ratelimit::{Limits, client_block};

pub use crate::ratelimit::SUBSCRIBE_MAX;
pub use paperboy_services::subscriptions::MAX_QUERY_CHARS;

pub const MAIL_OFF: &str = "Email digests are not set up on this site (the server has no SMTP server configured). Use the Atom or RSS feeds instead.";

/// The mail service, or the 404 that says digests are off here.
pub fn postman(st: &AppState) -> Result<&Arc<Postman>, WebError> {
    st.mail.as_ref().ok_or_else(|| WebError::NotFound(MAIL_OFF.to_string()))
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
    Extension(limits): Extension<Arc<Limits>>,
    MaybeUser(viewer): MaybeUser,
    headers: HeaderMap,
    request_ext: axum::http::Extensions,
    form: Form,
) -> Response {
    let result = async {
        let mail = postman(&st)?;
        let typed = form.raw("email");
        let viewer = viewer.as_ref().map(|v| v.user());
        let client = client_block(&request_ext);
        let subscribed =
            subscriptions::subscribe_address(st.store.as_ref(), mail, &limits, &client, typed, viewer).await;
        let own = match subscribed {
            Ok(own) => own,
            Err(e @ subscriptions::SubscriptionError::BadAddress(_)) => {
                let (csrf, cookie) = auth::form_token(&st, &headers)?;
                let msg = crate::error::capitalize(&e.to_string());
                let shown: String = typed.chars().filter(|c| !c.is_control()).take(254).collect();
                return Ok(form_response(
                    StatusCode::BAD_REQUEST,
                    subscribe_form(&st, &csrf, &shown, Some(&msg)),
                    cookie,
                ));
            }
            Err(e) => return Err(e.into()),
        };
        // Accepted by the service, so it parses; shown as the service saw it.
        let email = Email::parse(typed).map_err(|e| WebError::bad(e.to_string()))?;
        let body = html! {
            section.notice {
                h1 { "Check your inbox" }
                @if own {
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
        let mail = postman(&st)?;
        let sub = subscriptions::confirm(st.store.as_ref(), mail, &token).await?;
        let manage = mail.builder.manage_url(sub.id);
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
        let mail = postman(&st)?;
        let sub = subscriptions::subscriber_of(st.store.as_ref(), mail, &token, Purpose::Unsubscribe).await?;
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
        let sub = subscriptions::unsubscribe(st.store.as_ref(), postman(&st)?, &token).await?;
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

/// The manage form for a subscription; `action` is where it posts.
pub fn manage_body(
    st: &AppState,
    digest: &Digest,
    action: &str,
    csrf: &str,
    error: Option<&str>,
    notice: Option<&str>,
) -> Result<Markup, WebError> {
    let (sub, searches) = (&digest.subscriber, &digest.searches);
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
                @if sub.user.is_some() {
                    fieldset {
                        legend { "What the digest carries" }
                        @for (value, words) in CONTENT_CHOICES {
                            label { input type="radio" name="content" value=(value.as_str()) checked[sub.content == value]; " " (words) }
                        }
                        p.muted { "Recommendations come from your upvotes, reading list, follows and library, each with the reason it was picked; "
                            a href="/for-you" { "see them now" } " or " a href="/settings/interests" { "change what they learn from" } "." }
                    }
                }
                label { "Categories to follow " small.muted { "(space separated, e.g. cs.LG cs.CV; at most " (MAX_CATEGORIES) ")" }
                    input type="text" name="categories" value=(sub.categories.join(" ")) maxlength="400"; }
                button type="submit" { "Save" }
            }
            h3 { "Saved searches" }
            @if searches.is_empty() { p.muted { "None yet: new papers matching a saved search get their own section." } }
            ul {
                @for s in searches {
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

/// The choices of "What the digest carries", as the form offers them.
const CONTENT_CHOICES: [(DigestContent, &str); 3] = [
    (DigestContent::Trending, "Trending papers"),
    (DigestContent::Recommended, "Recommended for me"),
    (DigestContent::Both, "Both: recommended for me, then trending"),
];

/// `GET /subscription/{token}`.
pub async fn manage_page(State(st): State<AppState>, headers: HeaderMap, Path(token): Path<String>) -> Response {
    let result = async {
        let digest = subscriptions::managed(st.store.as_ref(), postman(&st)?, &token).await?;
        let (csrf, cookie) = auth::form_token(&st, &headers)?;
        let body = manage_body(&st, &digest, &format!("/subscription/{token}"), &csrf, None, None)?;
        Ok(form_response(StatusCode::OK, simple_page(&st, "Your email digest", body), cookie))
    };
    html_result(&st.config, result.await)
}

/// The change one manage form (`do` = update, add or remove) asks for.
fn change(form: &Form) -> Change<'_> {
    match form.get("do") {
        Some("update") => Change::Update {
            frequency: form.get("frequency").and_then(Frequency::parse),
            categories: form.raw("categories"),
            content: form.get("content"),
        },
        Some("add") => Change::AddSearch(form.raw("query")),
        Some("remove") => Change::RemoveSearch(form.get("search").and_then(|s| s.parse::<i64>().ok())),
        _ => Change::Unknown,
    }
}

/// What the page says after a change.
fn notice(done: &Done) -> String {
    match done {
        Done::Saved => "Saved.".into(),
        Done::SearchAdded(query) => format!("Saved search added: {query}"),
        Done::SearchRemoved => "Saved search removed.".into(),
    }
}

/// `POST /subscription/{token}`.
pub async fn manage(State(st): State<AppState>, headers: HeaderMap, Path(token): Path<String>, form: Form) -> Response {
    let result = async {
        let mail = postman(&st)?;
        let (digest, outcome) = subscriptions::manage(st.store.as_ref(), mail, &token, change(&form)).await?;
        let (csrf, cookie) = auth::form_token(&st, &headers)?;
        let action = format!("/subscription/{token}");
        let (status, body) = match outcome {
            Ok(done) => (StatusCode::OK, manage_body(&st, &digest, &action, &csrf, None, Some(&notice(&done)))?),
            Err(msg) => (StatusCode::BAD_REQUEST, manage_body(&st, &digest, &action, &csrf, Some(&msg), None)?),
        };
        Ok(form_response(status, simple_page(&st, "Your email digest", body), cookie))
    };
    html_result(&st.config, result.await)
}

/// A signed manage link for a member's own subscription (settings page).
pub fn manage_path(st: &AppState, id: SubscriberId) -> Option<String> {
    let p = st.mail.as_ref()?;
    let url = p.builder.manage_url(id);
    Some(url.strip_prefix(&st.config.base_url).map(str::to_string).unwrap_or(url))
}

// --- Members: the same, in their settings ----------------------------------

/// The "Email digest" part of `/settings`: the manage form for the member's
/// subscription (`digest`, see [`subscriptions::member_digest`]), or a
/// button to subscribe with the account's address.
pub fn settings_section(st: &AppState, v: &crate::auth::Viewer, digest: Option<&Digest>) -> Result<Markup, WebError> {
    if st.mail.is_none() {
        return Ok(html! {});
    }
    let user = v.user();
    match digest {
        Some(digest) => manage_body(st, digest, "/settings/digest", v.csrf(), None, None),
        None => Ok(html! {
            section.account-form.digest-settings {
                h2 { "Email digest" }
                p { "Get trending papers, your saved searches and followed categories at " strong { (user.email) } ". "
                    "Once subscribed, you can have it carry papers recommended for you as well, or instead." }
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
    form: Form,
) -> Response {
    let result = async {
        let mail = postman(&st)?;
        let user = v.user();
        if form.get("do") == Some("subscribe") {
            subscriptions::subscribe_member(st.store.as_ref(), mail, user).await?;
            return Ok(auth::see_other("/settings"));
        }
        match subscriptions::member_manage(st.store.as_ref(), user, change(&form)).await? {
            Ok(_) => Ok(auth::see_other("/settings")),
            Err(msg) => Err(WebError::BadRequest(msg)),
        }
    };
    html_result(&st.config, result.await)
}
