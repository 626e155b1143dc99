//! The signal jobs against real HTTP servers on loopback (test-support's
//! scripted server, answering like GitHub's and Hugging Face's APIs) and a
//! SQLite store, with a manual clock: linking, first fetch with stargazers,
//! 304 with If-None-Match on the next fetch, rename, gone, and no request
//! while the rate limit says none remain.

use std::time::Duration;

use chrono::{DateTime, Utc};
use paperboy_core::{FeedSort, Paper, PaperId};
use paperboy_services::jobs::ManualClock;
use paperboy_services::jobs::signals_github::{GithubTurn, fetch_github, paper_links};
use paperboy_services::jobs::signals_hf::fetch_huggingface;
use paperboy_signals::{GithubClient, GithubSettings, HfClient, HfSettings};
use paperboy_store::{Catalog, FeedQuery, LinkSource, Signals, SqlStore};
use paperboy_test_support::replay::{Reply, Seen, Server};

async fn open_store() -> (tempfile::TempDir, SqlStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::open_sqlite(&dir.path().join("signals.db")).await.unwrap();
    (dir, store)
}

fn paper(id: &str, title: &str, code: Option<&str>, comment: Option<&str>, abstract_text: &str) -> Paper {
    let mut p = Paper::new(PaperId::parse(id).unwrap(), title, Utc::now().date_naive());
    p.authors = vec!["Ada Lovelace".into()];
    p.abstract_text = abstract_text.into();
    p.comment = comment.map(str::to_string);
    p.links.code = code.map(str::to_string);
    p.categories = vec!["cs.LG".into()];
    p.version = Some(1);
    p.normalize();
    p
}

fn json(code: u16, headers: &[(&str, String)], body: String) -> Reply {
    let mut h: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    h.push(("Content-Type".into(), "application/json".into()));
    Reply::Status { code, headers: h, body: body.into_bytes() }
}

fn repo_body(full_name: &str, stars: u64) -> String {
    format!(
        r#"{{"id": 1, "full_name": "{full_name}", "stargazers_count": {stars}, "forks_count": 4, "pushed_at": "2026-01-01T00:00:00Z", "archived": false}}"#
    )
}

/// `n` stargazers, `recent` of them within the last week.
fn stargazers(n: usize, recent: usize) -> String {
    let now = Utc::now();
    let items: Vec<String> = (0..n)
        .map(|i| {
            let at = if i >= n - recent { now - chrono::Duration::hours(2) } else { now - chrono::Duration::days(30) };
            format!(r#"{{"starred_at": "{}", "user": {{"login": "u{i}"}}}}"#, at.to_rfc3339())
        })
        .collect();
    format!("[{}]", items.join(","))
}

fn limits(remaining: u64) -> Vec<(&'static str, String)> {
    let reset = Utc::now().timestamp() + 3_600;
    vec![
        ("X-RateLimit-Limit", "5000".into()),
        ("X-RateLimit-Remaining", remaining.to_string()),
        ("X-RateLimit-Reset", reset.to_string()),
    ]
}

fn client(base: &str) -> GithubClient {
    let settings = GithubSettings {
        base_url: base.to_string(),
        interval: Duration::from_millis(1),
        max_wait: Duration::from_secs(1),
        max_retries: 0,
        ..GithubSettings::with_token(Some("test-token".into()))
    };
    GithubClient::new(settings).unwrap()
}

/// A GitHub-like API: hot/repo (150 stars, 120 this week; ETag, then 304),
/// quiet/repo (a hundred old stars), old/name (renamed to neworg/name),
/// gone/repo (404).
fn github() -> Server {
    Server::start_http(|req: &Seen| match req.path() {
        "/repos/hot/repo" if req.header("if-none-match") == Some("\"h1\"") => json(304, &limits(4_998), String::new()),
        "/repos/hot/repo" => {
            let mut h = limits(4_999);
            h.push(("ETag", "\"h1\"".into()));
            json(200, &h, repo_body("hot/repo", 150))
        }
        "/repos/hot/repo/stargazers" => json(200, &limits(4_999), stargazers(150, 120)),
        "/repos/quiet/repo" => json(200, &limits(4_999), repo_body("quiet/repo", 100)),
        "/repos/quiet/repo/stargazers" => json(200, &limits(4_999), stargazers(100, 0)),
        "/repos/old/name" => json(301, &[("Location", "/repos/neworg/name".to_string())], String::new()),
        "/repos/neworg/name" => json(200, &limits(4_999), repo_body("neworg/name", 10)),
        "/repos/neworg/name/stargazers" => json(200, &limits(4_999), stargazers(10, 3)),
        _ => json(404, &limits(4_999), r#"{"message": "Not Found"}"#.into()),
    })
}

#[test]
fn papers_name_their_repositories_by_where_they_were_found() {
    let p = paper(
        "2601.00001",
        "Links",
        Some("https://github.com/lab/code"),
        Some("Code: https://github.com/lab/code and github.com/lab/extra"),
        "We build on https://github.com/big/framework.",
    );
    let found: Vec<(String, LinkSource)> = paper_links(&p).into_iter().map(|l| (l.full_name, l.source)).collect();
    assert_eq!(
        found,
        [
            ("lab/code".to_string(), LinkSource::CodeLink),
            ("lab/extra".to_string(), LinkSource::Comment),
            ("big/framework".to_string(), LinkSource::Abstract)
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_fetch_ranks_by_this_weeks_stars_and_the_next_one_is_conditional() {
    let server = github();
    let (_dir, store) = open_store().await;
    store
        .upsert_papers(&[
            paper("2601.00001", "Hot", Some("https://github.com/hot/repo"), None, "A method."),
            paper("2601.00002", "Quiet", None, None, "Code at https://github.com/quiet/repo."),
            paper("2601.00003", "Renamed", None, Some("Code: github.com/old/name"), "A method."),
            paper("2601.00004", "Gone", Some("https://github.com/gone/repo"), None, "A method."),
            paper("2601.00005", "No code", None, None, "A method."),
        ])
        .await
        .unwrap();
    let clock = ManualClock::new(Utc::now());
    let gh = client(&server.url(""));
    let turn = GithubTurn::default();
    let mut steps = 0;
    let report = fetch_github(&store, &gh, &clock, &turn, &mut |_| steps += 1).await.unwrap();
    assert_eq!((report.papers_read, report.links_added, report.due), (5, 4, 4), "{report:?}");
    let old = store.repository("old/name").await.unwrap();
    assert_eq!((report.fetched, report.renamed, report.gone, report.failed), (2, 1, 1, 0), "{report:?} {old:?}");
    assert_eq!(steps, 4);

    // The paper whose repository gained most this week is first in /trending.
    let page = store.code_trending(&FeedQuery { limit: 10, ..FeedQuery::default() }).await.unwrap();
    let order: Vec<String> = page.items.iter().map(|p| p.paper.id.to_string()).collect();
    assert_eq!(order[0], "2601.00001");
    assert_eq!(page.items[0].signals.stars_this_week, Some(120));
    assert_eq!(page.items[0].signals.github_stars, Some(150));
    assert!(!order.contains(&"2601.00004".to_string()), "a gone repository is no code");
    let renamed = store.get_paper(&PaperId::parse("2601.00003").unwrap()).await.unwrap().unwrap();
    assert_eq!(renamed.signals.github_repo.as_deref(), Some("neworg/name"));
    // And in sort=trending on every feed.
    let trending =
        store.feed(&FeedQuery { sort: FeedSort::Trending, limit: 10, ..FeedQuery::default() }).await.unwrap();
    assert_eq!(trending.items[0].paper.id.to_string(), "2601.00001");

    // Nothing is due an instant later; two hours later the new repositories
    // are, and hot/repo's fetch carries its ETag and gets a 304.
    let before = server.seen().len();
    let idle = fetch_github(&store, &gh, &clock, &turn, &mut |_| {}).await.unwrap();
    assert_eq!((idle.due, server.seen().len()), (0, before));
    clock.advance(chrono::Duration::hours(2));
    let second = fetch_github(&store, &gh, &clock, &turn, &mut |_| {}).await.unwrap();
    assert_eq!((second.due, second.not_modified), (3, 1), "{second:?}");
    let hot: Vec<Seen> = server.seen().into_iter().skip(before).filter(|s| s.path() == "/repos/hot/repo").collect();
    assert_eq!(hot.len(), 1);
    assert_eq!(hot[0].header("if-none-match"), Some("\"h1\""));
    assert_eq!(hot[0].header("authorization"), Some("Bearer test-token"));
    assert_eq!(server.seen().iter().filter(|s| s.path() == "/repos/gone/repo").count(), 1, "gone is never asked again");
    let state = store.source_state("github").await.unwrap();
    assert!(state.last_note.unwrap().contains("1 not modified"));
    assert!(state.cursor > 0 && state.last_error.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_request_is_sent_while_the_rate_limit_says_none_remain() {
    let reset: DateTime<Utc> = Utc::now() + chrono::Duration::hours(1);
    let reset_epoch = reset.timestamp();
    let server = Server::start_http(move |req: &Seen| {
        let h = vec![("X-RateLimit-Remaining", "0".to_string()), ("X-RateLimit-Reset", reset_epoch.to_string())];
        match req.path() {
            "/repos/a/one" => json(200, &h, repo_body("a/one", 0)),
            path => json(200, &h, repo_body(path.trim_start_matches("/repos/"), 0)),
        }
    });
    let (_dir, store) = open_store().await;
    let papers: Vec<Paper> = ["one", "two", "three"]
        .iter()
        .enumerate()
        .map(|(i, n)| paper(&format!("2601.0001{i}"), n, Some(&format!("https://github.com/a/{n}")), None, "x"))
        .collect();
    store.upsert_papers(&papers).await.unwrap();
    let clock = ManualClock::new(Utc::now());
    let gh = client(&server.url(""));
    let turn = GithubTurn::default();
    let first = fetch_github(&store, &gh, &clock, &turn, &mut |_| {}).await.unwrap();
    assert_eq!(server.seen().len(), 1, "one answer said none remain: nothing more was sent");
    assert_eq!(first.fetched, 1);
    let until = first.waiting_until.expect("the turn stopped for the limit");
    assert!((until - reset).num_seconds().abs() <= 1, "{until} vs {reset}");
    let state = store.source_state("github").await.unwrap();
    assert_eq!(state.waiting_until.map(|t| t.timestamp()), Some(until.timestamp()));
    assert!(state.waiting_why.unwrap().contains("rate limit"));

    // Half an hour on, another turn (even another process's client) waits.
    clock.advance(chrono::Duration::minutes(30));
    let waiting = fetch_github(&store, &client(&server.url("")), &clock, &turn, &mut |_| {}).await.unwrap();
    assert_eq!((waiting.done(), server.seen().len()), (0, 1));
    assert!(waiting.summary().contains("rate-limited until"));

    // After the reset a new process's client fetches the rest.
    clock.set(reset + chrono::Duration::seconds(5));
    let server_after = github();
    let after = fetch_github(&store, &client(&server_after.url("")), &clock, &turn, &mut |_| {}).await.unwrap();
    assert_eq!((after.due, after.gone), (3, 3), "a/one is due again an hour on: {after:?}");
    assert!(!server_after.seen().is_empty());
    assert!(store.source_state("github").await.unwrap().waiting_until.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hugging_face_upvotes_raise_a_paper_in_trending() {
    let daily = paperboy_test_support::fixtures::read("huggingface/daily-2025-03-17.json");
    let server = Server::start_http(move |req: &Seen| match (req.path(), req.query()) {
        ("/api/daily_papers", "date=2025-03-17") => Reply::Status {
            code: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: daily.clone(),
        },
        _ => json(200, &[], "[]".into()),
    });
    let (_dir, store) = open_store().await;
    let day = chrono::NaiveDate::from_ymd_opt(2025, 3, 17).unwrap();
    let mut listed = paper("2503.11731", "Industrial-Grade Sensor Simulation", None, None, "x");
    let mut newer = paper("2503.11800", "A newer paper", None, None, "y");
    (listed.listed_on, newer.listed_on) = (day, day);
    store.upsert_papers(&[listed, newer]).await.unwrap();
    let clock = ManualClock::new("2025-03-17T12:00:00Z".parse().unwrap());
    let hf = HfClient::new(HfSettings {
        base_url: server.url(""),
        interval: Duration::from_millis(1),
        max_retries: 0,
        ..HfSettings::default()
    })
    .unwrap();
    let report = fetch_huggingface(&store, &hf, &clock, 2, &mut |_| {}).await.unwrap();
    assert_eq!((report.days, report.matched, report.links_added), (2, 1, 1), "{report:?}");
    let paper = store.get_paper(&PaperId::parse("2503.11731").unwrap()).await.unwrap().unwrap();
    assert_eq!((paper.signals.hf_upvotes, paper.signals.hf_comments), (Some(45), Some(3)));
    assert_eq!(paper.signals.github_repo.as_deref(), Some("example-lab/gs-sensor-sim"));
    assert_eq!(paper.signals.github_stars, Some(312), "Hugging Face's count until GitHub is asked");
    let q = FeedQuery { sort: FeedSort::Trending, limit: 10, ..FeedQuery::default() };
    let order: Vec<String> = store.feed(&q).await.unwrap().items.iter().map(|p| p.paper.id.to_string()).collect();
    assert_eq!(order, ["2503.11731", "2503.11800"], "upvotes outrank the newer paper");
    let state = store.source_state("huggingface").await.unwrap();
    assert!(state.last_ok_at.is_some() && state.last_note.unwrap().contains("1 matched"));
}

/// `bash bench/signals.sh`: signals for `PAPERBOY_BENCH_REPOS` (10,000)
/// repositories through the GitHub job into a SQLite store, from a scripted
/// GitHub on loopback at a token's pacing scaled down 1,000 times
/// (`PAPERBOY_BENCH_INTERVAL_US`, 720): the first fetch (repository and one
/// stargazer page each), then a refresh with the stored ETags (304s) and a
/// refresh of a store whose server sends no ETags (200s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: bash bench/signals.sh"]
async fn bench_job_10k() {
    use std::time::Instant;
    let n: usize = std::env::var("PAPERBOY_BENCH_REPOS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let us: u64 = std::env::var("PAPERBOY_BENCH_INTERVAL_US").ok().and_then(|v| v.parse().ok()).unwrap_or(720);
    let server = |etags: bool| {
        Server::start_http(move |req: &Seen| {
            let path = req.path();
            if path.ends_with("/stargazers") {
                return json(200, &limits(4_999), stargazers(50, 5));
            }
            let name = path.trim_start_matches("/repos/");
            let tag = format!("\"{name}\"");
            if etags && req.header("if-none-match") == Some(tag.as_str()) {
                return json(304, &limits(4_999), String::new());
            }
            let mut h = limits(4_999);
            if etags {
                h.push(("ETag", tag));
            }
            json(200, &h, repo_body(name, 50))
        })
    };
    for etags in [true, false] {
        let api = server(etags);
        let (_dir, store) = open_store().await;
        let papers: Vec<Paper> = (0..n)
            .map(|i| {
                let code = format!("https://github.com/bench/repo-{i}");
                paper(&format!("2601.{:05}", i + 1), &format!("Bench {i}"), Some(&code), None, "x")
            })
            .collect();
        for chunk in papers.chunks(5_000) {
            store.upsert_papers(chunk).await.unwrap();
        }
        let clock = ManualClock::new(Utc::now());
        let settings = GithubSettings {
            base_url: api.url(""),
            interval: Duration::from_micros(us),
            max_wait: Duration::from_secs(5),
            max_retries: 0,
            ..GithubSettings::with_token(Some("bench".into()))
        };
        let gh = GithubClient::new(settings).unwrap();
        let turn = GithubTurn { batch: u32::try_from(n).unwrap(), ..GithubTurn::default() };
        let refresh = if etags { "refresh with ETags" } else { "refresh without ETags" };
        for (label, hours) in [("first fetch", 0), (refresh, 2)] {
            clock.advance(chrono::Duration::hours(hours));
            let before = api.seen().len();
            let t = Instant::now();
            let r = fetch_github(&store, &gh, &clock, &turn, &mut |_| {}).await.unwrap();
            let secs = t.elapsed().as_secs_f64();
            println!(
                "bench job {label}: {} repositories, {} requests, {} fetched, {} not modified, {secs:.1} s, \
                 {:.0} repositories/s",
                r.due,
                api.seen().len() - before,
                r.fetched,
                r.not_modified,
                r.due as f64 / secs
            );
        }
    }
}
