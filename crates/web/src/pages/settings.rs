//! `/settings`: a member's own account page: the address and whether it is
//! confirmed, changing the password (which logs out every other session),
//! personal API tokens (create, shown once; revoke), and the email digest
//! (the same form as the manage page of `pages/subscribe.rs`). A member
//! whose address is not confirmed can have a new confirmation link sent
//! (`/settings/verify`, at most [`VERIFY_MAILS`] an hour): subscribing
//! from here needs a confirmed address.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use paperboy_core::ApiTokenId;
use paperboy_services::accounts;

use crate::AppState;
use crate::auth::{CurrentUser, Form, Viewer, see_other};
use crate::dates::human_day;
use crate::error::{WebError, html_result};
use crate::pages::html_response;
use crate::pages::layout::{Head, Nav, page};

/// What the page says above the forms after an action.
#[derive(Default)]
struct Notice<'a> {
    error: Option<&'a str>,
    info: Option<&'a str>,
    /// A token secret just created, shown this once.
    secret: Option<&'a str>,
}

async fn render(st: &AppState, v: &Viewer, notice: Notice<'_>) -> Result<String, WebError> {
    let user = v.user();
    let settings = accounts::settings(st.store.as_ref(), user, st.mail.is_some()).await?;
    let tokens = settings.tokens;
    let csrf = v.csrf();
    let digest = crate::pages::subscribe::settings_section(st, v, settings.digest.as_ref())?;
    let body = html! {
        section.settings {
            h1 { "Settings" }
            @if let Some(e) = notice.error { p.form-error role="alert" { (e) } }
            @if let Some(i) = notice.info { p.form-info role="status" { (i) } }
            @if let Some(s) = notice.secret {
                div.secret role="status" {
                    p { strong { "Your new API token. Copy it now: it is shown only once." } }
                    p { code.token { (s) } }
                    p.muted { "Send it as " code { "Authorization: Bearer …" } "." }
                }
            }
            h2 { "Account" }
            dl.meta {
                dt { "Username" } dd { a href=(format!("/u/{}", user.username)) { (user.username) } }
                dt { "Email" } dd {
                    (user.email)
                    @if user.is_verified() { " (confirmed)" } @else {
                        " (not confirmed yet) "
                        form.inline method="post" action="/settings/verify" {
                            input type="hidden" name="csrf" value=(csrf);
                            button.link type="submit" { "Send a new confirmation link" }
                        }
                    }
                }
                dt { "Role" } dd { (user.role.as_str()) }
                dt { "Member since" } dd { (human_day(user.created_at.date_naive())) }
            }
            h2 { "Recommendations" }
            p.settings-nav {
                a href="/settings/interests" { "Recommendations" } ": what your " a href="/for-you" { "For you" } " list is made from (followed categories and authors, “not for me”, your "
                a href="/settings/library" { "imported library" } ", the private feed)."
            }
            (digest)
            h2 { "Change password" }
            form.account-form method="post" action="/settings/password" {
                input type="hidden" name="csrf" value=(csrf);
                label { "Current password" input type="password" name="current" required autocomplete="current-password"; }
                label { "New password" input type="password" name="password" required autocomplete="new-password" minlength=(accounts::MIN_PASSWORD_CHARS); }
                button type="submit" { "Change password" }
            }
            h2 { "API tokens" }
            p.muted { "Tokens let scripts act as you through the JSON API (for example to upvote)." }
            (token_list(csrf, &tokens))
            form.account-form method="post" action="/settings/tokens" {
                input type="hidden" name="csrf" value=(csrf);
                label { "Name" input type="text" name="name" required maxlength="100" placeholder="laptop script"; }
                button type="submit" { "Create token" }
            }
        }
    };
    let head = Head { title: "Settings", noindex: true, ..Head::default() };
    Ok(page(&st.config, &head, &Nav::default(), body))
}

fn token_list(csrf: &str, tokens: &[paperboy_store::ApiToken]) -> Markup {
    html! {
        @if tokens.is_empty() {
            p { "No tokens yet." }
        } @else {
            ul.tokens {
                @for t in tokens {
                    li {
                        strong { (t.name) }
                        " · made " (human_day(t.created_at.date_naive()))
                        @if let Some(u) = t.last_used_at { " · last used " (human_day(u.date_naive())) }
                        @if t.revoked_at.is_some() {
                            " · " span.muted { "revoked" }
                        } @else {
                            form.inline method="post" action="/settings/tokens/revoke" {
                                input type="hidden" name="csrf" value=(csrf);
                                input type="hidden" name="id" value=(t.id);
                                " " button.link type="submit" { "revoke" }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /settings`.
pub async fn show(State(st): State<AppState>, CurrentUser(v): CurrentUser) -> Response {
    let result = async { Ok(html_response(StatusCode::OK, render(&st, &v, Notice::default()).await?)) };
    html_result(&st.config, result.await)
}

/// `POST /settings/password`: checks the current password, sets the new
/// one, and ends every other session of the member.
pub async fn change_password(
    State(st): State<AppState>,
    axum::Extension(limits): axum::Extension<std::sync::Arc<crate::ratelimit::Limits>>,
    CurrentUser(v): CurrentUser,
    request_ext: axum::http::Extensions,
    form: Form,
) -> Response {
    let result = async {
        let (current, new) = (form.raw("current"), form.raw("password"));
        let client = crate::ratelimit::client_block(&request_ext);
        let changed =
            accounts::change_password_everywhere(st.store.as_ref(), &limits, &client, v.user(), current, new).await;
        match changed {
            Ok(session) => {
                // This browser stays logged in, with a fresh session.
                let mut r = see_other("/settings");
                r.headers_mut()
                    .append(axum::http::header::SET_COOKIE, crate::pages::account::session_cookie(&st, &session));
                Ok(r)
            }
            Err(e) if e.is_client_error() => {
                let msg = crate::error::capitalize(&e.to_string());
                let page = render(&st, &v, Notice { error: Some(&msg), ..Notice::default() }).await?;
                Ok(html_response(StatusCode::BAD_REQUEST, page))
            }
            Err(e) => Err(e.into()),
        }
    };
    html_result(&st.config, result.await)
}

/// `POST /settings/tokens`: creates a token and shows its secret once.
pub async fn create_token(State(st): State<AppState>, CurrentUser(v): CurrentUser, form: Form) -> Response {
    let result = async {
        let secret = match accounts::create_api_token(st.store.as_ref(), v.user(), form.raw("name")).await {
            Ok(secret) => secret,
            Err(e) if e.is_client_error() => {
                let msg = crate::error::capitalize(&e.to_string());
                let page = render(&st, &v, Notice { error: Some(&msg), ..Notice::default() }).await?;
                return Ok(html_response(StatusCode::BAD_REQUEST, page));
            }
            Err(e) => return Err(e.into()),
        };
        let page = render(&st, &v, Notice { secret: Some(secret.as_str()), ..Notice::default() }).await?;
        Ok(html_response(StatusCode::OK, page))
    };
    html_result(&st.config, result.await)
}

/// `POST /settings/tokens/revoke` with `id`: revokes one of the member's own tokens.
pub async fn revoke_token(State(st): State<AppState>, CurrentUser(v): CurrentUser, form: Form) -> Response {
    let result = async {
        let id = form
            .get("id")
            .and_then(|s| s.parse::<i64>().ok())
            .ok_or_else(|| WebError::bad("Say which token to revoke (its number)"))?;
        if !accounts::revoke_api_token(st.store.as_ref(), v.user(), ApiTokenId(id)).await? {
            return Err(WebError::NotFound("You have no live token with that number".to_string()));
        }
        Ok(see_other("/settings"))
    };
    html_result(&st.config, result.await)
}

/// `POST /settings/verify`: mails (or, without mail, logs) a new link that
/// confirms the member's address; at most
/// [`paperboy_services::limits::VERIFY_MAILS`] an hour.
pub async fn send_verification(
    State(st): State<AppState>,
    axum::Extension(limits): axum::Extension<std::sync::Arc<crate::ratelimit::Limits>>,
    CurrentUser(v): CurrentUser,
) -> Response {
    let result = async {
        let user = v.user();
        let mail = accounts::LinkMail { base_url: &st.config.base_url, postman: st.mail.as_ref() };
        if !accounts::resend_verification(st.store.as_ref(), &limits, user, mail).await? {
            return Ok(see_other("/settings"));
        }
        let info = format!(
            "We sent a new confirmation link to {}. It works for {} hours.",
            user.email,
            accounts::VERIFY_HOURS
        );
        let page = render(&st, &v, Notice { info: Some(&info), ..Notice::default() }).await?;
        Ok(html_response(StatusCode::OK, page))
    };
    html_result(&st.config, result.await)
}
