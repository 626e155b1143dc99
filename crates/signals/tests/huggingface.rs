//! `HfClient` against the replay server over `tests/fixtures/huggingface/`.

use std::time::Duration;

use chrono::NaiveDate;
use paperboy_signals::{FetchError, HfClient, HfSettings};

use crate::replay::{Replay, gap};

fn client(base: &str) -> HfClient {
    HfClient::new(HfSettings {
        base_url: base.to_string(),
        timeout: Duration::from_secs(5),
        interval: Duration::ZERO,
        backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        ..HfSettings::default()
    })
    .expect("client")
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 3, d).unwrap()
}

#[tokio::test]
async fn daily_papers_are_parsed_tolerating_missing_fields() {
    let server = Replay::start("huggingface").await;
    let hf = client(&server.url());
    let papers = hf.daily_papers(day(17)).await.unwrap();
    let ids: Vec<&str> = papers.iter().map(|p| p.arxiv_id.as_str()).collect();
    assert_eq!(ids, ["2503.11731", "2503.11650", "2503.11999"], "the item without an id is skipped");

    let full = &papers[0];
    assert_eq!((full.upvotes, full.num_comments, full.github_stars), (45, Some(3), Some(312)));
    assert_eq!(full.github_repo.as_deref(), Some("https://github.com/example-lab/gs-sensor-sim"));
    assert_eq!(full.repo().unwrap().full_name(), "example-lab/gs-sensor-sim");
    assert_eq!(full.project_page.as_deref(), Some("https://example-lab.github.io/gs-sensor-sim/"));
    assert_eq!(full.ai_keywords, ["Gaussian Splatting", "sensor simulation", "autonomous driving", "NeRF"]);
    assert_eq!(full.published_at.unwrap().to_rfc3339(), "2025-03-14T13:59:03+00:00");

    let sparse = &papers[1];
    assert_eq!((sparse.upvotes, sparse.num_comments, sparse.github_stars), (7, None, None));
    assert_eq!((sparse.github_repo.as_deref(), sparse.repo()), (None, None));
    assert!(sparse.ai_keywords.is_empty());
    let bare = &papers[2];
    assert_eq!((bare.upvotes, bare.title.as_deref()), (0, None));

    assert!(hf.daily_papers(day(16)).await.unwrap().is_empty());
    let log = server.log();
    assert_eq!(log[0].path, "/api/daily_papers?date=2025-03-17");
    assert!(log[0].user_agent.as_deref().unwrap_or("").starts_with("Paperboy/"));
}

#[tokio::test]
async fn single_papers_and_unknown_ones() {
    let server = Replay::start("huggingface").await;
    let hf = client(&server.url());
    let paper = hf.paper("2503.11731").await.unwrap().unwrap();
    assert_eq!((paper.upvotes, paper.num_comments), (52, None));
    assert_eq!(paper.title.as_deref().map(|t| t.starts_with("Industrial-Grade")), Some(true));
    assert_eq!(hf.paper("2503.00000").await.unwrap(), None);
}

#[tokio::test]
async fn a_malformed_body_is_a_clear_error() {
    let server = Replay::start("huggingface").await;
    let hf = client(&server.url());
    let e = hf.daily_papers(day(18)).await.unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, FetchError::Parse { .. }), "{text}");
    assert!(text.contains("Hugging Face API") && text.contains("date=2025-03-18") && text.contains("line 1"), "{text}");
    assert!(!e.is_transient());
}

#[tokio::test]
async fn too_many_requests_is_waited_out() {
    let server = Replay::start("huggingface").await;
    let hf = client(&server.url());
    assert!(hf.daily_papers(day(19)).await.unwrap().is_empty());
    let seen = server.requests("/api/daily_papers?date=2025-03-19");
    assert_eq!(seen.len(), 2);
    assert!(gap(&seen[0], &seen[1]) >= Duration::from_millis(950), "{:?}", gap(&seen[0], &seen[1]));
}
