//! Who is asking, and whether a form really came from our site.
//!
//! * **Sessions.** The `pb_session` cookie (HttpOnly, SameSite=Lax, Path=/,
//!   Secure when the site's base URL is https, 30 days) holds a random token;
//!   the session itself lives in the store, which keeps only the token's
//!   hash. [`session_middleware`] looks it up once per request, puts the
//!   [`Viewer`] into the request's extensions (read with the [`CurrentUser`]
//!   and [`MaybeUser`] extractors) and into a task-local that the page
//!   layout reads for the header. Responses to a logged-in member are
//!   marked `Cache-Control: private, no-store` unless they say otherwise
//!   (the stylesheet).
//! * **CSRF.** Every request that is not GET/HEAD/OPTIONS and not under
//!   `/api/` must be a form whose `csrf` field equals the session's CSRF
//!   token, or, without a session (login, sign-up, password reset), the
//!   `pb_csrf` cookie (double submit). [`csrf_middleware`] checks that
//!   before any handler runs and answers 403 with a readable page otherwise.
//!   One exception, [`ANONYMOUS_FORMS`]: the subscribe box, on cached pages
//!   that cannot carry a token, posts without one; such a post is handled
//!   as a logged-out visitor's (its session ignored), so a forged one can do
//!   no more than anyone can: ask for a confirmation mail.
//! * **API tokens.** The JSON API never reads cookies: writes need
//!   `Authorization: Bearer pb_…` ([`ApiUser`]), else 401 JSON.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use paperboy_store::{Session, User};

use crate::AppState;
use crate::error::WebError;
use crate::params::{QueryString, percent_encode};

/// The session cookie.
pub const SESSION_COOKIE: &str = "pb_session";
/// The double-submit CSRF cookie of logged-out forms.
pub const CSRF_COOKIE: &str = "pb_csrf";
/// How long a login lasts (the sessions' lifetime, set where they are made).
pub use paperboy_services::accounts::SESSION_DAYS;
/// Largest form body accepted.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// A logged-in member and their session.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub session: Arc<Session>,
    /// The cookie's token (to end the session at logout).
    pub token: String,
}

impl Viewer {
    pub fn user(&self) -> &User {
        &self.session.user
    }

    pub fn csrf(&self) -> &str {
        &self.session.csrf_token
    }
}

tokio::task_local! {
    static VIEWER: Option<Viewer>;
}

/// The member the current request is from, for code that has no access to
/// the request (the page layout). `None` outside a request or when logged out.
pub fn current_viewer() -> Option<Viewer> {
    VIEWER.try_with(Clone::clone).ok().flatten()
}

/// The value of cookie `name`, if the request carries it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Tokens we hand out are hex (plus the API prefix); anything else is not
/// worth a database lookup.
fn plausible_token(s: &str) -> bool {
    (16..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Whether cookies must carry `Secure`.
pub fn secure(st: &AppState) -> bool {
    st.config.base_url.starts_with("https://")
}

/// `Set-Cookie` for `name=value` with our attributes; `max_age` `None`
/// makes a browser-session cookie, `Some(0)` deletes it.
pub fn set_cookie(st: &AppState, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let c = cookie_text(name, value, max_age, secure(st));
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

fn cookie_text(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> String {
    let mut c = format!("{name}={value}; HttpOnly; SameSite=Lax; Path=/");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Finds the session of the request's cookie and runs the rest of the
/// request with it known.
pub async fn session_middleware(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let mut viewer = None;
    if let Some(token) = cookie(req.headers(), SESSION_COOKIE).filter(|t| plausible_token(t)) {
        match st.store.session(&token).await {
            Ok(Some(session)) => viewer = Some(Viewer { session: Arc::new(session), token }),
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "session lookup failed; treating the request as logged out"),
        }
    }
    let logged_in = viewer.is_some();
    req.extensions_mut().insert(MaybeUser(viewer.clone()));
    let mut response = VIEWER.scope(viewer, next.run(req)).await;
    if logged_in && !response.headers().contains_key(header::CACHE_CONTROL) {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    }
    response
}

/// The CSRF token a form rendered for this request must carry, and the
/// cookie to set when a logged-out visitor has none yet.
pub fn form_token(st: &AppState, headers: &HeaderMap) -> Result<(String, Option<HeaderValue>), WebError> {
    if let Some(v) = current_viewer() {
        return Ok((v.csrf().to_string(), None));
    }
    if let Some(existing) = cookie(headers, CSRF_COOKIE).filter(|t| t.len() == 64 && plausible_token(t)) {
        return Ok((existing, None));
    }
    let fresh = paperboy_store::secret::random_hex()?;
    let cookie = set_cookie(st, CSRF_COOKIE, &fresh, None);
    Ok((fresh, Some(cookie)))
}

fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// Forms accepted without a valid CSRF token, as if posted by a visitor who
/// is not logged in (see the module documentation).
pub const ANONYMOUS_FORMS: &[&str] = &["/subscribe"];

/// Refuses state-changing requests without a valid CSRF token (see the
/// module documentation). The body is read once, at most
/// [`MAX_FORM_BYTES`] (else 413) within the body timeout (else 408, see
/// [`read_form_body`]); the parsed [`Form`] goes on in the request's
/// extensions, where the [`Form`] extractor takes it without parsing again.
pub async fn csrf_middleware(State(st): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) || is_api(req.uri().path()) {
        return next.run(req).await;
    }
    let expected = match req.extensions().get::<MaybeUser>().and_then(|m| m.0.clone()) {
        Some(v) => Some(v.csrf().to_string()),
        None => cookie(req.headers(), CSRF_COOKIE),
    };
    // The library upload may be multipart/form-data (a file): read with
    // its own cap, its `csrf` field checked the same way.
    let upload = crate::multipart::boundary(req.headers())
        .filter(|_| crate::multipart::MULTIPART_FORMS.contains(&req.uri().path()));
    let (mut parts, body) = req.into_parts();
    let limit = if upload.is_some() { crate::multipart::MAX_UPLOAD_BYTES } else { MAX_FORM_BYTES };
    let bytes = match read_body(body, st.config.connections.body_timeout, limit).await {
        Ok(b) => b,
        Err(WebError::TooLarge) if upload.is_some() => {
            let kib = crate::multipart::MAX_UPLOAD_BYTES / 1024;
            let msg =
                format!("The upload is larger than {kib} KiB. Export part of your library and upload it in pieces.");
            return WebError::TooLargeUpload(msg).into_html_response(&st.config);
        }
        Err(e) => return e.into_html_response(&st.config),
    };
    let multipart = match &upload {
        Some(boundary) => match crate::multipart::Multipart::parse(boundary, &bytes) {
            Ok(m) => Some(m),
            Err(e) => return e.into_html_response(&st.config),
        },
        None => None,
    };
    let form = if multipart.is_some() { None } else { Form::parse(&bytes).ok() };
    let given = match &multipart {
        Some(m) => m.text("csrf"),
        None => form.as_ref().and_then(|f| f.get("csrf")),
    };
    let valid = matches!((&expected, given), (Some(e), Some(g)) if same_secret(e, g));
    if !valid && !ANONYMOUS_FORMS.contains(&parts.uri.path()) {
        return WebError::Forbidden(
            "This form has expired or did not come from this site, so nothing was changed. \
             Go back, reload the page and try again (cookies must be enabled)."
                .to_string(),
        )
        .into_html_response(&st.config);
    }
    if !valid {
        parts.extensions.insert(MaybeUser(None));
    }
    if let Some(form) = form {
        parts.extensions.insert(form);
    }
    if let Some(multipart) = multipart {
        parts.extensions.insert(multipart);
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// Reads a form body: at most [`MAX_FORM_BYTES`] ([`WebError::TooLarge`]
/// beyond), and whole within `timeout` ([`WebError::SlowBody`] otherwise,
/// also when the server's own body deadline passes first).
pub async fn read_form_body(body: Body, timeout: Duration) -> Result<Bytes, WebError> {
    read_body(body, timeout, MAX_FORM_BYTES).await
}

/// [`read_form_body`] with another cap.
async fn read_body(body: Body, timeout: Duration, limit: usize) -> Result<Bytes, WebError> {
    match tokio::time::timeout(timeout, to_bytes(body, limit)).await {
        Err(_) => Err(WebError::SlowBody),
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) if crate::server::is_body_timeout(&e) => Err(WebError::SlowBody),
        Ok(Err(_)) => Err(WebError::TooLarge),
    }
}

/// A decoded `application/x-www-form-urlencoded` body. As an extractor it
/// is the form the CSRF check already parsed (or, on a route without that
/// check, the body read as [`read_form_body`] does and parsed); a bad body
/// is answered with an HTML error page.
#[derive(Debug, Default, Clone)]
pub struct Form(QueryString);

impl FromRequest<AppState> for Form {
    type Rejection = Response;

    async fn from_request(mut req: Request, st: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(form) = req.extensions_mut().remove::<Form>() {
            return Ok(form);
        }
        let parsed = match read_form_body(req.into_body(), st.config.connections.body_timeout).await {
            Ok(bytes) => Form::parse(&bytes),
            Err(e) => Err(e),
        };
        parsed.map_err(|e| e.into_html_response(&st.config))
    }
}

impl Form {
    pub fn parse(body: &[u8]) -> Result<Self, WebError> {
        let text = std::str::from_utf8(body).map_err(|_| WebError::bad("the form is not valid UTF-8"))?;
        Ok(Form(QueryString::parse(Some(text))?))
    }

    /// A trimmed, non-empty field.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key)
    }

    /// A field as sent (passwords keep their spaces), `""` when absent.
    pub fn raw(&self, key: &str) -> &str {
        self.0.raw(key).unwrap_or("")
    }
}

/// The rate-limit key of the client that sent the request:
/// `{prefix}:{block}`, where the block is an IPv4 address, or the /64 of an
/// IPv6 address (see [`limit_block`]).
pub fn client_key(prefix: &str, parts_extensions: &axum::http::Extensions) -> String {
    let block = parts_extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| limit_block(c.0.ip()))
        .unwrap_or_else(|| "unknown".to_string());
    format!("{prefix}:{block}")
}

/// The block one client is limited as: an IPv4 address on its own, an IPv6
/// address by its /64 (one subscriber's network gets a whole /64, so
/// counting single addresses would give an attacker 2^64 tries).
/// IPv4-mapped IPv6 addresses count as the IPv4 address they carry.
pub fn limit_block(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{net}/64")
            }
        },
    }
}

/// The client's address, for rate limiting: the TCP peer, or the client a
/// trusted reverse proxy forwarded for (see [`crate::proxy`]); `unknown`
/// when not served with connect info.
pub fn client_ip(parts_extensions: &axum::http::Extensions) -> String {
    parts_extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .map(|ip: IpAddr| ip.to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

/// The logged-in member, or `None`; never rejects.
#[derive(Debug, Clone, Default)]
pub struct MaybeUser(pub Option<Viewer>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<MaybeUser>().cloned().unwrap_or_default())
    }
}

/// The logged-in member; a visitor is sent to the login page (GET) or
/// refused with 401 (other methods).
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Viewer);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(MaybeUser(Some(v))) = parts.extensions.get::<MaybeUser>() {
            return Ok(CurrentUser(v.clone()));
        }
        if parts.method == Method::GET || parts.method == Method::HEAD {
            let here = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            return Err(Redirect::to(&format!("/login?next={}", percent_encode(here))).into_response());
        }
        Err(WebError::Unauthorized("Log in first: this needs an account.".to_string()).into_html_response(&st.config))
    }
}

/// The member whose personal API token the request carries
/// (`Authorization: Bearer …`); 401 JSON otherwise.
#[derive(Debug, Clone)]
pub struct ApiUser(pub User);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let unauthorized = |msg: &str| {
            let mut r = WebError::Unauthorized(msg.to_string()).into_json_response();
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            r
        };
        let Some(auth) = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
            return Err(unauthorized(
                "this needs a personal API token: send `Authorization: Bearer pb_…` (create one in your settings)",
            ));
        };
        let token = auth.strip_prefix("Bearer ").or_else(|| auth.strip_prefix("bearer ")).unwrap_or("").trim();
        if !plausible_token(token) {
            return Err(unauthorized("the Authorization header must be `Bearer pb_…` with a personal API token"));
        }
        match st.store.api_token_user(token).await {
            Ok(Some(user)) => Ok(ApiUser(user)),
            Ok(None) => Err(unauthorized("this API token is not valid (unknown or revoked)")),
            Err(e) => Err(WebError::Store(e).into_json_response()),
        }
    }
}

/// Where to go after logging in: a path on this site only (no `//host`,
/// no backslashes), else `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_local_path(n) => n.to_string(),
        _ => "/".to_string(),
    }
}

/// Whether `n` is a path on this site: `/` alone, or `/` followed by a
/// character other than `/` and `\` (`//host` and `/\host` are other
/// sites to a browser), with no control or white-space character anywhere
/// (browsers drop tabs and newlines from URLs, so `/\t/evil.example`
/// would become `//evil.example`).
fn is_local_path(n: &str) -> bool {
    n.starts_with('/') && !n.starts_with("//") && !n.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\')
}

/// A 303 to `to` (after a form).
pub fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_accepts_only_local_paths() {
        for good in ["/", "/papers/2401.00001", "/search?q=a%20b", "/settings#tokens"] {
            assert_eq!(safe_next(Some(good)), good, "{good:?}");
        }
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/ /evil.example",
            "/\u{0}x",
            "/a\\b",
            "https://evil.example",
            "evil.example",
            "",
            "/\u{a0}/evil.example",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn ipv6_clients_are_limited_per_64_and_ipv4_per_address() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(limit_block(a), "2001:db8:1:2::/64");
        assert_eq!(limit_block(a), limit_block(b));
        assert_ne!(limit_block(a), limit_block(other));
        assert_eq!(limit_block("192.0.2.7".parse().unwrap()), "192.0.2.7");
        assert_ne!(limit_block("192.0.2.7".parse().unwrap()), limit_block("192.0.2.8".parse().unwrap()));
        assert_eq!(limit_block("::ffff:192.0.2.7".parse().unwrap()), "192.0.2.7");
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; pb_session_x=2; pb_session=abc"));
        assert_eq!(cookie(&h, "pb_session").as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "a").as_deref(), Some("1"));
        assert_eq!(cookie(&h, "b"), None);
    }

    #[test]
    fn cookies_are_http_only_lax_and_secure_over_https() {
        assert_eq!(
            cookie_text("pb_session", "t", Some(60), true),
            "pb_session=t; HttpOnly; SameSite=Lax; Path=/; Max-Age=60; Secure"
        );
        assert_eq!(cookie_text("pb_csrf", "c", None, false), "pb_csrf=c; HttpOnly; SameSite=Lax; Path=/");
    }

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next(Some("/papers/2603.00101")), "/papers/2603.00101");
        for bad in ["//evil.example", "https://evil.example", "/\\evil.example", "", "javascript:x"] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
    }

    #[test]
    fn secrets_compare() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
