//! `/metrics` and the access log (`src/metrics.rs`): not on the public port
//! by default; on its own listener it parses with Prometheus's Python
//! client and its counters move with requests; one access log line per
//! request.

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};

use crate::common;

use common::catalog::catalog;
use paperboy_store::Catalog;
use paperboy_web::metrics::{HttpMetrics, MetricsState};
use paperboy_web::{AppState, ResponseCache, WebSettings};
use reqwest::StatusCode;
use serde_json::Value;
use tempfile::TempDir;
use tokio::net::TcpListener;

/// The site on one listener and `/metrics` on another, as `serve` runs them.
struct Observed {
    site: String,
    metrics: String,
    _dir: TempDir,
}

async fn observed() -> Observed {
    let (dir, store) = common::sqlite().await;
    store.upsert_papers(&catalog()).await.unwrap();
    let site = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", site.local_addr().unwrap());
    let metrics_base = format!("http://{}", metrics.local_addr().unwrap());
    let db: Arc<dyn paperboy_store::Database> = Arc::new(store);
    let cache = Arc::new(ResponseCache::default());
    let http = Arc::new(HttpMetrics::default());
    let state = AppState {
        cache: Arc::clone(&cache),
        store: Arc::clone(&db),
        config: Arc::new(WebSettings { base_url: base.clone(), ..WebSettings::default() }),
        recs: paperboy_services::recommend::RecsService::new(None, Default::default()),
        search: None,
        mail: None,
    };
    let limits = state.config.connections;
    let app = paperboy_web::router_with_metrics(state, Arc::clone(&http));
    tokio::spawn(paperboy_web::server::serve_router(site, app, limits, std::future::pending()));
    let ms = MetricsState {
        http: Arc::clone(&http),
        cache,
        store: db,
        jobs: None,
        embedding_model: None,
        backlog: Arc::default(),
        token: None,
    };
    tokio::spawn(paperboy_web::server::serve_router(
        metrics,
        paperboy_web::metrics::router(ms),
        limits,
        std::future::pending(),
    ));
    Observed { site: base, metrics: metrics_base, _dir: dir }
}

/// The Python with `prometheus_client` (`PAPERBOY_TEST_PYTHON` or the
/// repository's `.test-venv`), or `None` after saying why (outside CI).
fn python() -> Option<PathBuf> {
    let root = paperboy_test_support::fixtures::repo_root();
    let candidates =
        [std::env::var_os("PAPERBOY_TEST_PYTHON").map(PathBuf::from), Some(root.join(".test-venv/bin/python"))];
    for p in candidates.into_iter().flatten() {
        if Command::new(&p).args(["-c", "import prometheus_client"]).output().is_ok_and(|o| o.status.success()) {
            return Some(p);
        }
    }
    paperboy_test_support::require::missing(
        "no Python with prometheus_client: run scripts/test.sh (it creates .test-venv) or set PAPERBOY_TEST_PYTHON",
    )
}

/// Parses an exposition with `prometheus_client.parser`: every sample as
/// `{"name", "labels", "value"}`, with each family's type.
fn parse(python: &PathBuf, text: &str) -> Value {
    let script = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        out.append({"family": fam.name, "type": fam.type, "name": s.name, "labels": s.labels, "value": s.value})
print(json.dumps(out))
"#;
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the Prometheus client could not parse:\n{}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn sample(samples: &Value, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples.as_array().unwrap().iter().find_map(|s| {
        let matches = s["name"] == name && labels.iter().all(|(k, v)| s["labels"][*k] == *v);
        matches.then(|| s["value"].as_f64().unwrap())
    })
}

#[tokio::test]
async fn metrics_are_off_the_public_port_by_default() {
    let s = common::catalog::start(30).await;
    let r = s.get("/metrics").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let o = observed().await;
    let client = common::client();
    let r = client.get(format!("{}/metrics", o.site)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "the site's listener does not answer it");
    let r = client.get(format!("{}/metrics", o.metrics)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(common::header(&r, "content-type"), "text/plain; version=0.0.4; charset=utf-8");
    let r = client.get(format!("{}/", o.metrics)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "the metrics listener serves nothing else");
}

#[tokio::test]
async fn metrics_parse_and_counters_move() {
    let Some(python) = python() else { return };
    let o = observed().await;
    let client = common::client();
    let scrape = || async { client.get(format!("{}/metrics", o.metrics)).send().await.unwrap().text().await.unwrap() };
    let before = parse(&python, &scrape().await);
    assert_eq!(sample(&before, "http_requests_total", &[("route", "/papers/{*id}")]), None);
    for _ in 0..3 {
        let r = client.get(format!("{}/papers/2603.00101", o.site)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = client.get(format!("{}/papers/2603.99999", o.site)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = client.get(format!("{}/no/such/page", o.site)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let after = parse(&python, &scrape().await);
    let route = [("route", "/papers/{*id}"), ("method", "GET")];
    assert_eq!(sample(&after, "http_requests_total", &[route[0], route[1], ("status", "200")]), Some(3.0));
    assert_eq!(sample(&after, "http_requests_total", &[route[0], route[1], ("status", "404")]), Some(1.0));
    assert_eq!(sample(&after, "http_requests_total", &[("route", "unmatched"), ("status", "404")]), Some(1.0));
    assert!(
        after.as_array().unwrap().iter().all(|s| s["labels"]["route"] != "/papers/2603.00101"),
        "routes are templates, never raw URLs"
    );
    assert_eq!(sample(&after, "http_request_duration_seconds_count", &[("route", "/papers/{*id}")]), Some(4.0));
    assert_eq!(
        sample(&after, "http_request_duration_seconds_bucket", &[("route", "/papers/{*id}"), ("le", "+Inf")]),
        Some(4.0)
    );
    let families: Vec<(&str, &str)> = after
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["family"].as_str().unwrap(), s["type"].as_str().unwrap()))
        .collect();
    assert!(families.contains(&("http_request_duration_seconds", "histogram")));
    assert!(families.contains(&("http_requests", "counter")), "{families:?}");
    // The second and third view of the paper came from the response cache.
    let hits = sample(&after, "paperboy_response_cache_requests_total", &[("result", "hit")]).unwrap();
    let misses = sample(&after, "paperboy_response_cache_requests_total", &[("result", "miss")]).unwrap();
    assert!(hits >= 2.0 && misses >= 1.0, "hits {hits}, misses {misses}");
    assert_eq!(sample(&after, "paperboy_papers", &[]), Some(catalog().len() as f64));
}

/// Collects what the tracing subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// One thread: the server's tasks run where the subscriber is the default.
#[tokio::test(flavor = "current_thread")]
async fn the_access_log_has_one_line_per_request() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("paperboy::access=info"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let o = observed().await;
    let client = common::client();
    let paths = ["/papers/2603.00101?utm=x", "/feed.atom", "/reset/s3cret-token", "/nothing-here"];
    for p in paths {
        client.get(format!("{}{p}", o.site)).send().await.unwrap().bytes().await.unwrap();
    }
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("paperboy::access")).collect();
    assert_eq!(lines.len(), paths.len(), "{log}");
    let paper = lines[0];
    for field in [
        "method=GET",
        "route=/papers/{*id}",
        "path=/papers/2603.00101",
        "status=200",
        "latency_ms=",
        "bytes=",
        "request_id=",
        "client=127.0.0.1",
    ] {
        assert!(paper.contains(field), "{field} in {paper}");
    }
    assert!(!log.contains("utm=x"), "the query string is dropped");
    assert!(!log.contains("s3cret"), "secrets in paths are not logged: {}", lines[2]);
    assert!(lines[2].contains("path=/reset/{token}"));
    assert!(lines[3].contains("route=unmatched") && lines[3].contains("status=404"));
}
