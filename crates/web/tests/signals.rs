//! Trending signals across the site (issue 15; docs/RANKING.md "Trending
//! signals"), one feature over several modules: given signals recorded in a
//! real store (GitHub stars, Hugging Face upvotes, a source page's rank),
//! the order of a day, a week and `/trending` is the one RANKING.md
//! predicts, every card's reason matches its components, the paper page
//! and the API show the parts, and `?has_code=1` filters feeds and the API.

use crate::common;

use chrono::{Duration, NaiveDate, Utc};
use common::catalog::paper;
use common::{Launch, Server};
use paperboy_core::FeedPeriod;
use paperboy_store::{Catalog, HfSignal, LinkSource, RepoCounts, RepoLink, RepoUpdate, Signals};
use reqwest::StatusCode;
use serde_json::Value;

const HOT: &str = "2611.00001";
const WARM: &str = "2611.00002";
const UPVOTED: &str = "2611.00003";
const PLAIN: &str = "2611.00004";
const OLD: &str = "2605.00005";

fn yesterday() -> NaiveDate {
    Utc::now().date_naive() - Duration::days(1)
}

/// Records `full_name` for `id` with `stars`, `weekly` of them this week.
async fn repo(store: &paperboy_store::SqlStore, id: &str, full_name: &str, stars: u64, weekly: i64) {
    let now = Utc::now();
    let paper = paperboy_core::PaperId::parse(id).unwrap();
    let link = RepoLink { full_name: full_name.to_string(), source: LinkSource::Abstract };
    store.link_repositories(&paper, &[link], now).await.unwrap();
    let counts = RepoCounts { full_name: full_name.to_string(), stars, forks: 0, pushed_at: None, etag: None };
    let update = RepoUpdate::Fresh { counts, weekly_stars: Some(weekly), next_fetch_at: now + Duration::hours(1) };
    store.record_repository(full_name, update, now).await.unwrap();
}

/// Five papers: four listed yesterday (a repository gaining 900 stars a
/// week, one gaining 300, one with 2,000 Hugging Face upvotes and no code,
/// one with nothing but a recorded rank on a source page), and one listed
/// 200 days ago whose repository gains the most of all.
async fn site() -> Server {
    let (dir, store) = common::sqlite().await;
    let day = yesterday().to_string();
    let old = (Utc::now().date_naive() - Duration::days(200)).to_string();
    store
        .upsert_papers(&[
            paper(HOT, "Hot Repository Paper", &day, &["cs.LG"]),
            paper(WARM, "Warm Repository Paper", &day, &["cs.LG"]),
            paper(UPVOTED, "Upvoted Elsewhere Paper", &day, &["cs.CV"]),
            paper(PLAIN, "Plain Paper With A Rank", &day, &["cs.CV"]),
            paper(OLD, "Old Paper With Busy Code", &old, &["cs.LG"]),
        ])
        .await
        .unwrap();
    repo(&store, HOT, "owner/hot", 20_000, 900).await;
    repo(&store, WARM, "owner/warm", 400, 300).await;
    repo(&store, OLD, "owner/old", 90_000, 5_000).await;
    let now = Utc::now();
    let upvoted = paperboy_core::PaperId::parse(UPVOTED).unwrap();
    let hf = HfSignal { upvotes: 2_000, comments: Some(4), ..HfSignal::default() };
    assert!(store.record_hf(&upvoted, &hf, now).await.unwrap());
    let plain = paperboy_core::PaperId::parse(PLAIN).unwrap();
    assert!(store.record_source_rank(&plain, "Trending Papers", 3, now).await.unwrap());
    Launch::bind().await.keep(dir).serve(store)
}

/// The paper ids of a list page, in order.
fn ids_in(html: &str) -> Vec<String> {
    html.split("data-paper-id=\"").skip(1).map(|s| s[..s.find('"').unwrap()].to_string()).collect()
}

/// The reason line of the card of `id`.
fn reason_of(html: &str, id: &str) -> String {
    let card = &html[html.find(&format!("data-paper-id=\"{id}\"")).unwrap()..];
    let start = card.find("<span class=\"reason\"").unwrap();
    let text = &card[start..];
    let text = &text[text.find('>').unwrap() + 1..];
    text[..text.find("</span>").unwrap()].to_string()
}

async fn json(s: &Server, path: &str) -> Value {
    let r = s.get(path).await;
    assert_eq!(r.status(), StatusCode::OK, "GET {path}");
    r.json().await.unwrap()
}

#[tokio::test]
async fn a_day_and_a_week_rank_as_ranking_md_predicts_with_each_reason() {
    let s = site().await;
    let day = yesterday();
    // Scores (RANKING.md): 2,000 upvotes a day or two old ≥ 0.87; 900 stars
    // a week 0.148; 300 stars 0.049; a recorded rank alone 0.
    let expected = [UPVOTED, HOT, WARM, PLAIN];
    let week = FeedPeriod::week_of(day);
    for path in [format!("/papers/date/{day}"), format!("/papers/{}", week.path())] {
        let html = s.text(&path, StatusCode::OK).await;
        assert_eq!(ids_in(&html), expected, "{path}");
        assert_eq!(reason_of(&html, HOT), "+900 stars this week on owner/hot");
        assert_eq!(reason_of(&html, WARM), "+300 stars this week on owner/warm");
        assert_eq!(reason_of(&html, UPVOTED), "2,000 upvotes on Hugging Face");
        assert_eq!(reason_of(&html, PLAIN), "#3 on Trending Papers");
        // The repository, linked, with its stars.
        assert!(
            html.contains(
                r#"<a class="repo" href="https://github.com/owner/hot" title="Code on GitHub">owner/hot</a>"#
            )
        );
        assert!(html.contains("★ 20,000"), "{path}");
    }
    // Only papers with code.
    let html = s.text(&format!("/papers/date/{day}?has_code=1"), StatusCode::OK).await;
    assert_eq!(ids_in(&html), [HOT, WARM]);
    assert!(html.contains("With code ✓"));
    let r = s.get(&format!("/papers/date/{day}?has_code=2")).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let rss = s.text(&format!("/papers/date/{day}/feed.rss?has_code=1"), StatusCode::OK).await;
    assert!(rss.contains("Hot Repository Paper") && !rss.contains("Upvoted Elsewhere Paper"));
}

#[tokio::test]
async fn trending_is_by_stars_this_week_within_the_age_limit() {
    let s = site().await;
    let html = s.text("/trending", StatusCode::OK).await;
    // The 200-day-old paper gains most but is past the 180-day limit; papers
    // without a repository are not in the view.
    assert_eq!(ids_in(&html), [HOT, WARM]);
    assert_eq!(reason_of(&html, HOT), "+900 stars this week on owner/hot");
    assert!(html.contains(r#"href="/trending/feed.atom""#));
    let atom = s.text("/trending/feed.atom", StatusCode::OK).await;
    let (hot, warm) = (atom.find("Hot Repository Paper").unwrap(), atom.find("Warm Repository Paper").unwrap());
    assert!(hot < warm && !atom.contains("Old Paper With Busy Code"));
    // Every page links to it.
    assert!(s.text("/", StatusCode::OK).await.contains(r#"href="/trending""#));
    // The API's trending list without a period is the same view, as on Hugging Face.
    let list = json(&s, "/api/daily_papers?sort=trending").await;
    let ids: Vec<&str> = list.as_array().unwrap().iter().map(|i| i["paper"]["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [HOT, WARM]);
}

#[tokio::test]
async fn the_api_and_the_paper_page_show_every_part() {
    let s = site().await;
    let hot = json(&s, &format!("/api/papers/{HOT}")).await;
    assert_eq!(hot["githubRepo"], "https://github.com/owner/hot");
    assert_eq!(hot["githubStars"], 20_000);
    let t = &hot["trending"];
    assert_eq!(t["reason"], "+900 stars this week on owner/hot");
    assert_eq!(t["starsThisWeek"], 900);
    let (score, stars) = (t["score"].as_f64().unwrap(), t["stars"].as_f64().unwrap());
    assert!((stars - 0.1484).abs() < 1e-3, "{t}");
    assert!((score - stars - t["local"].as_f64().unwrap() - t["huggingface"].as_f64().unwrap()).abs() < 1e-12);

    let up = json(&s, &format!("/api/papers/{UPVOTED}")).await;
    assert_eq!(up["trending"]["huggingfaceUpvotes"], 2_000);
    assert!(up["trending"]["huggingface"].as_f64().unwrap() > 0.5);
    assert_eq!(up["trending"]["reason"], "2,000 upvotes on Hugging Face");
    assert_eq!(up["githubStars"], Value::Null);

    let plain = json(&s, &format!("/api/papers/{PLAIN}")).await;
    assert_eq!(plain["trending"]["sourceRank"], serde_json::json!({"page": "Trending Papers", "rank": 3}));

    // sort=trending for a day: the same order as the page.
    let day = yesterday();
    let list = json(&s, &format!("/api/daily_papers?date={day}&sort=trending")).await;
    let ids: Vec<&str> = list.as_array().unwrap().iter().map(|i| i["paper"]["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [UPVOTED, HOT, WARM, PLAIN]);
    let r = s.get(&format!("/api/daily_papers?date={day}&has_code=1")).await;
    assert_eq!(common::header(&r, "x-total-count"), "2");
    assert!(common::header(&r, "link").contains("has_code=1"));
    assert_eq!(s.get("/api/daily_papers?has_code=yes").await.status(), StatusCode::BAD_REQUEST);

    let page = s.text(&format!("/papers/{HOT}"), StatusCode::OK).await;
    assert!(page.contains("Why it is trending"));
    assert!(
        page.contains(
            r#"+900 stars this week on <a href="https://github.com/owner/hot">owner/hot</a> (20,000 in all)"#
        )
    );
    assert!(page.contains("source: GitHub"));
    let page = s.text(&format!("/papers/{UPVOTED}"), StatusCode::OK).await;
    assert!(
        page.contains(&format!(
            r#"2,000 upvotes on <a href="https://huggingface.co/papers/{UPVOTED}">Hugging Face</a>"#
        ))
    );
    let page = s.text(&format!("/papers/{PLAIN}"), StatusCode::OK).await;
    assert!(page.contains("#3 on Trending Papers"));
}
