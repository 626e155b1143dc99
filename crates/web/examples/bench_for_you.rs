//! Benchmark: the For-you week page of a member with many liked papers over
//! an imported catalog (issue 16: under 50 ms for 500 likes at 74,728
//! papers), and the next page after a new like. It times what a request
//! does: `RecsService::page` (the member's profile, the week's candidates,
//! ranking with cached features, their votes) and rendering the HTML.
//!
//! usage: bench_for_you DATA_DIR [--likes 500] [--runs 20] [--index]
//!
//! DATA_DIR is a `paperboy import`ed data directory (its SQLite database is
//! used as is; a member `forbench` is added). `--index` opens the search
//! index too (saved searches, vectors when embedded).

use std::sync::Arc;
use std::time::{Duration, Instant};

use paperboy_core::{FeedPeriod, FeedSort, Role};
use paperboy_search::SearchEngine;
use paperboy_services::accounts::{self, SignUp};
use paperboy_services::recommend::{Popularity, RecsService};
use paperboy_store::{Accounts, Catalog, Community, FeedQuery, Interests, SqlStore};
use paperboy_web::WebSettings;

fn arg(name: &str, default: u32) -> u32 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn summary(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let median = times[times.len() / 2];
    let p90 = times[(times.len() * 9 / 10).min(times.len() - 1)];
    println!("| {name} | {} | {} | {} |", times.len(), ms(median), ms(p90));
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).filter(|a| !a.starts_with("--")).ok_or("give the data directory")?;
    let dir = std::path::Path::new(&dir);
    let likes = arg("--likes", 500);
    let runs = arg("--runs", 20).max(1);
    let store = SqlStore::open_sqlite(&dir.join("paperboy.db")).await?;
    let engine = if std::env::args().any(|a| a == "--index") {
        Some(Arc::new(SearchEngine::open(&dir.join("index"), None)?))
    } else {
        None
    };
    let papers = store.count_papers().await?;
    let latest = store.latest_listing_date().await?.ok_or("the catalog is empty: import papers first")?;
    // The busiest of the last 20 weeks.
    let mut week = FeedPeriod::week_of(latest);
    let mut busiest = (0, week);
    for _ in 0..20 {
        let q = FeedQuery { from: Some(week.start()), until: Some(week.end()), limit: 1, ..FeedQuery::default() };
        let n = store.feed(&q).await?.total;
        if n > busiest.0 {
            busiest = (n, week);
        }
        week = week.prev();
    }
    let (week_papers, week) = busiest;
    let user = match store.user_by_username(&paperboy_core::Username::parse("forbench")?).await? {
        Some(u) => u,
        None => {
            let form = SignUp {
                username: "forbench",
                email: "forbench@example.org",
                password: "a long benchmark password",
                role: Role::Member,
                email_verified: true,
            };
            accounts::sign_up(&store, &form).await?
        }
    };
    // Likes: papers listed before the week, newest first.
    let q = FeedQuery { until: Some(week.start()), sort: FeedSort::New, limit: likes, ..FeedQuery::default() };
    let older = store.feed(&q).await?.items;
    for p in &older {
        store.set_vote(user.id, &p.paper.id, true).await?;
    }
    println!(
        "{papers} papers; week {week} has {week_papers}; member with {} upvoted papers; search index: {}",
        older.len(),
        if engine.is_some() { "yes" } else { "no" }
    );
    let recs = RecsService::new(engine, Popularity::default());
    let config = WebSettings::default();
    let page_size = config.page_size;

    let t = Instant::now();
    let data = recs.page(&store, user.id, Some(week), page_size, 12).await?.ok_or("no page")?;
    let cold = t.elapsed();
    println!("cold (features computed for {} papers): {}", recs.cached_features(), ms(cold));
    println!("first pick: {} ({})", data.for_you.picks[0].paper.paper.title, data.for_you.picks[0].reason.line());
    println!();
    println!("| step | runs | median | p90 |");
    println!("|---|---|---|---|");
    let (mut service, mut render, mut total) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        let data = recs.page(&store, user.id, Some(week), page_size, 12).await?.ok_or("no page")?;
        let s = t.elapsed();
        let html = paperboy_web::pages::for_you::render(&config, &data);
        let all = t.elapsed();
        assert!(html.len() > 1000);
        service.push(s);
        render.push(all - s);
        total.push(all);
    }
    summary("RecsService::page (profile, candidates, rank, votes)", service);
    // Where the service's time goes: its two store reads on their own.
    let (mut profile, mut feed) = (Vec::new(), Vec::new());
    let q = FeedQuery {
        from: Some(week.start()),
        until: Some(week.end()),
        sort: FeedSort::Trending,
        limit: paperboy_services::recommend::MAX_CANDIDATES,
        ..FeedQuery::default()
    };
    for _ in 0..runs {
        let t = Instant::now();
        store.interest_profile(user.id, paperboy_services::recommend::PROFILE_LIMIT).await?;
        profile.push(t.elapsed());
        let t = Instant::now();
        store.feed(&q).await?;
        feed.push(t.elapsed());
    }
    summary("of which: interest_profile (store)", profile);
    summary("of which: the week's candidates (store feed, trending)", feed);
    summary("render HTML", render);
    summary("week page total", total);
    // A new like, then the next page: the model is the profile, so the next
    // request already ranks with it.
    let mut after_like = Vec::new();
    let q = FeedQuery { from: Some(week.start()), until: Some(week.end()), limit: runs, ..FeedQuery::default() };
    for p in store.feed(&q).await?.items {
        let t = Instant::now();
        store.set_vote(user.id, &p.paper.id, true).await?;
        let data = recs.page(&store, user.id, Some(week), page_size, 12).await?.ok_or("no page")?;
        after_like.push(t.elapsed());
        assert!(data.for_you.picks.iter().all(|x| x.paper.paper.id != p.paper.id), "a liked paper leaves the list");
    }
    summary("a like, then the next page", after_like);
    Ok(())
}
