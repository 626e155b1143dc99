//! `ArxivClient` against real local HTTP servers on 127.0.0.1: a replay
//! server answering from the recorded arXiv responses in
//! `tests/fixtures/ingest/arxiv-api/` (keyed by the request in its
//! `INDEX.tsv`), scripted servers for errors, slowness and overload, and a
//! raw TCP listener that drops connections. Intervals, timeouts and backoffs
//! are short so that the suite stays fast.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use paperboy_arxiv::{ArxivClient, ArxivError, ArxivId, ArxivSettings, MAX_IDS_PER_REQUEST};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

// ---------------------------------------------------------------- helpers

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/ingest/arxiv-api/")).join(name)
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

fn id(s: &str) -> ArxivId {
    ArxivId::parse(s).expect("a valid test id")
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Fast settings against a local server: no pacing, 2 retries, 10 ms backoff.
fn config(base_url: &str) -> ArxivSettings {
    ArxivSettings {
        base_url: base_url.to_string(),
        timeout: Duration::from_secs(5),
        interval: Duration::ZERO,
        max_retries: 2,
        backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        ..ArxivSettings::default()
    }
}

fn client(base_url: &str) -> ArxivClient {
    ArxivClient::with_config(config(base_url)).expect("client")
}

/// What a server saw.
#[derive(Default)]
struct Seen {
    hits: AtomicUsize,
    queries: Mutex<Vec<String>>,
    agents: Mutex<Vec<String>>,
}

impl Seen {
    fn record(&self, query: Option<String>, headers: &HeaderMap) -> usize {
        self.queries.lock().unwrap().push(query.unwrap_or_default());
        let agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default();
        self.agents.lock().unwrap().push(agent.to_string());
        self.hits.fetch_add(1, Ordering::SeqCst)
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn query(&self, n: usize) -> String {
        self.queries.lock().unwrap()[n].clone()
    }
}

/// Serves `app` on a free port; returns the API URL.
async fn serve(app: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/api/query")
}

fn query_pairs(raw: &str) -> HashMap<String, String> {
    reqwest::Url::parse(&format!("http://x/?{raw}")).unwrap().query_pairs().into_owned().collect()
}

/// The replay key of a request: its ids, or its query and page.
fn replay_key(q: &HashMap<String, String>) -> String {
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    if !get("id_list").is_empty() {
        format!("id:{}", get("id_list"))
    } else {
        format!("q:{}:{}:{}", get("search_query"), get("start"), get("max_results"))
    }
}

struct Replay {
    seen: Seen,
    /// Replay key -> (status, fixture file), from INDEX.tsv.
    index: HashMap<String, (u16, String)>,
}

/// A server answering with the recorded arXiv responses.
async fn replay_server() -> (String, Arc<Replay>) {
    let tsv = String::from_utf8(fixture("INDEX.tsv")).unwrap();
    let mut index = HashMap::new();
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [file, status, request] = cols[..] else { panic!("bad INDEX.tsv line {line:?}") };
        if let Some((_, query)) = request.split_once('?') {
            index.insert(replay_key(&query_pairs(query)), (status.parse().unwrap(), file.to_string()));
        }
    }
    let state = Arc::new(Replay { seen: Seen::default(), index });
    async fn handler(State(s): State<Arc<Replay>>, RawQuery(q): RawQuery, headers: HeaderMap) -> Response {
        s.seen.record(q.clone(), &headers);
        let key = replay_key(&query_pairs(&q.unwrap_or_default()));
        match s.index.get(&key) {
            Some((status, file)) => {
                let status = StatusCode::from_u16(*status).unwrap();
                (status, [(header::CONTENT_TYPE, "application/atom+xml")], fixture(file)).into_response()
            }
            None => (StatusCode::NOT_FOUND, format!("no recording for {key}")).into_response(),
        }
    }
    let url = serve(Router::new().route("/api/query", axum::routing::get(handler)).with_state(state.clone())).await;
    (url, state)
}

/// One scripted answer.
#[derive(Clone)]
struct Reply {
    status: u16,
    retry_after: Option<&'static str>,
    body: Vec<u8>,
    delay: Duration,
}

fn reply(status: u16, body: impl Into<Vec<u8>>) -> Reply {
    Reply { status, retry_after: None, body: body.into(), delay: Duration::ZERO }
}

struct Script {
    seen: Seen,
    replies: Vec<Reply>,
}

/// A server giving the n-th request `replies[n]` (the last one from then on).
async fn scripted_server(replies: Vec<Reply>) -> (String, Arc<Script>) {
    let state = Arc::new(Script { seen: Seen::default(), replies });
    async fn handler(State(s): State<Arc<Script>>, RawQuery(q): RawQuery, headers: HeaderMap) -> Response {
        let n = s.seen.record(q, &headers);
        let r = s.replies[n.min(s.replies.len() - 1)].clone();
        tokio::time::sleep(r.delay).await;
        let mut response = (StatusCode::from_u16(r.status).unwrap(), r.body).into_response();
        if let Some(wait) = r.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, wait.parse().unwrap());
        }
        response
    }
    let url = serve(Router::new().route("/api/query", axum::routing::get(handler)).with_state(state.clone())).await;
    (url, state)
}

// ------------------------------------------------------------------ tests

#[tokio::test]
async fn fetches_a_paper_with_its_fields() {
    let (url, server) = replay_server().await;
    let paper = client(&url).fetch_paper(&id("1605.08386")).await.unwrap();
    assert_eq!(paper.id.to_string(), "1605.08386");
    assert_eq!(paper.version, Some(1));
    assert_eq!(paper.title, "Heat-bath random walks with Markov bases");
    assert_eq!(paper.authors, ["Caprice Stanley", "Tobias Windisch"]);
    assert_eq!(paper.primary_category.as_deref(), Some("math.CO"));
    assert!(paper.categories.contains(&"math.CO".to_string()), "{:?}", paper.categories);
    assert!(paper.categories.contains(&"math.ST".to_string()), "{:?}", paper.categories);
    assert!(paper.abstract_text.starts_with("Graphs on lattice points"), "{}", paper.abstract_text);
    assert_eq!(paper.comment.as_deref(), Some("20 pages, 3 figures"));
    assert_eq!(paper.listed_on, ymd(2016, 5, 26), "the day of the first version");

    assert_eq!(server.seen.hits(), 1);
    let q = query_pairs(&server.seen.query(0));
    assert_eq!(q.get("id_list").map(String::as_str), Some("1605.08386"));
    assert_eq!(q.get("max_results").map(String::as_str), Some("1"));
    let agent = server.seen.agents.lock().unwrap()[0].clone();
    assert!(agent.starts_with("Paperboy/"), "{agent}");
}

#[tokio::test]
async fn fetches_versioned_and_old_style_ids() {
    let (url, _server) = replay_server().await;
    let client = client(&url);

    let p = client.fetch_paper(&id("arXiv:quant-ph/0201082v1")).await.unwrap();
    assert_eq!((p.id.to_string(), p.version), ("quant-ph/0201082".to_string(), Some(1)));
    assert_eq!(p.categories, ["quant-ph", "cs.PL"]);
    assert_eq!(p.authors, ["Stephen Blaha"]);

    let p = client.fetch_paper(&id("https://arxiv.org/abs/astro-ph/0601001")).await.unwrap();
    assert_eq!(p.id.to_string(), "astro-ph/0601001");
    assert!(p.version.is_some());

    let p = client.fetch_paper(&id("2104.12255v1")).await.unwrap();
    assert_eq!(p.title, "0", "a title that is just \"0\" is a title");
    assert_eq!(p.primary_category.as_deref(), Some("cs.CR"));
}

#[tokio::test]
async fn fetches_several_ids_and_leaves_out_unknown_ones() {
    // arXiv's answer to id_list=0808.05394,1707.08567: the first does not exist.
    let (url, server) =
        scripted_server(vec![reply(200, fixture("id_0808.05394_1707.08567_s0_m100_42e5aa0ec3af.atom.xml"))]).await;
    let papers = client(&url).fetch_papers(&[id("2501.99999"), id("1707.08567")]).await.unwrap();
    assert_eq!(papers.len(), 1);
    assert_eq!(papers[0].id.to_string(), "1707.08567");
    assert!(papers[0].authors.len() > 10, "{:?}", papers[0].authors);
    let q = query_pairs(&server.seen.query(0));
    assert_eq!(q.get("id_list").map(String::as_str), Some("2501.99999,1707.08567"));
    assert_eq!(q.get("max_results").map(String::as_str), Some("2"));

    assert!(client(&url).fetch_papers(&[]).await.unwrap().is_empty());
    assert_eq!(server.seen.hits(), 1, "no ids, no request");
}

#[tokio::test]
async fn long_id_lists_are_split_into_several_requests() {
    let (url, server) = scripted_server(vec![reply(200, fixture("id_0000.0000_s0_m100_8b51d9633a68.atom.xml"))]).await;
    let ids: Vec<ArxivId> = (1..=MAX_IDS_PER_REQUEST + 1).map(|n| id(&format!("2501.{n:05}"))).collect();
    assert!(client(&url).fetch_papers(&ids).await.unwrap().is_empty());
    assert_eq!(server.seen.hits(), 2);
    assert_eq!(query_pairs(&server.seen.query(1)).get("id_list").map(String::as_str), Some("2501.00101"));
}

#[tokio::test]
async fn reads_the_2016_response_format() {
    let (url, _server) = scripted_server(vec![reply(200, fixture("id_list_1111.2011v2.xml"))]).await;
    let p = client(&url).fetch_paper(&id("1111.2011v2")).await.unwrap();
    assert_eq!((p.id.to_string(), p.version), ("1111.2011".to_string(), Some(2)));
    assert_eq!(p.title, "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit");
}

#[tokio::test]
async fn an_error_feed_is_an_api_error_with_arxivs_message() {
    let body = fixture("id_abc_s0_m100_b79c8dcf6bc3.atom.xml");
    for status in [400, 200] {
        let (url, server) = scripted_server(vec![reply(status, body.clone())]).await;
        let err = client(&url).fetch_paper(&id("2501.00001")).await.unwrap_err();
        assert!(matches!(&err, ArxivError::Api(m) if m == "incorrect id format for abc"), "HTTP {status}: {err:?}");
        assert!(err.to_string().contains("incorrect id format for abc"), "{err}");
        assert!(!err.is_transient());
        assert_eq!(server.seen.hits(), 1, "not retried");
    }
}

#[tokio::test]
async fn an_empty_feed_is_not_found() {
    let (url, _server) = scripted_server(vec![reply(200, fixture("id_0000.0000_s0_m100_8b51d9633a68.atom.xml"))]).await;
    let err = client(&url).fetch_paper(&id("2501.00001v3")).await.unwrap_err();
    assert!(matches!(&err, ArxivError::NotFound(i) if i.to_string() == "2501.00001v3"), "{err:?}");
    assert!(err.to_string().contains("no paper 2501.00001v3"), "{err}");
}

#[tokio::test]
async fn a_slow_server_times_out_after_the_retries() {
    let slow =
        Reply { delay: Duration::from_secs(30), ..reply(200, fixture("id_1605.08386_s0_m100_199195aa31ad.atom.xml")) };
    let (url, server) = scripted_server(vec![slow]).await;
    let config = ArxivSettings { timeout: Duration::from_millis(200), max_retries: 1, ..config(&url) };
    let started = Instant::now();
    let err = ArxivClient::with_config(config).unwrap().fetch_paper(&id("1605.08386")).await.unwrap_err();
    assert!(
        matches!(&err, ArxivError::Timeout { attempts: 2, timeout, .. } if *timeout == Duration::from_millis(200)),
        "{err:?}"
    );
    assert!(err.to_string().contains("did not answer within 0.2s"), "{err}");
    assert!(err.is_transient());
    assert_eq!(server.seen.hits(), 2);
    assert!(started.elapsed() >= Duration::from_millis(400), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_dropped_connection_is_retried_then_reported() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/query", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            count.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf).await; // read the request, answer nothing
            drop(stream);
        }
    });
    let err = client(&url).fetch_paper(&id("1605.08386")).await.unwrap_err();
    assert!(matches!(&err, ArxivError::Dropped { attempts: 3, .. }), "{err:?}");
    assert!(err.to_string().contains("dropped the connection"), "{err}");
    assert!(err.is_transient());
    assert_eq!(accepted.load(Ordering::SeqCst), 3, "the first attempt and two retries");
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/query", listener.local_addr().unwrap());
    drop(listener);
    let err = client(&url).fetch_paper(&id("1605.08386")).await.unwrap_err();
    assert!(matches!(&err, ArxivError::Connect { attempts: 3, .. }), "{err:?}");
    assert!(err.to_string().contains("cannot connect"), "{err}");
}

#[tokio::test]
async fn a_503_with_retry_after_is_waited_out() {
    let busy = Reply { retry_after: Some("1"), ..reply(503, "Service Unavailable") };
    let ok = reply(200, fixture("id_1605.08386_s0_m100_199195aa31ad.atom.xml"));
    let (url, server) = scripted_server(vec![busy, ok]).await;
    let started = Instant::now();
    let paper = client(&url).fetch_paper(&id("1605.08386")).await.unwrap();
    assert_eq!(paper.id.to_string(), "1605.08386");
    assert_eq!(server.seen.hits(), 2);
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After: 1 was not honoured: {:?}", started.elapsed());
}

#[tokio::test]
async fn a_retry_after_longer_than_allowed_ends_the_call() {
    let busy = Reply { retry_after: Some("3600"), ..reply(503, "Service Unavailable") };
    let (url, server) = scripted_server(vec![busy]).await;
    let err = client(&url).fetch_paper(&id("1605.08386")).await.unwrap_err();
    assert!(
        matches!(&err, ArxivError::Status { status: 503, attempts: 1, retry_after: Some(w), .. } if w.as_secs() == 3600),
        "{err:?}"
    );
    assert!(err.to_string().contains("wait 3600s"), "{err}");
    assert_eq!(server.seen.hits(), 1);
}

#[tokio::test]
async fn statuses_that_persist_or_are_final_are_reported() {
    let (url, server) = scripted_server(vec![reply(502, "Bad Gateway")]).await;
    let err = client(&url).fetch_paper(&id("1605.08386")).await.unwrap_err();
    assert!(matches!(&err, ArxivError::Status { status: 502, attempts: 3, .. }), "{err:?}");
    assert!(err.is_transient());
    assert_eq!(server.seen.hits(), 3);

    let (url, server) = scripted_server(vec![reply(404, "Not Found")]).await;
    let err = client(&url).fetch_paper(&id("1605.08386")).await.unwrap_err();
    assert!(matches!(&err, ArxivError::Status { status: 404, attempts: 1, .. }), "{err:?}");
    assert!(err.to_string().contains("base URL"), "{err}");
    assert!(!err.is_transient());
    assert_eq!(server.seen.hits(), 1, "a 404 is not retried");

    let (url, _server) = scripted_server(vec![reply(200, "<html><body>Rate exceeded.</body></html>")]).await;
    let err = client(&url).fetch_paper(&id("1605.08386")).await.unwrap_err();
    assert!(matches!(&err, ArxivError::Parse { .. }), "{err:?}");
}

#[tokio::test]
async fn requests_are_paced_across_clones() {
    let (url, server) = replay_server().await;
    let config = ArxivSettings { interval: Duration::from_millis(300), ..config(&url) };
    let a = ArxivClient::with_config(config).unwrap();
    let b = a.clone();
    let (ia, ib) = (id("1605.08386"), id("1707.08567"));
    let started = Instant::now();
    let (pa, pb) = tokio::join!(a.fetch_paper(&ia), b.fetch_paper(&ib));
    assert_eq!(pa.unwrap().id.to_string(), "1605.08386");
    assert_eq!(pb.unwrap().id.to_string(), "1707.08567");
    assert_eq!(server.seen.hits(), 2);
    assert!(started.elapsed() >= Duration::from_millis(300), "{:?}", started.elapsed());
}

#[tokio::test]
async fn fetches_a_listing_page() {
    let (url, server) = replay_server().await;
    let page = client(&url).fetch_listing("testing", 0, 10).await.unwrap();
    assert_eq!(page.entries(), 10);
    assert_eq!(page.papers.len(), 10, "{:?}", page.rejected);
    assert!(page.total_results.is_some_and(|n| n > 10), "{:?}", page.total_results);
    assert_eq!(page.start, 0);
    let q = query_pairs(&server.seen.query(0));
    assert_eq!(q.get("search_query").map(String::as_str), Some("testing"));
    assert_eq!(q.get("sortBy").map(String::as_str), Some("submittedDate"));

    let next = client(&url).fetch_listing("testing", 10, 10).await.unwrap();
    assert_eq!(next.start, 10);
    assert!(next.papers.iter().all(|p| !page.papers.iter().any(|q| q.id == p.id)), "pages overlap");
}
