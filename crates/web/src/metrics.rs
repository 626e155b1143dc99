//! Prometheus metrics (`GET /metrics`, text exposition format 0.0.4) and
//! the access log.
//!
//! [`observe`] is the router's outermost layer but for the proxy check: for
//! every request it counts `http_requests_total{route,method,status}` and
//! `http_request_duration_seconds{route}` (a histogram with the fixed
//! [`BUCKETS`]), where `route` is the matched path template (`/papers/{*id}`),
//! never the raw URL, or `unmatched`; and it writes one access log line
//! (target `paperboy::access`): method, route, path (no query string; the
//! template instead of the path for routes that carry a secret), status,
//! latency, body bytes, request id (also handed to the panic guard) and the
//! client address as [`crate::proxy`] resolved it.
//!
//! The registry is a few atomics per route, written here rather than taken
//! from a metrics crate. [`render`] adds what is read at scrape time: the
//! response cache's hits and misses, the background jobs' runs and failures
//! (the supervisor's `StatusBoard`), the catalog size, the last harvest and
//! the signal sources' state from the store, and the embedding backlog of
//! the server's model.
//!
//! `/metrics` is not on the public port: `paperboy serve` answers it on a
//! second listener (`[server] metrics_addr`), or on the public port only for
//! requests that carry `[server] metrics_token` as a bearer token
//! ([`router`]).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::HttpBody;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use paperboy_services::jobs::StatusBoard;
use paperboy_store::{Database, ModelKey};

use crate::ResponseCache;

/// Upper bounds of the latency histogram's buckets, in seconds.
pub const BUCKETS: [f64; 14] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// The route label of requests that matched no route.
pub const UNMATCHED: &str = "unmatched";

/// One route's counters.
#[derive(Default)]
struct RouteStats {
    /// Requests by (method, status).
    counts: Mutex<HashMap<(String, u16), u64>>,
    /// Requests per bucket (not cumulative; summed when rendered).
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

/// The HTTP request counters and latency histograms.
#[derive(Default)]
pub struct HttpMetrics {
    routes: RwLock<HashMap<String, Arc<RouteStats>>>,
}

impl HttpMetrics {
    /// Counts one request.
    pub fn record(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let stats = self.routes.read().unwrap_or_else(|p| p.into_inner()).get(route).cloned();
        let stats = match stats {
            Some(s) => s,
            None => {
                Arc::clone(self.routes.write().unwrap_or_else(|p| p.into_inner()).entry(route.to_string()).or_default())
            }
        };
        *stats.counts.lock().unwrap_or_else(|p| p.into_inner()).entry((method.to_string(), status)).or_default() += 1;
        let secs = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            stats.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        stats.count.fetch_add(1, Ordering::Relaxed);
        stats.sum_nanos.fetch_add(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    fn write(&self, out: &mut Exposition) {
        let routes = self.routes.read().unwrap_or_else(|p| p.into_inner());
        let mut names: Vec<&String> = routes.keys().collect();
        names.sort();
        out.family("http_requests_total", "counter", "HTTP requests by matched route, method and status.");
        for route in &names {
            let counts = routes[*route].counts.lock().unwrap_or_else(|p| p.into_inner());
            let mut rows: Vec<_> = counts.iter().collect();
            rows.sort();
            for ((method, status), n) in rows {
                let status = status.to_string();
                out.sample(
                    "http_requests_total",
                    &[("route", route), ("method", method), ("status", &status)],
                    *n as f64,
                );
            }
        }
        out.family("http_request_duration_seconds", "histogram", "Time to the response's headers, by matched route.");
        for route in &names {
            let s = &routes[*route];
            let mut cumulative = 0u64;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += s.buckets[i].load(Ordering::Relaxed);
                let le = bound.to_string();
                out.sample("http_request_duration_seconds_bucket", &[("route", route), ("le", &le)], cumulative as f64);
            }
            let count = s.count.load(Ordering::Relaxed);
            out.sample("http_request_duration_seconds_bucket", &[("route", route), ("le", "+Inf")], count as f64);
            let sum = s.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
            out.sample("http_request_duration_seconds_sum", &[("route", route)], sum);
            out.sample("http_request_duration_seconds_count", &[("route", route)], count as f64);
        }
    }
}

/// A request's id: in the access log line, and in a panic's 500.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl RequestId {
    /// A new id: 16 hex digits, a per-process random prefix and a counter.
    fn next() -> RequestId {
        static PREFIX: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let prefix = *PREFIX.get_or_init(|| {
            paperboy_store::secret::random_hex()
                .ok()
                .and_then(|h| u32::from_str_radix(&h[..8], 16).ok())
                .unwrap_or_else(std::process::id)
        });
        RequestId(format!("{prefix:08x}{:08x}", COUNTER.fetch_add(1, Ordering::Relaxed) as u32))
    }
}

/// What the access log shows as the path: the template for routes whose
/// path holds a secret (account and subscription links, private feeds).
fn logged_path<'a>(route: &'a str, path: &'a str) -> &'a str {
    if route.contains("{token}") || route.starts_with("/for-you/feed/") { route } else { path }
}

/// The middleware: counts the request and writes its access log line.
pub async fn observe(State(http): State<Arc<HttpMetrics>>, mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req.extensions().get::<MatchedPath>().map_or(UNMATCHED, |m| m.as_str()).to_string();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let client = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let id = RequestId::next();
    req.extensions_mut().insert(id.clone());
    let response = next.run(req).await;
    let elapsed = start.elapsed();
    let status = response.status().as_u16();
    http.record(&route, method.as_str(), status, elapsed);
    let bytes = response.body().size_hint().exact();
    tracing::info!(
        target: "paperboy::access",
        method = %method,
        route = %route,
        path = %logged_path(&route, &path),
        status,
        latency_ms = (elapsed.as_secs_f64() * 1000.0 * 100.0).round() / 100.0,
        bytes = bytes.map_or(-1, |b| b as i64),
        request_id = %id.0,
        client = %client.map_or_else(|| "-".to_string(), |c| c.to_string()),
        "request"
    );
    response
}

/// Runs `fut` inside `span` and ends with a debug event carrying its
/// duration (`elapsed_ms`): the tracing around store, search and embedding
/// calls in the hot paths. Costs next to nothing when the span's level is
/// filtered out.
pub async fn timed<T>(span: tracing::Span, fut: impl std::future::Future<Output = T>) -> T {
    use tracing::Instrument as _;
    if span.is_disabled() {
        return fut.await;
    }
    let start = Instant::now();
    let out = fut.instrument(span.clone()).await;
    span.in_scope(|| tracing::debug!(elapsed_ms = start.elapsed().as_secs_f64() * 1000.0, "done"));
    out
}

/// A text exposition (format 0.0.4) being written.
#[derive(Default)]
pub struct Exposition(String);

impl Exposition {
    /// Starts a family: its `# HELP` and `# TYPE` lines.
    pub fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {}", help.replace('\\', "\\\\").replace('\n', "\\n"));
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    /// One sample line.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let v = v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
                let _ = write!(self.0, "{k}=\"{v}\"");
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {}", number(value));
    }

    /// A family of one unlabelled sample.
    pub fn single(&mut self, name: &str, kind: &str, help: &str, value: f64) {
        self.family(name, kind, help);
        self.sample(name, &[], value);
    }

    pub fn finish(self) -> String {
        self.0
    }
}

fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        v.to_string()
    }
}

/// How long a scrape reuses the embedding backlog read by an earlier one.
pub const BACKLOG_MAX_AGE: Duration = Duration::from_secs(60);

/// Everything `/metrics` reads.
#[derive(Clone)]
pub struct MetricsState {
    pub http: Arc<HttpMetrics>,
    pub cache: Arc<ResponseCache>,
    pub store: Arc<dyn Database>,
    /// The background jobs' status (`None`: no jobs run here).
    pub jobs: Option<StatusBoard>,
    /// The server's embedding model, for the backlog gauges (`None`: left out).
    pub embedding_model: Option<ModelKey>,
    /// The last backlog read, reused for [`BACKLOG_MAX_AGE`]: counting the
    /// backlog walks the whole catalog (0.7 s at a million papers on
    /// SQLite), too much for every scrape of every server.
    pub backlog: Arc<Mutex<Option<(Instant, paperboy_store::EmbeddingBacklog)>>>,
    /// On the public port: the bearer token a scrape must carry.
    pub token: Option<String>,
}

/// A router answering `GET /metrics` (requiring `state.token` as a bearer
/// token when set).
pub fn router(state: MetricsState) -> Router {
    Router::new().route("/metrics", get(scrape)).with_state(state)
}

fn authorized(headers: &HeaderMap, token: Option<&str>) -> bool {
    let Some(token) = token else { return true };
    let given =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    // Compared in constant time: the token guards the metrics on a public port.
    given.is_some_and(|g| {
        g.len() == token.len() && g.bytes().zip(token.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    })
}

async fn scrape(State(st): State<MetricsState>, headers: HeaderMap) -> Response {
    if !authorized(&headers, st.token.as_deref()) {
        return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "a bearer token is required\n")
            .into_response();
    }
    let body = render(&st).await;
    let mut r = body.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn seconds(t: chrono::DateTime<chrono::Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

/// The whole exposition. Parts the store cannot answer now are left out
/// (and logged), so a scrape still shows the process's own counters.
pub async fn render(st: &MetricsState) -> String {
    let mut out = Exposition::default();
    st.http.write(&mut out);
    let (hits, misses) = st.cache.hits_and_misses();
    out.family(
        "paperboy_response_cache_requests_total",
        "counter",
        "Cacheable requests: served from the response cache (hit) or rendered (miss).",
    );
    out.sample("paperboy_response_cache_requests_total", &[("result", "hit")], hits as f64);
    out.sample("paperboy_response_cache_requests_total", &[("result", "miss")], misses as f64);
    if let Some(board) = &st.jobs {
        let jobs = board.snapshot();
        out.family("paperboy_job_runs_total", "counter", "Background job runs that ended, by job.");
        for j in &jobs {
            out.sample("paperboy_job_runs_total", &[("job", &j.name)], j.runs as f64);
        }
        out.family("paperboy_job_failures_total", "counter", "Background job runs that failed, by job.");
        for j in &jobs {
            out.sample("paperboy_job_failures_total", &[("job", &j.name)], j.failures as f64);
        }
        out.family("paperboy_job_running", "gauge", "1 while a job's run is under way.");
        for j in &jobs {
            out.sample("paperboy_job_running", &[("job", &j.name)], f64::from(u8::from(j.running)));
        }
        out.family("paperboy_job_last_finished_timestamp_seconds", "gauge", "When a job's last run ended (Unix time).");
        for j in &jobs {
            if let Some(t) = j.last_finished {
                out.sample("paperboy_job_last_finished_timestamp_seconds", &[("job", &j.name)], seconds(t));
            }
        }
    }
    store_metrics(st, &mut out).await;
    out.finish()
}

async fn store_metrics(st: &MetricsState, out: &mut Exposition) {
    let db = st.store.as_ref();
    match db.count_papers().await {
        Ok(n) => out.single("paperboy_papers", "gauge", "Papers in the catalog.", n as f64),
        Err(e) => tracing::warn!(error = %e, "metrics: could not count the papers"),
    }
    match db.recent_harvests(1).await {
        Ok(runs) => {
            if let Some(run) = runs.first() {
                let at = run.finished_at.unwrap_or(run.updated_at);
                out.single(
                    "paperboy_harvest_last_run_timestamp_seconds",
                    "gauge",
                    "When the last harvest ended or last made progress (Unix time).",
                    seconds(at),
                );
                out.family("paperboy_harvest_last_run_status", "gauge", "1 for the status of the last harvest run.");
                out.sample("paperboy_harvest_last_run_status", &[("status", run.status.as_str())], 1.0);
                out.family(
                    "paperboy_harvest_last_run_records",
                    "gauge",
                    "Records of the last harvest run, by outcome.",
                );
                let c = &run.counts;
                for (what, n) in [
                    ("inserted", c.inserted),
                    ("updated", c.updated),
                    ("unchanged", c.unchanged),
                    ("filtered", c.filtered),
                    ("deleted", c.deleted),
                    ("rejected", c.rejected),
                ] {
                    out.sample("paperboy_harvest_last_run_records", &[("outcome", what)], n as f64);
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: could not read the harvest runs"),
    }
    let mut sources = Vec::new();
    for source in [paperboy_services::jobs::signals_github::SOURCE, paperboy_services::jobs::signals_hf::SOURCE] {
        match db.source_state(source).await {
            Ok(s) => sources.push(s),
            Err(e) => tracing::warn!(error = %e, source, "metrics: could not read a signal source's state"),
        }
    }
    out.family(
        "paperboy_signals_last_run_timestamp_seconds",
        "gauge",
        "When a signal source was last fetched (Unix time).",
    );
    for s in &sources {
        if let Some(t) = s.last_run_at {
            out.sample("paperboy_signals_last_run_timestamp_seconds", &[("source", &s.source)], seconds(t));
        }
    }
    out.family(
        "paperboy_signals_last_ok_timestamp_seconds",
        "gauge",
        "When a signal source's fetch last succeeded (Unix time).",
    );
    for s in &sources {
        if let Some(t) = s.last_ok_at {
            out.sample("paperboy_signals_last_ok_timestamp_seconds", &[("source", &s.source)], seconds(t));
        }
    }
    out.family("paperboy_signals_last_run_failed", "gauge", "1 when a signal source's last fetch failed.");
    for s in &sources {
        let failed = s.last_run_at.is_some() && s.last_run_at != s.last_ok_at;
        out.sample("paperboy_signals_last_run_failed", &[("source", &s.source)], f64::from(u8::from(failed)));
    }
    if let Some(model) = &st.embedding_model {
        match cached_backlog(st, model).await {
            Ok(b) => {
                out.family(
                    "paperboy_embedding_papers",
                    "gauge",
                    "Visible papers by vector state for the server's model.",
                );
                out.sample("paperboy_embedding_papers", &[("state", "current")], b.current as f64);
                out.sample("paperboy_embedding_papers", &[("state", "waiting")], b.waiting as f64);
                out.single(
                    "paperboy_embedding_stored_last_hour",
                    "gauge",
                    "Vectors stored in the last hour by all processes.",
                    b.stored_last_hour as f64,
                );
                out.single(
                    "paperboy_embedding_claims",
                    "gauge",
                    "Live embedding claims (batches being embedded).",
                    b.claims.len() as f64,
                );
            }
            Err(e) => tracing::warn!(error = %e, "metrics: could not read the embedding backlog"),
        }
    }
}

/// The embedding backlog, read from the store at most once per
/// [`BACKLOG_MAX_AGE`].
async fn cached_backlog(
    st: &MetricsState,
    model: &ModelKey,
) -> Result<paperboy_store::EmbeddingBacklog, paperboy_store::StoreError> {
    let fresh = st.backlog.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some((at, b)) = fresh
        && at.elapsed() < BACKLOG_MAX_AGE
    {
        return Ok(b);
    }
    let b = st.store.embedding_backlog(model).await?;
    *st.backlog.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), b.clone()));
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_is_cumulative_and_counts_match() {
        let m = HttpMetrics::default();
        m.record("/papers/{*id}", "GET", 200, Duration::from_micros(800));
        m.record("/papers/{*id}", "GET", 200, Duration::from_millis(30));
        m.record("/papers/{*id}", "GET", 404, Duration::from_secs(60));
        let mut out = Exposition::default();
        m.write(&mut out);
        let text = out.finish();
        assert!(
            text.contains("http_requests_total{route=\"/papers/{*id}\",method=\"GET\",status=\"200\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("http_requests_total{route=\"/papers/{*id}\",method=\"GET\",status=\"404\"} 1\n"));
        assert!(text.contains("http_request_duration_seconds_bucket{route=\"/papers/{*id}\",le=\"0.001\"} 1\n"));
        assert!(text.contains("http_request_duration_seconds_bucket{route=\"/papers/{*id}\",le=\"0.05\"} 2\n"));
        assert!(text.contains("http_request_duration_seconds_bucket{route=\"/papers/{*id}\",le=\"30\"} 2\n"));
        assert!(text.contains("http_request_duration_seconds_bucket{route=\"/papers/{*id}\",le=\"+Inf\"} 3\n"));
        assert!(text.contains("http_request_duration_seconds_count{route=\"/papers/{*id}\"} 3\n"));
    }

    #[test]
    fn labels_are_escaped() {
        let mut out = Exposition::default();
        out.sample("x", &[("a", "q\"uo\\te\nnl")], 1.5);
        assert_eq!(out.finish(), "x{a=\"q\\\"uo\\\\te\\nnl\"} 1.5\n");
    }

    #[test]
    fn secrets_stay_out_of_the_log() {
        assert_eq!(logged_path("/reset/{token}", "/reset/s3cret"), "/reset/{token}");
        assert_eq!(logged_path("/for-you/feed/{file}", "/for-you/feed/s3cret.atom"), "/for-you/feed/{file}");
        assert_eq!(logged_path("/papers/{*id}", "/papers/2603.00101"), "/papers/2603.00101");
    }

    #[test]
    fn the_token_is_checked() {
        let mut h = HeaderMap::new();
        assert!(authorized(&h, None));
        assert!(!authorized(&h, Some("t0k")));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer t0k"));
        assert!(authorized(&h, Some("t0k")));
        assert!(!authorized(&h, Some("t0k2")));
    }
}
