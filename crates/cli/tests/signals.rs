//! `paperboy signals fetch --source github` as a real process against a
//! GitHub-compatible server on loopback (`PAPERBOY_GITHUB_API_URL`): after
//! one fetch, the paper whose repository gained the most stars in the last 7
//! days is first in the code-trending view, though another repository has
//! far more stars, on `/trending` and `/api/daily_papers?sort=trending` of
//! `paperboy serve` too, its card naming the repository, its stars and why;
//! `signals status` reports what was fetched. `paperboy signals fetch
//! --source huggingface` against a scripted Hugging Face
//! (`PAPERBOY_HF_API_URL`) lifts the upvoted paper of a day above the
//! papers it was below, on the day page and in `/api/papers/{id}`.

use crate::common;

use std::process::Command;

use chrono::Utc;
use paperboy_core::{Paper, PaperId};
use paperboy_store::{Catalog, FeedQuery, Signals, SqlStore};
use paperboy_test_support::replay::{Reply, Seen, Server, query_value};
use serde_json::Value;

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

    // The same data served: the fastest-rising repository's paper leads the
    // code-trending page and the API's trending view, saying why.
    drop(store);
    let site = common::Server::start("serve", dir);
    let http = reqwest::blocking::Client::new();
    let html = http.get(site.url("/trending")).send().unwrap().text().unwrap();
    assert_eq!(paper_ids(&html), ["2601.00102", "2601.00103", "2601.00101"], "{html}");
    let card = card(&html, "2601.00102");
    assert!(card.contains(r#"href="https://github.com/small/hot""#), "the repository is linked: {card}");
    assert!(card.contains("★ 90"), "its stars: {card}");
    assert!(card.contains("+80 stars this week on small/hot"), "the reason: {card}");
    assert!(self::card(&html, "2601.00101").contains("+2 stars this week on big/quiet"), "{html}");

    let api: Value = http.get(site.url("/api/daily_papers?sort=trending")).send().unwrap().json().unwrap();
    let items = api.as_array().expect("a list of papers");
    let ids: Vec<&str> = items.iter().filter_map(|i| i["paper"]["id"].as_str()).collect();
    assert_eq!(ids, ["2601.00102", "2601.00103", "2601.00101"], "{api}");
    let first = &items[0]["paper"];
    assert_eq!(first["githubRepo"], "https://github.com/small/hot", "{first}");
    assert_eq!(first["githubStars"], 90, "{first}");
    assert_eq!(first["trending"]["starsThisWeek"], 80, "{first}");
    assert_eq!(first["trending"]["reason"], "+80 stars this week on small/hot", "{first}");
}

/// The `data-paper-id`s of a page's cards, in order.
fn paper_ids(html: &str) -> Vec<String> {
    html.split("data-paper-id=\"").skip(1).filter_map(|rest| rest.split('"').next()).map(str::to_string).collect()
}

/// The markup of the card of paper `id` (up to the end of its list item).
fn card<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html.find(&format!("data-paper-id=\"{id}\"")).unwrap_or_else(|| panic!("no card for {id}: {html}"));
    let rest = &html[start..];
    &rest[..rest.find("</li>").unwrap_or(rest.len())]
}

/// A Hugging Face daily list: `(id, upvotes)` items, none with a repository.
fn daily_list(items: &[(&str, u64)]) -> Reply {
    let items: Vec<String> = items
        .iter()
        .map(|(id, upvotes)| {
            format!(
                r#"{{"paper": {{"id": "{id}", "title": "Listed {id}", "upvotes": {upvotes}, "githubRepo": null}}, "numComments": 2}}"#
            )
        })
        .collect();
    json(200, format!("[{}]", items.join(",")))
}

#[test]
fn huggingface_upvotes_lift_a_paper_of_its_day() {
    let dir = tempfile::tempdir().unwrap();
    let day = Utc::now().date_naive();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let store = SqlStore::open_sqlite(&dir.path().join("paperboy.db")).await.unwrap();
        let mut papers = Vec::new();
        for (id, title) in [("2601.00201", "Upvoted elsewhere"), ("2601.00202", "Second"), ("2601.00203", "Third")] {
            let mut p = Paper::new(PaperId::parse(id).unwrap(), title, day);
            p.authors = vec!["Ada Lovelace".into()];
            p.abstract_text = format!("Abstract of {title}.");
            p.categories = vec!["cs.CL".into()];
            p.normalize();
            papers.push(p);
        }
        store.upsert_papers(&papers).await.unwrap();
    });
    let page = format!("/papers/date/{day}");

    // Before: no signal, so the day reads newest id first, the paper last.
    let site = common::Server::start("serve", dir);
    let before = paper_ids(&reqwest::blocking::get(site.url(&page)).unwrap().text().unwrap());
    assert_eq!(before, ["2601.00203", "2601.00202", "2601.00201"]);
    let dir = site.stop();

    // Hugging Face lists the day with 42 upvotes for it (and a paper the
    // catalog does not have); the other days it reads are empty.
    let listed = day.to_string();
    let hf = Server::start_http(move |req: &Seen| match req.path() {
        "/api/daily_papers" if query_value(req.query(), "date").as_deref() == Some(listed.as_str()) => {
            daily_list(&[("2601.00201", 42), ("2601.09999", 500)])
        }
        "/api/daily_papers" => json(200, "[]".into()),
        _ => json(404, r#"{"error": "Not Found"}"#.into()),
    });
    let out = Command::new(common::bin())
        .arg("--data-dir")
        .arg(dir.path())
        .args(["signals", "fetch", "--source", "huggingface"])
        .env_remove("PAPERBOY_CONFIG")
        .env("PAPERBOY_HF_API_URL", hf.url(""))
        .env("PAPERBOY_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        hf.seen().iter().any(|s| s.path() == "/api/daily_papers" && s.query().contains(&day.to_string())),
        "the day's list was read: {:?}",
        hf.requests()
    );

    let site = common::Server::start("serve", dir);
    let http = reqwest::blocking::Client::new();
    let html = http.get(site.url(&page)).send().unwrap().text().unwrap();
    assert_eq!(paper_ids(&html), ["2601.00201", "2601.00203", "2601.00202"], "it rose above both: {html}");
    let card = card(&html, "2601.00201");
    assert!(card.contains("42 upvotes on Hugging Face"), "the reason: {card}");
    assert!(self::card(&html, "2601.00203").contains("no votes yet"), "{html}");
    // The explicit trending URL of the day says the same.
    let explicit = http.get(site.url(&format!("{page}?sort=trending"))).send().unwrap().text().unwrap();
    assert_eq!(paper_ids(&explicit).first().map(String::as_str), Some("2601.00201"));

    let api: Value = http.get(site.url("/api/papers/2601.00201")).send().unwrap().json().unwrap();
    assert_eq!(api["trending"]["huggingfaceUpvotes"], 42, "{api}");
    assert_eq!(api["trending"]["reason"], "42 upvotes on Hugging Face", "{api}");
    assert!(api["trending"]["huggingface"].as_f64().unwrap_or(0.0) > 0.0, "the upvotes count in the score: {api}");
    let other: Value = http.get(site.url("/api/papers/2601.00202")).send().unwrap().json().unwrap();
    assert_eq!(other["trending"]["huggingfaceUpvotes"], Value::Null, "{other}");
}
