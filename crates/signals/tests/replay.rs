//! A replay HTTP server on 127.0.0.1 for the API clients' tests.
//!
//! It answers from a fixture directory's `manifest.json`: a list of
//! entries `{path, if_none_match?, times?, status, headers, body?}`. A
//! request (path and query) takes the first entry with its path whose
//! `if_none_match` (when given) equals the request's `If-None-Match` and
//! which has been used fewer than `times` times (when given). Header values
//! and bodies may hold placeholders, filled in per answer: `{base}` (the
//! server's URL), `{epoch+N}` (UTC epoch seconds N from now) and `{ago:N}`
//! (RFC 3339 time N hours ago). Every request is logged with its time and
//! the headers the tests assert on.
//!
//! [`Replay::synthetic`] serves any number of repositories instead
//! (`/repos/bench/repo-N`), with ETags and 304s and GitHub's accounting of
//! the rate limit (a 304 costs nothing), for the benchmark.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use tokio::net::TcpListener;

#[derive(Debug, Clone, Deserialize)]
pub struct Entry {
    pub path: String,
    pub if_none_match: Option<String>,
    pub times: Option<usize>,
    pub status: u16,
    #[serde(default)]
    pub headers: HashMap<String, String>,
    pub body: Option<String>,
}

/// One request the server saw.
#[derive(Debug, Clone)]
pub struct Logged {
    pub at: Instant,
    pub wall: SystemTime,
    pub path: String,
    pub if_none_match: Option<String>,
    pub accept: Option<String>,
    pub authorization: Option<String>,
    pub user_agent: Option<String>,
}

enum Mode {
    Manifest { dir: PathBuf, entries: Vec<Entry>, used: Mutex<Vec<usize>> },
    Synthetic { remaining: AtomicU64 },
}

struct Shared {
    base: String,
    mode: Mode,
    log: Mutex<Vec<Logged>>,
}

/// A running replay server (it stops with the test's runtime).
#[derive(Clone)]
pub struct Replay {
    shared: Arc<Shared>,
}

pub fn fixtures(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/")).join(name)
}

impl Replay {
    /// Serves `tests/fixtures/{name}/manifest.json`.
    pub async fn start(name: &str) -> Replay {
        let dir = fixtures(name);
        let manifest = std::fs::read(dir.join("manifest.json")).expect("manifest.json");
        let entries: Vec<Entry> = serde_json::from_slice(&manifest).expect("a valid manifest");
        let used = Mutex::new(vec![0; entries.len()]);
        Self::serve(Mode::Manifest { dir, entries, used }).await
    }

    /// Serves `/repos/bench/repo-N` for any N, with the rate limit
    /// `remaining` counted down by every 200 (not by 304s).
    pub async fn synthetic(remaining: u64) -> Replay {
        Self::serve(Mode::Synthetic { remaining: AtomicU64::new(remaining) }).await
    }

    async fn serve(mode: Mode) -> Replay {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared { base, mode, log: Mutex::new(Vec::new()) });
        let app = Router::new().fallback(answer).with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.expect("replay server") });
        Replay { shared }
    }

    pub fn url(&self) -> String {
        self.shared.base.clone()
    }

    pub fn log(&self) -> Vec<Logged> {
        self.shared.log.lock().unwrap().clone()
    }

    /// The logged requests for one path (with its query).
    pub fn requests(&self, path: &str) -> Vec<Logged> {
        self.log().into_iter().filter(|l| l.path == path).collect()
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

async fn answer(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let path = request.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    let headers = request.headers();
    let logged = Logged {
        at: Instant::now(),
        wall: SystemTime::now(),
        path: path.clone(),
        if_none_match: header(headers, "if-none-match"),
        accept: header(headers, "accept"),
        authorization: header(headers, "authorization"),
        user_agent: header(headers, "user-agent"),
    };
    shared.log.lock().unwrap().push(logged.clone());
    match &shared.mode {
        Mode::Manifest { dir, entries, used } => {
            let chosen = {
                let mut used = used.lock().unwrap();
                let found = entries.iter().enumerate().position(|(i, e)| {
                    e.path == path
                        && e.if_none_match.as_ref().is_none_or(|tag| logged.if_none_match.as_ref() == Some(tag))
                        && e.times.is_none_or(|t| used[i] < t)
                });
                if let Some(i) = found {
                    used[i] += 1;
                }
                found
            };
            let Some(i) = chosen else {
                return respond(
                    404,
                    &HashMap::new(),
                    br#"{"message":"Not Found (no fixture)"}"#.to_vec(),
                    &shared.base,
                );
            };
            let entry = &entries[i];
            let body = entry
                .body
                .as_ref()
                .map(|f| std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("fixture body {f}: {e}")))
                .unwrap_or_default();
            respond(entry.status, &entry.headers, body, &shared.base)
        }
        Mode::Synthetic { remaining } => {
            let Some(n) = path.strip_prefix("/repos/bench/repo-").and_then(|n| n.parse::<u64>().ok()) else {
                return respond(404, &HashMap::new(), Vec::new(), &shared.base);
            };
            let etag = format!("\"bench-{n}\"");
            let mut h = HashMap::from([
                ("ETag".to_string(), etag.clone()),
                ("X-RateLimit-Reset".into(), "{epoch+3600}".into()),
            ]);
            if logged.if_none_match.as_deref() == Some(etag.as_str()) {
                h.insert("X-RateLimit-Remaining".into(), remaining.load(Ordering::SeqCst).to_string());
                return respond(304, &h, Vec::new(), &shared.base);
            }
            let left = remaining.fetch_sub(1, Ordering::SeqCst).saturating_sub(1);
            h.insert("X-RateLimit-Remaining".into(), left.to_string());
            let body = format!(
                r#"{{"id":{n},"full_name":"bench/repo-{n}","stargazers_count":{},"forks_count":{},"pushed_at":"2026-03-01T00:00:00Z","archived":false}}"#,
                n * 7 % 50_000,
                n % 900
            );
            respond(200, &h, body.into_bytes(), &shared.base)
        }
    }
}

fn respond(status: u16, headers: &HashMap<String, String>, body: Vec<u8>, base: &str) -> Response {
    let body = fill(&String::from_utf8_lossy(&body), base);
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).expect("a valid status");
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes()).expect("a header name");
        response.headers_mut().insert(name, HeaderValue::from_str(&fill(value, base)).expect("a header value"));
    }
    if !response.headers().contains_key("content-type") {
        response.headers_mut().insert("content-type", HeaderValue::from_static("application/json; charset=utf-8"));
    }
    response
}

/// Fills the placeholders `{base}`, `{epoch+N}` and `{ago:N}`.
fn fill(text: &str, base: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let token = &after[..close];
        let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap();
        let filled = if token == "base" {
            Some(base.to_string())
        } else if let Some(n) = token.strip_prefix("epoch+").and_then(|n| n.parse::<u64>().ok()) {
            Some((now.as_secs() + n).to_string())
        } else if let Some(h) = token.strip_prefix("ago:").and_then(|h| h.parse::<u64>().ok()) {
            let t = chrono::Utc::now() - chrono::TimeDelta::hours(h as i64);
            Some(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        } else {
            None
        };
        match filled {
            Some(f) => {
                out.push_str(&f);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Seconds between two logged requests.
pub fn gap(a: &Logged, b: &Logged) -> Duration {
    b.at.saturating_duration_since(a.at)
}
