//! Shared scaffolding for the web crate's integration tests: a SQLite store
//! in a temporary directory, the real router served on `127.0.0.1:0` (with
//! optional configuration, search engine and mailer) behind a [`Server`]
//! handle, and a cookie-keeping [`Browser`] for member flows.
//!
//! The test catalog of the page, feed and API tests is in [`catalog`], the
//! XML and JSON checks in [`xml`] and [`json`]. Other test files keep their
//! own catalog and specifics next to their tests; not every file uses every
//! helper.

#![allow(dead_code)]

pub mod catalog;
pub mod json;
pub mod xml;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use paperboy_mail::Postman;
use paperboy_search::SearchEngine;
use paperboy_store::{Database, SqlStore};
use paperboy_test_support::db::SqliteFile;
use paperboy_web::{AppState, WebSettings};
use reqwest::StatusCode;
use serde_json::Value;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// An empty SQLite store in a new temporary directory; keep the directory
/// as long as the store.
pub async fn sqlite() -> (TempDir, SqlStore) {
    let file = SqliteFile::new();
    let store = SqlStore::open_sqlite(file.path()).await.unwrap();
    (file.into_dir(), store)
}

/// Signs up verified members `names` (address `NAME@example.org`) with
/// `password`, through the same service as the sign-up form.
pub async fn members(store: &SqlStore, names: &[&str], password: &str) {
    for name in names {
        let form = paperboy_services::accounts::SignUp {
            username: name,
            email: &format!("{name}@example.org"),
            password,
            role: paperboy_core::Role::Member,
            email_verified: true,
        };
        paperboy_services::accounts::sign_up(store, &form).await.unwrap();
    }
}

/// An HTTP client that never follows redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

pub fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

pub fn content_type(r: &reqwest::Response) -> String {
    header(r, "content-type")
}

/// A server about to start: its listener is bound, so [`Launch::base`] is
/// known before the rest is built (mail links need it).
pub struct Launch {
    listener: TcpListener,
    pub base: String,
    config: WebSettings,
    search: Option<Arc<SearchEngine>>,
    mail: Option<Arc<Postman>>,
    dir: Option<TempDir>,
    /// The base URL the site believes it has (`None`: the listener's).
    public: Option<String>,
}

impl Launch {
    pub async fn bind() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        Launch { listener, base, config: WebSettings::default(), search: None, mail: None, dir: None, public: None }
    }

    /// Serve with `config`; its `base_url` is replaced by the listener's
    /// (see [`Launch::public_url`]).
    pub fn config(self, config: WebSettings) -> Self {
        Launch { config, ..self }
    }

    /// The site believes it is reached at `url` (say, https behind a proxy),
    /// while the tests still talk to the listener.
    pub fn public_url(self, url: &str) -> Self {
        Launch { public: Some(url.to_string()), ..self }
    }

    pub fn search(self, search: Option<Arc<SearchEngine>>) -> Self {
        Launch { search, ..self }
    }

    pub fn mail(self, postman: Arc<Postman>) -> Self {
        Launch { mail: Some(postman), ..self }
    }

    /// Keep `dir` (the store's files) until the server is dropped.
    pub fn keep(self, dir: TempDir) -> Self {
        Launch { dir: Some(dir), ..self }
    }

    /// Starts serving `store`; the server stops when the [`Server`] is dropped.
    pub fn serve<S: Database + Clone + 'static>(self, store: S) -> Server<S> {
        let Launch { listener, base, config, search, mail, dir, public } = self;
        let state = AppState {
            cache: Arc::default(),
            store: Arc::new(store.clone()),
            config: Arc::new(WebSettings { base_url: public.unwrap_or_else(|| base.clone()), ..config }),
            recs: paperboy_services::recommend::RecsService::new(search.clone(), Default::default()),
            search: search.clone(),
            mail,
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(paperboy_web::serve(listener, state, async move {
            let _ = stopped.await;
        }));
        Server { base, client: client(), store, search, stop, task, _dir: dir }
    }
}

/// A running server, a redirect-less client for it, and handles on what
/// it serves.
pub struct Server<S = SqlStore> {
    pub base: String,
    pub client: reqwest::Client,
    pub store: S,
    pub search: Option<Arc<SearchEngine>>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
    _dir: Option<TempDir>,
}

impl<S> Server<S> {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// GET, check the status, return the body.
    pub async fn text(&self, path: &str, status: StatusCode) -> String {
        let r = self.get(path).await;
        assert_eq!(r.status(), status, "GET {path}");
        r.text().await.unwrap()
    }

    /// GET, check the status and that the answer is JSON, return it.
    pub async fn json(&self, path: &str, status: StatusCode) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), status, "GET {path}");
        assert_eq!(content_type(&r), "application/json", "GET {path}");
        r.json().await.unwrap()
    }

    /// Sends the shutdown signal and waits up to `limit` for `serve` to
    /// return (`Err` if it did not).
    pub async fn shut_down(
        self,
        limit: Duration,
    ) -> Result<Result<std::io::Result<()>, tokio::task::JoinError>, tokio::time::error::Elapsed> {
        self.stop.send(()).unwrap();
        tokio::time::timeout(limit, self.task).await
    }
}

/// A browser: keeps cookies, never follows redirects.
pub struct Browser {
    pub base: String,
    pub client: reqwest::Client,
    pub cookies: HashMap<String, String>,
    /// Sent as `X-Forwarded-For`, as a reverse proxy would.
    pub forwarded_for: Option<String>,
}

pub struct Page {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// The value of the first `csrf` hidden field.
    pub fn csrf(&self) -> String {
        let at = self.body.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
        self.body[at..at + self.body[at..].find('"').unwrap()].to_string()
    }
}

impl Browser {
    pub fn new<S>(server: &Server<S>) -> Self {
        Browser { base: server.base.clone(), client: client(), cookies: HashMap::new(), forwarded_for: None }
    }

    /// `path` on the site, or an absolute URL as is (links from mails).
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") { path.to_string() } else { format!("{}{path}", self.base) }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn keep(&mut self, r: reqwest::Response) -> Page {
        for sc in r.headers().get_all("set-cookie") {
            let sc = sc.to_str().unwrap();
            let (pair, attrs) = sc.split_once(';').unwrap_or((sc, ""));
            let (k, v) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        let status = r.status();
        let headers = r.headers().clone();
        Page { status, headers, body: r.text().await.unwrap() }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let r = self.client.request(method, self.url(path)).header("cookie", self.cookie_header());
        match &self.forwarded_for {
            Some(xff) => r.header("x-forwarded-for", xff),
            None => r,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let r = self.request(reqwest::Method::GET, path).send().await.unwrap();
        self.keep(r).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let r = self.request(reqwest::Method::POST, path).form(form).send().await.unwrap();
        self.keep(r).await
    }

    /// Fetches the login form and posts it.
    pub async fn log_in(&mut self, user: &str, password: &str) -> Page {
        let form = self.get("/login").await;
        let csrf = form.csrf();
        self.post("/login", &[("csrf", &csrf), ("username", user), ("password", password)]).await
    }

    /// The session cookie, if any.
    pub fn session(&self) -> Option<String> {
        self.cookies.get("pb_session").cloned()
    }
}
