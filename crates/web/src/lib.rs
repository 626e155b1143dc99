//! Paperboy's HTTP layer: server-rendered HTML pages, Atom and RSS feeds,
//! search (a page, an Atom feed per search and a JSON endpoint, over
//! [`paperboy_search::SearchEngine`]), and a JSON API compatible with
//! Hugging Face Papers' clients; members (accounts, sessions, CSRF and API
//! tokens in `auth.rs`, the account pages in `pages/account.rs`).
//!
//! [`router`] builds the whole site over an [`AppState`]; [`serve`] runs it
//! on a listener until a shutdown signal, letting open requests finish,
//! within the timeouts and connection cap of [`server`]; a handler's panic
//! is a 500 with a request id ([`panic`]).
//! Successful GET responses to visitors without a session are cached
//! in-process until the catalog changes (see `cache.rs`). Every response carries the security headers
//! of [`security_headers`];
//! bad input always gets a 4xx with a readable message (HTML on the site,
//! `{"error": …}` under `/api/`), never a 500.

pub mod api;
pub mod assets;
pub mod auth;
pub mod bibtex;
mod cache;
pub mod compress;
pub mod conditional;
mod dates;
pub mod error;
pub mod feeds;
pub mod links;
pub mod markdown;
pub mod metrics;
pub mod multipart;
pub mod openapi;
pub mod pages;
pub mod panic;
pub mod params;
pub mod proxy;
pub mod ratelimit;
pub mod search;
pub mod server;
pub mod signals;

use std::future::Future;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::{from_fn_with_state, map_response_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};

pub use cache::ResponseCache;
pub use error::WebError;
pub use proxy::IpBlock;
pub use server::ConnectionLimits;

/// Settings of the web layer.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Where the site is reached, without trailing slash, e.g.
    /// `http://127.0.0.1:8080`; used for absolute links in feeds, canonical
    /// links and the API's `Link` header.
    pub base_url: String,
    /// Shown in the header and titles: `Paperboy`.
    pub site_name: String,
    /// Papers per HTML feed page (30).
    pub page_size: u32,
    /// The arXiv API endpoint that submissions are fetched from
    /// (`paperboy_arxiv::DEFAULT_BASE_URL`; a replay server in tests).
    pub arxiv_base_url: String,
    /// Members may submit papers whose first version appeared at most this
    /// many days ago (14).
    pub submit_window_days: u32,
    /// Whether email digests are on; set by [`router`] from [`AppState::mail`]
    /// (the layout shows the subscribe box only then).
    pub mail_enabled: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client (for rate
    /// limits); empty: the TCP peer is the client. See [`proxy`].
    pub trusted_proxies: Vec<IpBlock>,
    /// Comments and replies one member may post per minute (5; 0: no limit).
    pub comments_per_minute: u32,
    /// Timeouts and the connection cap of [`serve`] (see [`server`]).
    pub connections: ConnectionLimits,
    /// What trending scores are explained with (`[ranking]`, the same as
    /// the store ranks with).
    pub ranking: signals::Ranking,
    /// `/trending` shows papers listed at most this many days ago (180).
    pub max_age_days: u32,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            base_url: "http://127.0.0.1:8080".to_string(),
            site_name: "Paperboy".to_string(),
            page_size: 30,
            arxiv_base_url: paperboy_arxiv::DEFAULT_BASE_URL.to_string(),
            submit_window_days: 14,
            mail_enabled: false,
            trusted_proxies: Vec::new(),
            comments_per_minute: paperboy_services::comments::CommentLimit::DEFAULT.per_minute,
            connections: ConnectionLimits::default(),
            ranking: signals::Ranking::default(),
            max_age_days: paperboy_core::trending::DEFAULT_MAX_AGE_DAYS,
        }
    }
}

/// What every handler gets.
#[derive(Clone)]
pub struct AppState {
    /// The catalog and the community (members, votes, comments).
    pub store: Arc<dyn paperboy_store::Database>,
    pub config: Arc<WebSettings>,
    /// The search engine, or `None` when search is disabled: the site still
    /// works, `/search` says search is not set up, the search API and feed
    /// answer 503, and paper pages leave out similar papers.
    pub search: Option<Arc<paperboy_search::SearchEngine>>,
    /// Email digests and account mail, or `None` when no SMTP server is
    /// configured: subscribing is then unavailable and account links are
    /// only written to the log.
    pub mail: Option<Arc<paperboy_mail::Postman>>,
    /// The response cache (`Arc::default()` for a new one); `serve` hands
    /// the same one to the `cache-follow` job, which keeps it fresh when
    /// other servers take votes and comments (see `cache.rs`).
    pub cache: Arc<ResponseCache>,
    /// Members' recommendations (`/for-you`, `/api/recommendations`, the
    /// private feed); built over the same search engine as `search`.
    pub recs: paperboy_services::recommend::RecsService,
}

/// The whole site.
pub fn router(state: AppState) -> Router {
    router_with_metrics(state, Arc::default())
}

/// The whole site, counting its requests in `http` (see [`metrics`]).
pub fn router_with_metrics(state: AppState, http: Arc<metrics::HttpMetrics>) -> Router {
    let mut state = state;
    // A trailing slash would double in every absolute link.
    if state.config.base_url.ends_with('/') || state.config.mail_enabled != state.mail.is_some() {
        let mut config = (*state.config).clone();
        config.base_url = config.base_url.trim_end_matches('/').to_string();
        config.mail_enabled = state.mail.is_some();
        state.config = Arc::new(config);
    }
    Router::new()
        .route("/", get(pages::feed::latest))
        .route("/papers", get(pages::feed::latest))
        .route("/papers/date", get(pages::feed::latest_day))
        .route("/papers/week", get(pages::feed::latest_week))
        .route("/papers/month", get(pages::feed::latest_month))
        .route("/papers/date/{day}", get(pages::feed::day))
        .route("/papers/week/{week}", get(pages::feed::week))
        .route("/papers/month/{month}", get(pages::feed::month))
        .route("/papers/date/{day}/feed.atom", get(feeds::day_atom))
        .route("/papers/date/{day}/feed.rss", get(feeds::day_rss))
        .route("/papers/week/{week}/feed.atom", get(feeds::week_atom))
        .route("/papers/week/{week}/feed.rss", get(feeds::week_rss))
        .route("/papers/month/{month}/feed.atom", get(feeds::month_atom))
        .route("/papers/month/{month}/feed.rss", get(feeds::month_rss))
        .route("/papers/submit", get(pages::submit::show).post(pages::submit::submit))
        // Static routes above win over this wildcard, which takes paper ids
        // including old-style ones with a slash (`hep-th/9901001`).
        .route("/papers/{*id}", get(pages::paper::show).post(pages::paper::post))
        .route("/u/{username}", get(pages::members::profile))
        .route("/reading-list", get(pages::members::reading_list))
        .route("/reading-list.bib", get(pages::members::reading_list_bib))
        .route("/comments/{cid}", get(pages::comments::permalink))
        .route("/comments/{cid}/edit", post(pages::comments::edit))
        .route("/comments/{cid}/delete", post(pages::comments::delete))
        .route("/comments/{cid}/hide", post(pages::comments::hide))
        .route("/for-you", get(pages::for_you::this_week))
        .route("/for-you/day/{day}", get(pages::for_you::day))
        .route("/for-you/week/{week}", get(pages::for_you::week))
        .route("/for-you/month/{month}", get(pages::for_you::month))
        .route("/for-you/categories", post(pages::for_you::follow_categories))
        .route("/for-you/feed/{file}", get(pages::for_you::feed_atom))
        .route("/trending", get(pages::trending::show))
        .route("/trending/feed.atom", get(pages::trending::feed_atom))
        .route("/search", get(pages::search::show))
        .route("/search/feed.atom", get(feeds::search_atom))
        .route("/feed.atom", get(feeds::latest_atom))
        .route("/feed.rss", get(feeds::latest_rss))
        .route("/api/daily_papers", get(api::daily_papers))
        // Static, so it wins over the wildcard below, which also serves
        // `/api/papers/{id}/similar` (ids may contain a slash).
        .route("/api/papers/search", get(api::search))
        .route("/api/recommendations", get(api::recommendations))
        .route("/api/papers/{*id}", get(api::paper).post(api::upvote).delete(api::remove_upvote))
        .route("/api/openapi.json", get(openapi::document))
        .route("/signup", get(pages::account::signup_page).post(pages::account::signup))
        .route("/login", get(pages::account::login_page).post(pages::account::login))
        .route("/logout", post(pages::account::logout))
        .route("/reset", get(pages::account::reset_page).post(pages::account::reset_request))
        .route("/reset/{token}", get(pages::account::reset_link_page).post(pages::account::reset_link))
        .route("/verify/{token}", get(pages::account::verify))
        .route("/settings", get(pages::settings::show))
        .route("/settings/password", post(pages::settings::change_password))
        .route("/settings/verify", post(pages::settings::send_verification))
        .route("/settings/tokens", post(pages::settings::create_token))
        .route("/settings/tokens/revoke", post(pages::settings::revoke_token))
        .route("/settings/digest", post(pages::subscribe::settings_digest))
        .route("/settings/interests", get(pages::interests::show))
        .route("/settings/interests/categories", post(pages::interests::category))
        .route("/settings/interests/authors", post(pages::interests::author))
        .route("/settings/interests/not-for-me", post(pages::interests::undo_not_for_me))
        .route("/settings/interests/clear", get(pages::interests::confirm_clear).post(pages::interests::clear))
        .route("/settings/interests/feed-secret", post(pages::interests::rotate_feed_secret))
        .route("/settings/library", get(pages::library::show).post(pages::library::upload))
        .route("/settings/library/remove", post(pages::library::remove))
        .route("/subscribe", get(pages::subscribe::form_page).post(pages::subscribe::subscribe))
        .route("/subscribe/confirm/{token}", get(pages::subscribe::confirm))
        .route("/subscription/{token}", get(pages::subscribe::manage_page).post(pages::subscribe::manage))
        .route("/admin/digest", get(pages::admin_digest::preview))
        .route("/admin/harvest", get(pages::admin_harvest::show))
        .route("/healthz", get(healthz))
        .route("/static/style.css", get(assets::style_css))
        // Only on matched routes and methods, so unknown paths stay 404s
        // and other methods 405s.
        .route_layer(from_fn_with_state(state.clone(), auth::csrf_middleware))
        // After the CSRF layer on purpose: the signed token in the path is
        // the proof, and RFC 8058 one-click POSTs from mail providers carry
        // no CSRF token.
        .route("/unsubscribe/{token}", get(pages::subscribe::unsubscribe_page).post(pages::subscribe::unsubscribe))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Outermost last: proxy, access log and metrics, headers, panic
        // guard, validators and compression, session, cache, then CSRF
        // (above), then the handler.
        .layer(from_fn_with_state((state.clone(), Arc::clone(&state.cache)), cache::middleware))
        .layer(from_fn_with_state(state.clone(), auth::session_middleware))
        .layer(axum::middleware::from_fn(conditional::middleware))
        .layer(Extension(Arc::new(ratelimit::Limits::default())))
        .layer(Extension(pages::submit::Fetcher::new(&state.config.arxiv_base_url)))
        .layer(from_fn_with_state(state.clone(), panic::panic_guard))
        .layer(map_response_with_state(state.config.base_url.starts_with("https://"), security_headers))
        .layer(from_fn_with_state(http, metrics::observe))
        .layer(from_fn_with_state(state.clone(), proxy::middleware))
        .with_state(state)
}

/// Runs the site on `listener` until `shutdown` completes, then waits for
/// open requests to finish; slow and idle clients and the number of
/// connections are limited by `state.config.connections` (see [`server`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.config.connections;
    server::serve_router(listener, router(state), limits, shutdown).await
}

/// `GET /healthz`: 200 `ok` when the store answers, 503 otherwise.
async fn healthz(State(st): State<AppState>) -> Response {
    match st.store.count_papers().await {
        Ok(_) => ([(header::CACHE_CONTROL, "no-store")], "ok").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable").into_response()
        }
    }
}

fn is_api(uri: &Uri) -> bool {
    is_api_path(uri.path())
}

/// Whether `path` is under the JSON API (errors there are JSON).
pub(crate) fn is_api_path(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// Unknown paths: JSON under `/api/`, the HTML 404 page elsewhere.
async fn not_found(State(st): State<AppState>, uri: Uri) -> Response {
    let err = WebError::no_route(uri.path());
    if is_api(&uri) { err.into_json_response() } else { err.into_html_response(&st.config) }
}

/// A known path with a method other than GET or HEAD (axum adds `Allow`).
async fn method_not_allowed(State(st): State<AppState>, uri: Uri) -> Response {
    if is_api(&uri) {
        WebError::MethodNotAllowed.into_json_response()
    } else {
        WebError::MethodNotAllowed.into_html_response(&st.config)
    }
}

/// The Content-Security-Policy of every response: nothing from other
/// origins, no scripts at all (the site has none), no framing by other sites
/// (clickjacking), no `<base>` rewriting of relative links, and forms post
/// only to this site.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// HSTS for a site whose base URL is https: browsers use https only, for a
/// year. Not sent over plain http (browsers ignore it there, and a local or
/// test server must stay reachable).
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// Headers every response carries (`https`: whether the base URL is https,
/// which adds HSTS).
pub async fn security_headers(State(https): State<bool>, mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    if https {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(STRICT_TRANSPORT_SECURITY));
    }
    response
}
