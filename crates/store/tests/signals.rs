//! Trending signals on both backends (migration 0009): repository links and
//! their summary on every paper, fetch records (200, 304, 301, 404, a
//! failure), the star series, Hugging Face counts, source ranks, fetch
//! state, and the orders they drive: `trending` on every feed, `has_code`,
//! and the code-trending view.

use crate::common;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use common::TestDb;
use paperboy_core::{FeedSort, Paper, PaperId};
use paperboy_store::{
    Catalog, FeedQuery, HfSignal, LinkSource, Moderation, RepoCounts, RepoLink, RepoStatus, RepoUpdate, Signals,
    SourceRank, SourceState,
};

on_both_backends!(
    links_fill_every_papers_summary_and_follow_renames,
    fetch_records_keep_the_series_and_the_status,
    trending_ranks_papers_with_any_signal_then_by_source_rank,
    has_code_filters_feeds,
    code_trending_is_weekly_stars_within_the_age_limit,
    source_state_and_census_read_back,
);

fn paper(id: &str, title: &str, listed: NaiveDate) -> Paper {
    let mut p = Paper::new(PaperId::parse(id).unwrap(), title, listed);
    p.authors = vec!["Ada Lovelace".into()];
    p.abstract_text = format!("Abstract of {title}.");
    p.categories = vec!["cs.LG".into()];
    p.version = Some(1);
    p.normalize();
    p
}

fn id(s: &str) -> PaperId {
    PaperId::parse(s).unwrap()
}

fn link(name: &str, source: LinkSource) -> RepoLink {
    RepoLink { full_name: name.into(), source }
}

fn counts(name: &str, stars: u64, etag: &str) -> RepoCounts {
    RepoCounts { full_name: name.into(), stars, forks: 3, pushed_at: None, etag: Some(etag.into()) }
}

fn fresh(name: &str, stars: u64, weekly: i64, next: DateTime<Utc>) -> RepoUpdate {
    RepoUpdate::Fresh { counts: counts(name, stars, "\"e1\""), weekly_stars: Some(weekly), next_fetch_at: next }
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

async fn links_fill_every_papers_summary_and_follow_renames(db: TestDb) {
    let s = &db.store;
    let now = Utc::now();
    s.upsert_papers(&[paper("2601.00001", "One", today()), paper("2601.00002", "Two", today())]).await.unwrap();
    assert!(s.get_paper(&id("2601.00001")).await.unwrap().unwrap().signals.is_empty());

    // Paper one names its code and, in its abstract, a framework it uses.
    let added = s
        .link_repositories(
            &id("2601.00001"),
            &[link("Owner/Code", LinkSource::Abstract), link("big/framework", LinkSource::Abstract)],
            now,
        )
        .await
        .unwrap();
    assert_eq!(added, 2);
    // Linking again adds nothing; an unknown paper links nothing.
    assert_eq!(
        s.link_repositories(&id("2601.00001"), &[link("owner/code", LinkSource::Comment)], now).await.unwrap(),
        0
    );
    assert_eq!(s.link_repositories(&id("2601.09999"), &[link("a/b", LinkSource::Comment)], now).await.unwrap(), 0);
    let due = s.due_repositories(now, 10).await.unwrap();
    assert_eq!(due.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["owner/code", "big/framework"]);

    // Before any fetch the summary names a repository without counts.
    let one = s.get_paper(&id("2601.00001")).await.unwrap().unwrap();
    assert!(one.signals.github_repo.is_some() && one.signals.github_stars.is_none());

    // The repository with more stars this week wins among links of one kind.
    s.record_repository("owner/code", fresh("Owner/Code", 120, 80, now + Duration::hours(1)), now).await.unwrap();
    s.record_repository("big/framework", fresh("big/framework", 90_000, 40, now + Duration::hours(1)), now)
        .await
        .unwrap();
    let one = s.get_paper(&id("2601.00001")).await.unwrap().unwrap();
    assert_eq!(one.signals.github_repo.as_deref(), Some("Owner/Code"));
    assert_eq!((one.signals.github_stars, one.signals.stars_this_week), (Some(120), Some(80)));
    assert!(one.signals.observed_at.is_some());
    // A code link outranks whatever the abstract names.
    s.link_repositories(&id("2601.00001"), &[link("lab/official", LinkSource::CodeLink)], now).await.unwrap();
    let one = s.get_paper(&id("2601.00001")).await.unwrap().unwrap();
    assert_eq!(one.signals.github_repo.as_deref(), Some("lab/official"));

    // A rename moves the links; linking the old name later follows it.
    s.link_repositories(&id("2601.00002"), &[link("old/name", LinkSource::CodeLink)], now).await.unwrap();
    let renamed =
        RepoUpdate::Renamed { counts: counts("New/Name", 7, "\"n1\""), weekly_stars: Some(2), next_fetch_at: now };
    s.record_repository("old/name", renamed, now).await.unwrap();
    let two = s.get_paper(&id("2601.00002")).await.unwrap().unwrap();
    assert_eq!((two.signals.github_repo.as_deref(), two.signals.github_stars), (Some("New/Name"), Some(7)));
    let old = s.repository("OLD/name").await.unwrap().unwrap();
    assert_eq!(old.status, RepoStatus::Renamed { to: "new/name".into() });
    s.upsert_papers(&[paper("2601.00003", "Three", today())]).await.unwrap();
    s.link_repositories(&id("2601.00003"), &[link("old/name", LinkSource::Comment)], now).await.unwrap();
    let three = s.get_paper(&id("2601.00003")).await.unwrap().unwrap();
    assert_eq!(three.signals.github_repo.as_deref(), Some("New/Name"));
    // The summary comes with papers in feeds and lookups too.
    let page = s.feed(&FeedQuery { limit: 10, ..FeedQuery::default() }).await.unwrap();
    assert!(page.items.iter().all(|p| p.signals.github_repo.is_some()), "{page:?}");
    let by_ids = s.papers_by_ids(&[id("2601.00002")]).await.unwrap();
    assert_eq!(by_ids[0].signals.github_stars, Some(7));
}

async fn fetch_records_keep_the_series_and_the_status(db: TestDb) {
    let s = &db.store;
    let t0 = Utc::now() - Duration::days(8);
    s.upsert_papers(&[paper("2601.00011", "Eleven", today())]).await.unwrap();
    s.link_repositories(
        &id("2601.00011"),
        &[link("a/one", LinkSource::CodeLink), link("a/two", LinkSource::Comment)],
        t0,
    )
    .await
    .unwrap();
    s.record_repository("a/one", fresh("a/one", 100, 0, t0 + Duration::days(1)), t0).await.unwrap();
    let r = s.repository("a/one").await.unwrap().unwrap();
    assert_eq!((r.stars, r.forks, r.etag.as_deref()), (Some(100), Some(3), Some("\"e1\"")));
    assert_eq!(r.next_fetch_at.timestamp(), (t0 + Duration::days(1)).timestamp());
    // Not due before its time, due after.
    assert!(s.due_repositories(t0 + Duration::hours(1), 10).await.unwrap().iter().all(|r| r.key != "a/one"));
    assert!(s.due_repositories(t0 + Duration::days(2), 10).await.unwrap().iter().any(|r| r.key == "a/one"));

    // A 304 observes the last count again and keeps the ETag.
    let t1 = t0 + Duration::days(2);
    let nm = RepoUpdate::NotModified { weekly_stars: Some(0), next_fetch_at: t1 + Duration::days(3) };
    s.record_repository("a/one", nm, t1).await.unwrap();
    let t2 = t0 + Duration::days(7);
    s.record_repository("a/one", fresh("a/one", 160, 60, t2 + Duration::hours(1)), t2).await.unwrap();
    let history = s.star_history("a/one", t0 + Duration::days(1)).await.unwrap();
    let stars: Vec<u64> = history.iter().map(|h| h.1).collect();
    assert_eq!(stars, [100, 100, 160], "the baseline before `since`, then the series");
    assert_eq!(s.repository("a/one").await.unwrap().unwrap().last_fetched.unwrap().timestamp(), t2.timestamp());

    // A failure is kept until the next success; a gone repository is never due again.
    let failed = RepoUpdate::Failed { error: "GitHub API answered 502".into(), next_fetch_at: t2 };
    s.record_repository("a/two", failed, t2).await.unwrap();
    assert_eq!(s.repository("a/two").await.unwrap().unwrap().last_error.as_deref(), Some("GitHub API answered 502"));
    s.record_repository("a/two", RepoUpdate::Gone, t2).await.unwrap();
    let two = s.repository("a/two").await.unwrap().unwrap();
    assert_eq!((two.status, two.etag), (RepoStatus::Gone, None));
    assert!(s.due_repositories(t2 + Duration::days(30), 10).await.unwrap().iter().all(|r| r.key != "a/two"));
    // A gone code link leaves the paper's summary; the other link stands in.
    s.record_repository("a/one", RepoUpdate::Gone, t2).await.unwrap();
    let p = s.get_paper(&id("2601.00011")).await.unwrap().unwrap();
    assert_eq!(p.signals.github_repo, None);
}

async fn trending_ranks_papers_with_any_signal_then_by_source_rank(db: TestDb) {
    let s = &db.store;
    let now = Utc::now();
    let day = today() - Duration::days(1);
    let ids = ["2601.00021", "2601.00022", "2601.00023", "2601.00024", "2601.00025"];
    let papers: Vec<Paper> = ids.iter().map(|i| paper(i, &format!("Paper {i}"), day)).collect();
    s.upsert_papers(&papers).await.unwrap();
    // 21: Hugging Face upvotes; 22: a repository gaining 300 stars this
    // week; 23 and 24: only a rank on a recorded page; 25: nothing.
    let hf = HfSignal { upvotes: 10, comments: Some(2), ai_keywords: vec!["diffusion".into()], ..HfSignal::default() };
    assert!(s.record_hf(&id("2601.00021"), &hf, now).await.unwrap());
    assert!(!s.record_hf(&id("2601.09999"), &hf, now).await.unwrap());
    s.link_repositories(&id("2601.00022"), &[link("hot/repo", LinkSource::CodeLink)], now).await.unwrap();
    s.record_repository("hot/repo", fresh("hot/repo", 2_000, 300, now), now).await.unwrap();
    assert!(s.record_source_rank(&id("2601.00023"), "Trending Papers", 2, now).await.unwrap());
    assert!(s.record_source_rank(&id("2601.00024"), "Trending Papers", 1, now).await.unwrap());

    let q = FeedQuery { sort: FeedSort::Trending, limit: 10, ..FeedQuery::default() };
    let page = s.feed(&q).await.unwrap();
    let order: Vec<String> = page.items.iter().map(|p| p.paper.id.to_string()).collect();
    assert_eq!(order, ["2601.00022", "2601.00021", "2601.00024", "2601.00023", "2601.00025"]);
    assert_eq!(page.total, 5);
    let p21 = &page.items[1].signals;
    assert_eq!((p21.hf_upvotes, p21.hf_comments), (Some(10), Some(2)));
    assert_eq!(page.items[2].signals.source_rank, Some(SourceRank { page: "Trending Papers".into(), rank: 1 }));
    // Paging crosses from the ranked papers to the rest.
    let second = s.feed(&FeedQuery { offset: 3, limit: 2, ..q.clone() }).await.unwrap();
    let order: Vec<String> = second.items.iter().map(|p| p.paper.id.to_string()).collect();
    assert_eq!(order, ["2601.00023", "2601.00025"]);
    // The weights come from the store's settings: upvotes off, stars off.
    let flat =
        db.store.clone().with_signal_weights(paperboy_core::trending::SignalWeights::new(1.0, 0.0, 0.0).unwrap());
    let page = flat.feed(&q).await.unwrap();
    let order: Vec<String> = page.items.iter().map(|p| p.paper.id.to_string()).collect();
    assert_eq!(&order[..2], ["2601.00024", "2601.00023"], "only the source ranks are left to order by");
    // A hidden paper leaves the trending feed with its signals.
    s.set_paper_hidden(&id("2601.00022"), true).await.unwrap();
    let page = s.feed(&q).await.unwrap();
    assert_eq!(page.items[0].paper.id.to_string(), "2601.00021");
}

async fn has_code_filters_feeds(db: TestDb) {
    let s = &db.store;
    let now = Utc::now();
    let mut own = paper("2601.00031", "Own link", today());
    own.links.code = Some("https://gitlab.com/lab/code".into());
    let linked = paper("2601.00032", "Linked", today());
    let none = paper("2601.00033", "None", today());
    s.upsert_papers(&[own, linked, none]).await.unwrap();
    s.link_repositories(&id("2601.00032"), &[link("lab/linked", LinkSource::Abstract)], now).await.unwrap();
    for sort in [FeedSort::New, FeedSort::Top, FeedSort::Trending] {
        let q = FeedQuery { sort, has_code: true, limit: 10, ..FeedQuery::default() };
        let page = s.feed(&q).await.unwrap();
        let mut ids: Vec<String> = page.items.iter().map(|p| p.paper.id.to_string()).collect();
        ids.sort();
        assert_eq!(ids, ["2601.00031", "2601.00032"], "{sort:?}");
        assert_eq!(page.total, 2);
    }
    let all = s.feed(&FeedQuery { limit: 10, ..FeedQuery::default() }).await.unwrap();
    assert_eq!(all.total, 3);
}

async fn code_trending_is_weekly_stars_within_the_age_limit(db: TestDb) {
    let s = &db.store;
    let now = Utc::now();
    let papers = [
        paper("2601.00041", "Warm", today() - Duration::days(2)),
        paper("2601.00042", "Old and hot", today() - Duration::days(170)),
        paper("2601.00043", "Too old", today() - Duration::days(200)),
        paper("2601.00044", "No repo", today()),
        paper("2601.00045", "Big and quiet", today() - Duration::days(30)),
    ];
    s.upsert_papers(&papers).await.unwrap();
    for (paper, repo, stars, weekly) in [
        ("2601.00041", "a/warm", 400, 30),
        ("2601.00042", "a/hot", 20_000, 900),
        ("2601.00043", "a/old", 90_000, 5_000),
        ("2601.00045", "a/quiet", 40_000, 0),
    ] {
        s.link_repositories(&id(paper), &[link(repo, LinkSource::CodeLink)], now).await.unwrap();
        s.record_repository(repo, fresh(repo, stars, weekly, now), now).await.unwrap();
    }
    let q = FeedQuery { limit: 10, ..FeedQuery::default() };
    let page = s.code_trending(&q).await.unwrap();
    let order: Vec<String> = page.items.iter().map(|p| p.paper.id.to_string()).collect();
    assert_eq!(order, ["2601.00042", "2601.00041", "2601.00045"]);
    assert_eq!(page.total, 3);
    assert_eq!(page.items[0].signals.stars_this_week, Some(900));
    let second = s.code_trending(&FeedQuery { offset: 1, limit: 1, ..q.clone() }).await.unwrap();
    assert_eq!(second.items[0].paper.id.to_string(), "2601.00041");
    // A longer age limit lets the old paper in, first.
    let long = db.store.clone().with_code_trending_days(365);
    assert_eq!(long.code_trending(&q).await.unwrap().items[0].paper.id.to_string(), "2601.00043");
}

async fn source_state_and_census_read_back(db: TestDb) {
    let s = &db.store;
    let now = Utc::now();
    let empty = s.source_state("github").await.unwrap();
    assert_eq!(empty, SourceState { source: "github".into(), ..SourceState::default() });
    let state = SourceState {
        source: "github".into(),
        last_run_at: Some(now),
        last_ok_at: None,
        last_note: Some("3 fetched, 1 not modified".into()),
        last_error: None,
        waiting_until: Some(now + Duration::minutes(40)),
        waiting_why: Some("rate limit: 0 requests left until the reset".into()),
        cursor: 42,
    };
    s.save_source_state(&state).await.unwrap();
    let back = s.source_state("github").await.unwrap();
    assert_eq!(back.cursor, 42);
    assert_eq!(back.waiting_until.map(|t| t.timestamp()), state.waiting_until.map(|t| t.timestamp()));
    assert_eq!(back.waiting_why, state.waiting_why);
    s.save_source_state(&SourceState { cursor: 43, waiting_until: None, ..state }).await.unwrap();
    let back = s.source_state("github").await.unwrap();
    assert_eq!((back.cursor, back.waiting_until), (43, None));

    s.upsert_papers(&[paper("2601.00051", "Fifty-one", today())]).await.unwrap();
    s.link_repositories(
        &id("2601.00051"),
        &[link("c/one", LinkSource::CodeLink), link("c/two", LinkSource::Comment)],
        now,
    )
    .await
    .unwrap();
    s.record_repository("c/two", RepoUpdate::Gone, now).await.unwrap();
    s.record_hf(&id("2601.00051"), &HfSignal { upvotes: 1, ..HfSignal::default() }, now).await.unwrap();
    let census = s.repo_census(now).await.unwrap();
    assert_eq!((census.total, census.due, census.never_fetched, census.gone, census.hf_papers), (2, 1, 1, 1, 1));
}
