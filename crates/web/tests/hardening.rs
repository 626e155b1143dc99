//! Hostile clients and input across the stack (issue 14): a NUL byte in
//! any text field answers 400 on both backends (the store's executor,
//! `store/src/sql/exec.rs`, mapped in `src/error.rs`), a handler's panic
//! answers a 500 page with a request id (`src/lib.rs`), and the server's
//! connection limits (`src/server.rs`): slow headers, trickling bodies, idle
//! keep-alive connections and the connection cap.

use crate::common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use chrono::NaiveDate;
use common::{Browser, Launch};
use paperboy_core::{Paper, PaperId, Role};
use paperboy_services::accounts::{self, SignUp};
use paperboy_store::{Catalog, SqlStore};
use paperboy_test_support::db::PgDatabase;
use paperboy_web::{AppState, ConnectionLimits, WebSettings};
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const PW: &str = "correct horse battery";
const PAPER: &str = "2603.00101";

fn paper() -> Paper {
    let mut p = Paper::new(PaperId::parse(PAPER).unwrap(), "Nul Tests", NaiveDate::from_ymd_opt(2026, 3, 12).unwrap());
    p.authors = vec!["Ada Lovelace".into()];
    p.abstract_text = "We study NUL bytes.".into();
    p.categories = vec!["cs.LG".into()];
    p.version = Some(1);
    p.normalize();
    p
}

/// Every text field we can reach with a NUL byte in it answers 4xx with a
/// readable message, never a 500, on `store`.
async fn nul_bytes_are_refused(store: SqlStore, backend: &str) {
    store.upsert_papers(&[paper()]).await.unwrap();
    let member =
        SignUp { username: "nul", email: "nul@example.org", password: PW, role: Role::Member, email_verified: true };
    accounts::sign_up(&store, &member).await.unwrap();
    let site = Launch::bind().await.serve(store);
    let mut b = Browser::new(&site);
    // Logging in with a NUL in the name or password.
    let csrf = b.get("/login").await.csrf();
    for (user, pw) in [("n\0ul", PW), ("nul", "correct\0horse")] {
        let r = b.post("/login", &[("csrf", &csrf), ("username", user), ("password", pw)]).await;
        assert!(r.status.is_client_error(), "{backend}: login {user:?}: {} {}", r.status, r.body);
    }
    let r = b.log_in("nul", PW).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: {}", r.body);
    let csrf = b.get("/settings").await.csrf();
    // A comment, a reply-less comment edit, and an API token's name.
    let r = b.post(&format!("/papers/{PAPER}/comments"), &[("csrf", &csrf), ("body", "before\0after")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{backend}: comment: {}", r.body);
    assert!(r.body.contains("NUL character"), "{backend}: a readable message: {}", r.body);
    let r = b.post("/settings/tokens", &[("csrf", &csrf), ("name", "lap\0top")]).await;
    assert!(r.status.is_client_error(), "{backend}: token name: {} {}", r.status, r.body);
    // Sign-up fields, from a fresh visitor.
    let mut v = Browser::new(&site);
    let csrf = v.get("/signup").await.csrf();
    for (user, email) in [("fresh\0name", "fresh@example.org"), ("fresh_name", "fre\0sh@example.org")] {
        let r = v.post("/signup", &[("csrf", &csrf), ("username", user), ("email", email), ("password", PW)]).await;
        assert!(r.status.is_client_error(), "{backend}: sign-up {user:?} {email:?}: {} {}", r.status, r.body);
    }
    // Public lookups with a NUL in the path.
    for path in ["/u/n%00ul", "/papers/2603.00101%00", "/api/papers/2603.00101%00"] {
        let r = site.get(path).await;
        assert!(r.status().is_client_error(), "{backend}: GET {path}: {}", r.status());
    }
    // The site still works afterwards.
    let csrf = csrf_of(&mut b).await;
    let r = b.post(&format!("/papers/{PAPER}/comments"), &[("csrf", &csrf), ("body", "fine")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: {}", r.body);
}

async fn csrf_of(b: &mut Browser) -> String {
    b.get("/settings").await.csrf()
}

#[tokio::test]
async fn nul_bytes_are_400_on_sqlite() {
    let (dir, store) = common::sqlite().await;
    nul_bytes_are_refused(store, "sqlite").await;
    drop(dir);
}

#[tokio::test]
async fn nul_bytes_are_400_on_postgres() {
    let Some(db) = PgDatabase::create("webnul") else { return };
    let store = SqlStore::open(&db.url).await.unwrap();
    nul_bytes_are_refused(store, "postgres").await;
}

// --- Slow and idle clients, the connection cap ----------------------------

/// A server on an empty SQLite store with `limits`.
async fn limited(limits: ConnectionLimits) -> common::Server {
    let (dir, store) = common::sqlite().await;
    Launch::bind().await.config(WebSettings { connections: limits, ..WebSettings::default() }).keep(dir).serve(store)
}

fn quick() -> ConnectionLimits {
    ConnectionLimits {
        header_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(1),
        max_connections: 64,
    }
}

async fn connect(site: &common::Server) -> TcpStream {
    TcpStream::connect(site.base.trim_start_matches("http://")).await.unwrap()
}

/// Reads until the server closes the connection (`Some(what it sent)`) or
/// `limit` passes (`None`).
async fn until_closed(tcp: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(limit, async {
        let mut buf = [0u8; 4096];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok().map(|_| String::from_utf8_lossy(&got).into_owned())
}

#[tokio::test]
async fn a_client_that_stalls_in_its_headers_is_disconnected() {
    let site = limited(ConnectionLimits { idle_timeout: Duration::from_secs(30), ..quick() }).await;
    let mut tcp = connect(&site).await;
    let started = Instant::now();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ").await.unwrap();
    let answer = until_closed(&mut tcp, Duration::from_secs(5)).await;
    assert!(answer.is_some(), "still open after 5 s with a 1 s header timeout");
    assert!(started.elapsed() >= Duration::from_millis(900), "not before the timeout: {:?}", started.elapsed());
    // Others are served meanwhile and afterwards.
    assert_eq!(site.get("/healthz").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn idle_connections_are_closed() {
    let site = limited(ConnectionLimits { header_timeout: Duration::from_secs(30), ..quick() }).await;
    // A connection that never sends anything.
    let mut silent = connect(&site).await;
    assert!(until_closed(&mut silent, Duration::from_secs(5)).await.is_some(), "a silent connection stays open");
    // A kept-alive connection after its answer.
    let mut tcp = connect(&site).await;
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
    let started = Instant::now();
    let answer = until_closed(&mut tcp, Duration::from_secs(5)).await.expect("closed after the idle timeout");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(started.elapsed() >= Duration::from_millis(900), "kept alive for the idle timeout first");
}

#[tokio::test]
async fn a_trickling_form_body_gets_a_408() {
    let site = limited(ConnectionLimits {
        header_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(30),
        ..quick()
    })
    .await;
    let mut tcp = connect(&site).await;
    let head = "POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n";
    tcp.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let (mut rd, mut wr) = tcp.split();
    let trickle = async {
        for _ in 0..20 {
            if wr.write_all(b"a").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let mut first = [0u8; 12];
    let answered = async {
        let r = tokio::time::timeout(Duration::from_secs(5), rd.read_exact(&mut first)).await;
        (r, started.elapsed())
    };
    let ((answered, elapsed), _) = tokio::join!(answered, trickle);
    assert!(answered.is_ok_and(|r| r.is_ok()), "no answer within 5 s with a 1 s body timeout");
    assert_eq!(&first, b"HTTP/1.1 408", "{}", String::from_utf8_lossy(&first));
    assert!(elapsed < Duration::from_secs(3), "cut at the timeout, not at the end: {elapsed:?}");
    // The whole answer says why.
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), tcp.read_to_end(&mut rest)).await;
    assert!(String::from_utf8_lossy(&rest).contains("too slowly"), "a readable message");
}

#[tokio::test]
async fn connections_over_the_cap_get_503_and_the_server_keeps_serving() {
    let site = limited(ConnectionLimits {
        max_connections: 2,
        idle_timeout: Duration::from_secs(30),
        header_timeout: Duration::from_secs(30),
        ..quick()
    })
    .await;
    let mut held = vec![connect(&site).await, connect(&site).await];
    for tcp in &mut held {
        tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
        let mut buf = [0u8; 1024];
        let n = tcp.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    }
    // Both are kept alive: a third is refused at once, readably.
    let mut third = connect(&site).await;
    third.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
    let answer = until_closed(&mut third, Duration::from_secs(3)).await.expect("answered and closed at once");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("retry-after: 1"), "{answer}");
    assert!(answer.contains("busy"), "{answer}");
    // The held connections still work.
    held[0].write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 1024];
    let n = held[0].read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // Once one closes, a new client is served.
    drop(held.pop());
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let r = reqwest::Client::new().get(site.url("/healthz")).send().await;
        if r.as_ref().is_ok_and(|r| r.status() == StatusCode::OK) {
            break;
        }
        assert!(Instant::now() < deadline, "a slot was freed but new clients are still refused");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// --- Panics ---------------------------------------------------------------

async fn boom() -> &'static str {
    panic!("boom for the test")
}

#[tokio::test]
async fn a_panicking_handler_answers_500_with_a_request_id() {
    let (_dir, store) = common::sqlite().await;
    let state = AppState {
        store: Arc::new(store),
        config: Arc::new(WebSettings::default()),
        search: None,
        mail: None,
        cache: Arc::default(),
        recs: paperboy_services::recommend::RecsService::new(None, Default::default()),
    };
    // A route made to panic, under the router's own guard.
    let app: Router = Router::new()
        .route("/boom", get(boom))
        .route("/api/boom", get(boom))
        .route("/fine", get(|| async { "fine" }))
        .layer(from_fn_with_state(state.clone(), paperboy_web::panic::panic_guard))
        .with_state(state);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(paperboy_web::server::serve_router(listener, app, ConnectionLimits::default(), async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let r = client.get(format!("{base}/boom")).send().await.expect("an answer, not a dropped connection");
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let page = r.text().await.unwrap();
    assert!(page.contains("request id"), "{page}");
    assert!(!page.contains("boom for the test"), "the panic message stays in the log");
    let r = client.get(format!("{base}/api/boom")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(v["error"].as_str().unwrap().contains("request id"));
    // The same client (same kept-alive connection) goes on.
    let r = client.get(format!("{base}/fine")).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "fine");
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server).await.unwrap().unwrap().unwrap();
}
