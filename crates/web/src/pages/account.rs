//! Accounts on the site: `/signup`, `/login`, `POST /logout`, password
//! reset (`/reset`, `/reset/{token}`) and email verification
//! (`/verify/{token}`).
//!
//! Every login starts a new session (and ends the one the browser had), so
//! a session id planted before login is worthless. Failed logins are
//! counted per client address and per username, sign-ups and reset
//! requests per client address, by the services they call ([`Limits`],
//! see `crate::ratelimit`); over the limit the answer is 429 with
//! `Retry-After`. Verification and reset links are mailed when an
//! SMTP server is configured (`AppState::mail`); otherwise they are written
//! to the server log, and the pages say so.
//! Form pages carry a CSRF token and are never cached.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use maud::{Markup, html};
use paperboy_core::Role;
use paperboy_services::accounts::{self, AccountError, LinkMail, MIN_PASSWORD_CHARS, SignUp};
use paperboy_store::NewSession;

use crate::AppState;
use crate::auth::{self, Form, MaybeUser, SESSION_COOKIE, SESSION_DAYS, see_other};
use crate::error::{WebError, html_result};
use crate::pages::html_response;
use crate::pages::layout::{Head, Nav, page};
use crate::params::QueryString;
use crate::ratelimit::client_block;
pub use crate::ratelimit::{LIMIT_WINDOW, Limits, MAX_FAILURES};

/// A form page: HTML, never cached, with the CSRF cookie when new.
pub(crate) fn form_response(status: StatusCode, body: String, cookie: Option<HeaderValue>) -> Response {
    let mut r = html_response(status, body);
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(c) = cookie {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

/// A plain page for the account and subscription flows: not indexed.
pub(crate) fn simple_page(st: &AppState, title: &str, body: Markup) -> String {
    let head = Head { title, noindex: true, ..Head::default() };
    page(&st.config, &head, &Nav::default(), body)
}

fn error_box(error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error {
            p.form-error role="alert" { (e) }
        }
    }
}

// --- Sign-up ------------------------------------------------------------

#[derive(Default)]
struct SignupValues<'a> {
    username: &'a str,
    email: &'a str,
}

fn signup_form(st: &AppState, csrf: &str, v: &SignupValues<'_>, error: Option<&str>) -> String {
    let body = html! {
        section.account-form {
            h1 { "Sign up" }
            (error_box(error))
            form method="post" action="/signup" {
                input type="hidden" name="csrf" value=(csrf);
                label { "Username " small.muted { "(3 to 32 letters, digits, _ or -)" }
                    input type="text" name="username" value=(v.username) required autocomplete="username" maxlength="32"; }
                label { "Email " small.muted { "(never shown to others)" }
                    input type="email" name="email" value=(v.email) required autocomplete="email"; }
                label { "Password " small.muted { "(at least " (MIN_PASSWORD_CHARS) " characters)" }
                    input type="password" name="password" required autocomplete="new-password" minlength=(MIN_PASSWORD_CHARS); }
                button type="submit" { "Create account" }
            }
            p { "Have an account? " a href="/login" { "Log in" } }
        }
    };
    simple_page(st, "Sign up", body)
}

/// `GET /signup`.
pub async fn signup_page(State(st): State<AppState>, headers: HeaderMap) -> Response {
    html_result(
        &st.config,
        auth::form_token(&st, &headers).map(|(csrf, cookie)| {
            form_response(StatusCode::OK, signup_form(&st, &csrf, &SignupValues::default(), None), cookie)
        }),
    )
}

/// `POST /signup`: creates the account, logs it in, logs the verification link.
pub async fn signup(
    State(st): State<AppState>,
    Extension(limits): Extension<Arc<Limits>>,
    MaybeUser(old): MaybeUser,
    headers: HeaderMap,
    request_ext: axum::http::Extensions,
    form: Form,
) -> Response {
    let result = async {
        let values =
            SignupValues { username: form.get("username").unwrap_or(""), email: form.get("email").unwrap_or("") };
        let new = SignUp {
            username: values.username,
            email: values.email,
            password: form.raw("password"),
            role: Role::Member,
            email_verified: false,
        };
        let old = old.as_ref().map(|v| v.token.as_str());
        let client = client_block(&request_ext);
        let registered = accounts::register(st.store.as_ref(), &limits, &client, &new, old, link_mail(&st)).await;
        let (user, session) = match registered {
            Ok(done) => done,
            Err(e) if e.is_client_error() => {
                let (csrf, cookie) = auth::form_token(&st, &headers)?;
                let msg = crate::error::capitalize(&e.to_string());
                return Ok(form_response(
                    StatusCode::BAD_REQUEST,
                    signup_form(&st, &csrf, &values, Some(&msg)),
                    cookie,
                ));
            }
            Err(e) => return Err(e.into()),
        };
        let cookie = session_cookie(&st, &session);
        let body = html! {
            section.notice {
                h1 { "Welcome, " (user.username) }
                p { "Your account is ready and you are logged in." }
                @if st.mail.is_some() {
                    p { "To confirm your email address, open the link in the mail we just sent you." }
                } @else {
                    p { "To confirm your email address, open the link we made for you. "
                        strong { "This server does not send mail: the link was written to the server log." } }
                }
                p.next-step {
                    a.button.primary href="/for-you" { "Pick your interests: your For-you list →" }
                }
                p { a href="/" { "← To the papers" } }
            }
        };
        Ok(form_response(StatusCode::OK, simple_page(&st, "Welcome", body), Some(cookie)))
    };
    html_result(&st.config, result.await)
}

/// Where account links point and how they travel.
fn link_mail(st: &AppState) -> LinkMail<'_> {
    LinkMail { base_url: &st.config.base_url, postman: st.mail.as_ref() }
}

/// The `Set-Cookie` value of a new session.
pub(crate) fn session_cookie(st: &AppState, session: &NewSession) -> HeaderValue {
    auth::set_cookie(st, SESSION_COOKIE, session.token.as_str(), Some(SESSION_DAYS * 24 * 3600))
}

// --- Login and logout -----------------------------------------------------

fn login_form(st: &AppState, csrf: &str, login: &str, next: &str, error: Option<&str>) -> String {
    let body = html! {
        section.account-form {
            h1 { "Log in" }
            (error_box(error))
            form method="post" action="/login" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="next" value=(next);
                label { "Username or email" input type="text" name="username" value=(login) required autocomplete="username"; }
                label { "Password" input type="password" name="password" required autocomplete="current-password"; }
                button type="submit" { "Log in" }
            }
            p { "No account? " a href="/signup" { "Sign up" } " · " a href="/reset" { "Forgot your password?" } }
        }
    };
    simple_page(st, "Log in", body)
}

/// `GET /login?next=/path`.
pub async fn login_page(State(st): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let result = async {
        let q = QueryString::parse(q.as_deref())?;
        let next = auth::safe_next(q.get("next"));
        let (csrf, cookie) = auth::form_token(&st, &headers)?;
        Ok(form_response(StatusCode::OK, login_form(&st, &csrf, "", &next, None), cookie))
    };
    html_result(&st.config, result.await)
}

/// `POST /login`.
pub async fn login(
    State(st): State<AppState>,
    Extension(limits): Extension<Arc<Limits>>,
    MaybeUser(old): MaybeUser,
    headers: HeaderMap,
    request_ext: axum::http::Extensions,
    form: Form,
) -> Response {
    let result = async {
        let login = form.get("username").unwrap_or("");
        let next = auth::safe_next(form.get("next"));
        let client = client_block(&request_ext);
        let old = old.as_ref().map(|v| v.token.as_str());
        match accounts::log_in_session(st.store.as_ref(), &limits, &client, login, form.raw("password"), old).await {
            Ok((_, session)) => {
                let mut r = see_other(&next);
                r.headers_mut().append(header::SET_COOKIE, session_cookie(&st, &session));
                Ok(r)
            }
            Err(e @ (AccountError::WrongCredentials | AccountError::Suspended)) => {
                let (csrf, cookie) = auth::form_token(&st, &headers)?;
                let msg = crate::error::capitalize(&e.to_string());
                Ok(form_response(StatusCode::UNAUTHORIZED, login_form(&st, &csrf, login, &next, Some(&msg)), cookie))
            }
            Err(e) => Err(e.into()),
        }
    };
    html_result(&st.config, result.await)
}

/// `POST /logout`: ends the session and clears the cookie.
pub async fn logout(State(st): State<AppState>, MaybeUser(viewer): MaybeUser) -> Response {
    let result = async {
        if let Some(v) = viewer {
            accounts::log_out(st.store.as_ref(), &v.token).await?;
        }
        let mut r = see_other("/");
        r.headers_mut().append(header::SET_COOKIE, auth::set_cookie(&st, SESSION_COOKIE, "", Some(0)));
        Ok(r)
    };
    html_result(&st.config, result.await)
}

// --- Password reset -------------------------------------------------------

fn reset_request_form(st: &AppState, csrf: &str, error: Option<&str>) -> String {
    let body = html! {
        section.account-form {
            h1 { "Reset your password" }
            (error_box(error))
            p { "Give your account's email address and we will make a link to choose a new password." }
            form method="post" action="/reset" {
                input type="hidden" name="csrf" value=(csrf);
                label { "Email" input type="email" name="email" required autocomplete="email"; }
                button type="submit" { "Make a reset link" }
            }
        }
    };
    simple_page(st, "Reset your password", body)
}

/// `GET /reset`.
pub async fn reset_page(State(st): State<AppState>, headers: HeaderMap) -> Response {
    html_result(
        &st.config,
        auth::form_token(&st, &headers)
            .map(|(csrf, cookie)| form_response(StatusCode::OK, reset_request_form(&st, &csrf, None), cookie)),
    )
}

/// `POST /reset`: makes a reset link for the address, if it has an
/// account, and writes it to the log. The answer is the same either way.
pub async fn reset_request(
    State(st): State<AppState>,
    Extension(limits): Extension<Arc<Limits>>,
    headers: HeaderMap,
    request_ext: axum::http::Extensions,
    form: Form,
) -> Response {
    let result = async {
        let client = client_block(&request_ext);
        let email = form.get("email").unwrap_or("");
        match accounts::request_reset(st.store.as_ref(), &limits, &client, email, link_mail(&st)).await {
            Ok(()) => {}
            Err(e) if e.is_client_error() => {
                let (csrf, cookie) = auth::form_token(&st, &headers)?;
                let msg = crate::error::capitalize(&e.to_string());
                return Ok(form_response(StatusCode::BAD_REQUEST, reset_request_form(&st, &csrf, Some(&msg)), cookie));
            }
            Err(e) => return Err(e.into()),
        }
        let body = html! {
            section.notice {
                h1 { "Check for your link" }
                @if st.mail.is_some() {
                    p { "If an account has this address, a mail with a reset link valid for one hour is on its way." }
                } @else {
                    p { "If an account has this address, a reset link valid for one hour was made. "
                        strong { "This server does not send mail: the link was written to the server log." }
                        " Ask the site's operator for it." }
                }
            }
        };
        Ok(form_response(StatusCode::OK, simple_page(&st, "Reset link made", body), None))
    };
    html_result(&st.config, result.await)
}

fn new_password_form(st: &AppState, csrf: &str, token: &str, error: Option<&str>) -> String {
    let body = html! {
        section.account-form {
            h1 { "Choose a new password" }
            (error_box(error))
            form method="post" action=(format!("/reset/{token}")) {
                input type="hidden" name="csrf" value=(csrf);
                label { "New password " small.muted { "(at least " (MIN_PASSWORD_CHARS) " characters)" }
                    input type="password" name="password" required autocomplete="new-password" minlength=(MIN_PASSWORD_CHARS); }
                button type="submit" { "Set the password" }
            }
        }
    };
    simple_page(st, "Choose a new password", body)
}

/// Link tokens are 64 hex digits.
fn link_token(raw: &str) -> Result<&str, WebError> {
    if raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(raw)
    } else {
        Err(WebError::bad("This link is not valid: copy the whole link, or ask for a new one"))
    }
}

/// `GET /reset/{token}`: the new-password form (the link is used when the form is sent).
pub async fn reset_link_page(State(st): State<AppState>, headers: HeaderMap, Path(token): Path<String>) -> Response {
    let result = async {
        let token = link_token(&token)?;
        let (csrf, cookie) = auth::form_token(&st, &headers)?;
        Ok(form_response(StatusCode::OK, new_password_form(&st, &csrf, token, None), cookie))
    };
    html_result(&st.config, result.await)
}

/// `POST /reset/{token}`: uses the link, sets the password, logs out everywhere.
pub async fn reset_link(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    form: Form,
) -> Response {
    let result = async {
        let token = link_token(&token)?;
        match accounts::reset_password(st.store.as_ref(), token, form.raw("password")).await {
            Ok(_) => {}
            Err(e @ AccountError::PasswordTooShort) => {
                // The link is still unused: the form again, for a second try.
                let (csrf, cookie) = auth::form_token(&st, &headers)?;
                let msg = crate::error::capitalize(&e.to_string());
                return Ok(form_response(
                    StatusCode::BAD_REQUEST,
                    new_password_form(&st, &csrf, token, Some(&msg)),
                    cookie,
                ));
            }
            Err(e) => return Err(e.into()),
        }
        let body = html! {
            section.notice {
                h1 { "Password changed" }
                p { "Your new password is set and every session was logged out. " a href="/login" { "Log in" } }
            }
        };
        Ok(form_response(StatusCode::OK, simple_page(&st, "Password changed", body), None))
    };
    html_result(&st.config, result.await)
}

// --- Email verification ---------------------------------------------------

/// `GET /verify/{token}`: confirms the address the link was made for.
pub async fn verify(State(st): State<AppState>, Path(token): Path<String>) -> Response {
    let result = async {
        let token = link_token(&token)?;
        let user = accounts::verify_email(st.store.as_ref(), token).await?;
        let body = html! {
            section.notice {
                h1 { "Address confirmed" }
                p { "Thank you, " (user.username) ": your email address is confirmed." }
                p { a href="/" { "← To the papers" } }
            }
        };
        Ok(form_response(StatusCode::OK, simple_page(&st, "Address confirmed", body), None))
    };
    html_result(&st.config, result.await)
}
