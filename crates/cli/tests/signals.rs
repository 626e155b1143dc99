//! `paperboy signals fetch --source github` as a real process against a
//! GitHub-compatible server on loopback (`PAPERBOY_GITHUB_API_URL`): after
//! one fetch, the paper whose repository gained the most stars in the last 7
//! days is first in the code-trending view, though another repository has
//! far more stars; `signals status` reports what was fetched.

use crate::common;

use std::process::Command;

use chrono::Utc;
use paperboy_core::{Paper, PaperId};
use paperboy_store::{Catalog, FeedQuery, Signals, SqlStore};
use paperboy_test_support::replay::{Reply, Seen, Server};

fn paper(id: &str, title: &str, code: &str) -> Paper {
    let mut p = Paper::new(PaperId::parse(id).unwrap(), title, Utc::now().date_naive());
    p.authors = vec!["Ada Lovelace".into()];
    p.abstract_text = format!("Abstract of {title}.");
    p.links.code = Some(code.into());
    p.categories = vec!["cs.LG".into()];
    p.normalize();
    p
}

fn json(code: u16, body: String) -> Reply {
    let reset = (Utc::now().timestamp() + 3_600).to_string();
    Reply::Status {
        code,
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("X-RateLimit-Remaining".into(), "4999".into()),
            ("X-RateLimit-Reset".into(), reset),
        ],
        body: body.into_bytes(),
    }
}

fn repo(name: &str, stars: u64) -> Reply {
    json(200, format!(r#"{{"id": 7, "full_name": "{name}", "stargazers_count": {stars}, "forks_count": 1}}"#))
}

/// A page of `n` stargazers, `recent` of them in the last two days.
fn stargazers(n: usize, recent: usize) -> Reply {
    let now = Utc::now();
    let items: Vec<String> = (0..n)
        .map(|i| {
            let days = if i < recent { 1 } else { 40 };
            format!(r#"{{"starred_at": "{}"}}"#, (now - chrono::Duration::days(days)).to_rfc3339())
        })
        .collect();
    json(200, format!("[{}]", items.join(",")))
}

#[test]
fn one_fetch_puts_the_fastest_rising_repository_first() {
    let server = Server::start_http(|req: &Seen| match req.path() {
        "/repos/big/quiet" => repo("big/quiet", 50_000),
        "/repos/big/quiet/stargazers" => stargazers(100, 2),
        "/repos/small/hot" => repo("small/hot", 90),
        "/repos/small/hot/stargazers" => stargazers(90, 80),
        "/repos/mid/warm" => repo("mid/warm", 60),
        "/repos/mid/warm/stargazers" => stargazers(60, 10),
        _ => json(404, r#"{"message": "Not Found"}"#.into()),
    });
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let store = rt.block_on(SqlStore::open_sqlite(&dir.path().join("paperboy.db"))).unwrap();
    let papers = [
        paper("2601.00101", "Quiet giant", "https://github.com/big/quiet"),
        paper("2601.00102", "Hot newcomer", "https://github.com/small/hot"),
        paper("2601.00103", "Warm", "https://github.com/mid/warm"),
    ];
    rt.block_on(store.upsert_papers(&papers)).unwrap();

    let run = |args: &[&str]| {
        Command::new(common::bin())
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .env_remove("PAPERBOY_CONFIG")
            .env("PAPERBOY_GITHUB_API_URL", server.url(""))
            .env("PAPERBOY_GITHUB_TOKEN", "test-token")
            .env("PAPERBOY_LOG", "warn")
            .output()
            .unwrap()
    };
    let out = run(&["signals", "fetch", "--source", "github"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("3 fetched"), "{stdout}");
    let repo_requests = server.seen().iter().filter(|s| !s.path().ends_with("/stargazers")).count();
    assert_eq!(repo_requests, 3);
    assert!(server.seen().iter().all(|s| s.header("authorization") == Some("Bearer test-token")));

    let page = rt.block_on(store.code_trending(&FeedQuery { limit: 10, ..FeedQuery::default() })).unwrap();
    let order: Vec<String> = page.items.iter().map(|p| p.paper.id.to_string()).collect();
    assert_eq!(order, ["2601.00102", "2601.00103", "2601.00101"]);
    assert_eq!(page.items[0].signals.stars_this_week, Some(80));
    assert_eq!(page.items[0].signals.github_repo.as_deref(), Some("small/hot"));

    let status = run(&["signals", "status"]);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "{text}");
    assert!(text.contains("3 known, 0 due now"), "{text}");
    assert!(text.contains("3 fetched"), "{text}");
}
