//! Fresh on every server (`src/cache.rs` with the `cache-follow` job of
//! `paperboy-services`): several routers on one database, each with its own
//! response cache and follower, as `paperboy serve` runs them. A vote and a
//! comment hidden through one server show on the others within a generous
//! bound (the measured times are printed: `cargo test -p paperboy-web --test
//! it fresh:: -- --nocapture`; docs/BENCHMARKS.md has them); one member's
//! writes leave the cached pages of other papers alone; a body over the
//! cache's size limit is served, not kept.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common;

use common::catalog::catalog;
use common::client;
use paperboy_core::{Email, PaperId, Role, UserId, Username};
use paperboy_services::jobs::cache_follow::CacheFollow;
use paperboy_services::jobs::{Running, Supervisor};
use paperboy_store::{Accounts, Catalog, Community, Database, Moderation, NewUser, SqlStore};
use paperboy_test_support::db::{PgDatabase, SqliteFile};
use paperboy_web::{AppState, ResponseCache, WebSettings};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The paper that is voted on and discussed.
const VOTED: &str = "2603.00101";
/// Another paper of the same day.
const OTHER: &str = "2603.00102";
/// How long the tests wait for a change to show; the target is 2 s.
const BOUND: Duration = Duration::from_secs(5);
/// How often a follower reads the change feed (as `serve`'s).
const FOLLOW_EVERY: Duration = Duration::from_millis(300);

/// One server: its own store handle (pool), cache and, optionally, follower.
struct Node {
    base: String,
    http: reqwest::Client,
    store: SqlStore,
    jobs: Option<Running>,
    stop: Option<oneshot::Sender<()>>,
}

impl Node {
    async fn start(location: &str, cache: ResponseCache, follow: bool) -> Node {
        let store = paperboy_store::open(location).await.unwrap();
        let db: Arc<dyn Database> = Arc::new(store.clone());
        let cache = Arc::new(cache);
        let jobs = follow.then(|| {
            let mut jobs = Supervisor::new(Arc::clone(&db));
            jobs.register(CacheFollow::new(Arc::clone(&cache) as _, FOLLOW_EVERY));
            jobs.start()
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = AppState {
            cache,
            store: db,
            config: Arc::new(WebSettings { base_url: base.clone(), ..WebSettings::default() }),
            search: None,
            mail: None,
            recs: paperboy_services::recommend::RecsService::new(None, Default::default()),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(paperboy_web::serve(listener, state, async move {
            let _ = stopped.await;
        }));
        Node { base, http: client(), store, jobs, stop: Some(stop) }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.base)).send().await.unwrap()
    }

    async fn text(&self, path: &str) -> String {
        let r = self.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "GET {path}");
        r.text().await.unwrap()
    }

    async fn upvotes(&self, paper: &str) -> i64 {
        let r = self.get(&format!("/api/papers/{paper}")).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<Value>().await.unwrap()["upvotes"].as_i64().unwrap()
    }

    async fn stop(mut self) {
        if let Some(jobs) = self.jobs.take() {
            jobs.shutdown(Duration::from_secs(5)).await;
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A member with an API token: (id, `Bearer …`).
async fn member(store: &SqlStore, name: &str) -> (UserId, String) {
    let user = store
        .create_user(&NewUser {
            username: Username::parse(name).unwrap(),
            email: Email::parse(&format!("{name}@example.org")).unwrap(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
            role: Role::Member,
            email_verified: true,
        })
        .await
        .unwrap();
    let (_, secret) = store.create_api_token(user.id, "test").await.unwrap();
    (user.id, format!("Bearer {}", secret.as_str()))
}

/// Polls until `done` holds on every node but the first; returns how long
/// each took, from `since`.
async fn until_all(nodes: &[Node], since: Instant, what: &str, done: impl AsyncFn(&Node) -> bool) -> Vec<Duration> {
    let mut took = Vec::new();
    for node in &nodes[1..] {
        loop {
            if done(node).await {
                took.push(since.elapsed());
                break;
            }
            assert!(since.elapsed() < BOUND, "{what} did not reach {} within {BOUND:?}", node.base);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    took
}

/// Three servers on `location`: a vote through the first reaches the
/// others' cached pages; so does a comment hidden through the first.
/// The database behind the servers, written to behind the store's back to
/// check that the servers really serve from their caches.
enum Behind<'a> {
    Sqlite(&'a std::path::Path),
    Postgres(&'a PgDatabase),
}

impl Behind<'_> {
    async fn poke_upvotes(&self, paper: &str, upvotes: i64) {
        match self {
            Behind::Sqlite(path) => poke_upvotes(path, paper, upvotes).await,
            Behind::Postgres(db) => {
                db.query(&format!("UPDATE papers SET upvotes = {upvotes} WHERE paper_id = '{paper}'"));
            }
        }
    }
}

async fn propagation(location: &str, backend: &str, behind: Behind<'_>) {
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(Node::start(location, ResponseCache::default(), true).await);
    }
    let store = &nodes[0].store;
    store.upsert_papers(&catalog()).await.unwrap();
    let (alice, bearer) = member(store, "alice").await;
    let paper = PaperId::parse(VOTED).unwrap();
    let remark = "A remark that a moderator will hide";
    let comment = store.add_comment(alice, &paper, None, remark).await.unwrap();
    let page = format!("/papers/{VOTED}");

    // Every server caches the paper's answer and page (asked twice).
    for node in &nodes {
        for _ in 0..2 {
            assert_eq!(node.upvotes(VOTED).await, 0);
            assert!(node.text(&page).await.contains(remark));
        }
    }
    tokio::time::sleep(FOLLOW_EVERY * 2).await;
    for node in &nodes {
        assert_eq!(node.upvotes(OTHER).await, 0);
    }
    behind.poke_upvotes(OTHER, 42).await;
    for node in &nodes {
        assert_eq!(node.upvotes(OTHER).await, 0, "{} serves from its cache", node.base);
        assert_eq!(node.upvotes(VOTED).await, 0);
    }

    // A vote through the first server's API.
    let at = Instant::now();
    let url = format!("{}/api/papers/{VOTED}/upvote", nodes[0].base);
    let r = nodes[0].http.post(&url).header("authorization", &bearer).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(nodes[0].upvotes(VOTED).await, 1, "the server that took the vote shows it at once");
    let vote = until_all(&nodes, at, "the vote", async |n: &Node| n.upvotes(VOTED).await == 1).await;

    // The vote dropped the paper's page everywhere: cache it again.
    for node in &nodes {
        for _ in 0..2 {
            assert!(node.text(&page).await.contains(remark));
        }
    }
    tokio::time::sleep(FOLLOW_EVERY * 2).await;
    // A moderator hides the comment through the first server.
    let at = Instant::now();
    nodes[0].store.set_comment_hidden(comment.id, true).await.unwrap();
    let page = &page;
    let hide = until_all(&nodes, at, "the hidden comment", async |n: &Node| !n.text(page).await.contains(remark)).await;

    println!(
        "propagation on {backend} (3 servers, follower every {FOLLOW_EVERY:?}): vote {vote:?}, comment hidden {hide:?}"
    );
    for node in nodes {
        node.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn votes_and_hidden_comments_reach_every_server_on_postgres() {
    let Some(db) = PgDatabase::create("pb_fresh") else { return };
    propagation(&db.url, "PostgreSQL", Behind::Postgres(&db)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn votes_and_hidden_comments_reach_every_server_on_one_sqlite_file() {
    let file = SqliteFile::new();
    propagation(&file.path().display().to_string(), "SQLite", Behind::Sqlite(file.path())).await;
}

/// Sets `paper`'s vote count behind the store's back (no change recorded),
/// so that an answer still showing the old count came from the cache.
async fn poke_upvotes(path: &std::path::Path, paper: &str, upvotes: i64) {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::query("UPDATE papers SET upvotes = ? WHERE paper_id = ?")
        .bind(upvotes)
        .bind(paper)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

#[tokio::test]
async fn one_members_writes_leave_other_papers_cached() {
    let file = SqliteFile::new();
    let location = file.path().display().to_string();
    let node = Node::start(&location, ResponseCache::default(), false).await;
    node.store.upsert_papers(&catalog()).await.unwrap();
    let (_, bearer) = member(&node.store, "alice").await;
    assert_eq!(node.upvotes(OTHER).await, 0);
    let other_page = node.text(&format!("/papers/{OTHER}")).await;
    poke_upvotes(file.path(), OTHER, 42).await;
    assert_eq!(node.upvotes(OTHER).await, 0, "cached");

    // Alice votes on another paper, takes it back, votes again.
    let url = format!("{}/api/papers/{VOTED}/upvote", node.base);
    for method in [reqwest::Method::POST, reqwest::Method::DELETE, reqwest::Method::POST] {
        let r = node.http.request(method, &url).header("authorization", &bearer).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    assert_eq!(node.upvotes(VOTED).await, 1, "her paper's answer is fresh");
    assert_eq!(node.upvotes(OTHER).await, 0, "the other paper's answer stayed cached");
    assert_eq!(node.text(&format!("/papers/{OTHER}")).await, other_page, "and so did its page");
    node.stop().await;
}

#[tokio::test]
async fn bodies_over_the_size_limit_are_served_not_kept() {
    let file = SqliteFile::new();
    let location = file.path().display().to_string();
    let node = Node::start(&location, ResponseCache::new(2048), false).await;
    node.store.upsert_papers(&catalog()).await.unwrap();
    // A day's page is larger than 2 KiB; the paper's JSON is not.
    let day = "/papers/date/2026-03-12?sort=new";
    let first = node.text(day).await;
    assert!(first.len() > 2048, "{}", first.len());
    assert!(node.get(&format!("/api/papers/{OTHER}")).await.content_length().unwrap_or(0) < 2048);
    poke_upvotes(file.path(), OTHER, 42).await;
    let second = node.text(day).await;
    assert_ne!(first, second, "rendered again, not kept");
    assert_eq!(node.upvotes(OTHER).await, 0, "a small answer is kept");
    node.stop().await;
}
