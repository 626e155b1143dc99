//! The catalog on both backends (a SQLite file and a PostgreSQL database,
//! see `common`): upsert rules, merges, feeds, neighbours, the change feed,
//! and re-opening (migrations are idempotent).

use crate::common;

use chrono::NaiveDate;
use common::TestDb;
use paperboy_core::{FeedSort, Paper, PaperId};
use paperboy_store::{Catalog, FeedQuery, Moderation, PaperBatch, UpsertOutcome};

on_both_backends!(
    upsert_inserts_updates_and_recognises_unchanged,
    arxiv_records_take_over_local_papers_with_the_same_title,
    feeds_filter_by_range_and_category_and_page,
    reopening_keeps_data_and_skips_applied_migrations,
    the_change_feed_records_every_change_in_order,
    a_paper_batch_upserts_like_a_slice_of_papers,
    a_batch_behaves_like_one_upsert_at_a_time,
    concurrent_writers_insert_each_paper_once_and_keep_the_change_feed_whole,
    open_picks_the_backend_from_the_location,
    papers_by_ids_keeps_the_order_asked_and_leaves_out_unknown_and_hidden,
);

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn paper(id: &str, title: &str, listed: &str, cats: &[&str]) -> Paper {
    let id = if id.starts_with("pb-") { PaperId::local_from_title(title) } else { PaperId::parse(id).unwrap() };
    let mut p = Paper::new(id, title, day(listed));
    p.authors = vec!["Ada Lovelace".into(), "Alan Turing".into()];
    p.abstract_text = format!("Abstract of {title}.");
    p.categories = cats.iter().map(|c| c.to_string()).collect();
    p.version = Some(1);
    p.normalize();
    p
}

async fn upsert_inserts_updates_and_recognises_unchanged(db: TestDb) {
    let store = &db.store;
    let a = paper("2503.00001", "Alpha", "2025-03-03", &["cs.CL"]);
    let b = paper("2503.00002", "Beta", "2025-03-03", &["cs.CV", "cs.AI"]);
    let out = store.upsert_papers(&[a.clone(), b.clone()]).await.unwrap();
    assert_eq!(out, vec![UpsertOutcome::Inserted, UpsertOutcome::Inserted]);
    assert_eq!(store.upsert_papers(std::slice::from_ref(&a)).await.unwrap(), vec![UpsertOutcome::Unchanged]);

    // A new version updates the record but keeps its feed day.
    let mut a2 = a.clone();
    a2.version = Some(2);
    a2.title = "Alpha, revised".into();
    a2.listed_on = day("2025-04-01");
    assert_eq!(store.upsert_papers(&[a2]).await.unwrap(), vec![UpsertOutcome::Updated]);
    let got = store.get_paper(&a.id).await.unwrap().unwrap();
    assert_eq!(got.paper.version, Some(2));
    assert_eq!(got.paper.title, "Alpha, revised");
    assert_eq!(got.paper.listed_on, day("2025-03-03"));
    assert_eq!(got.paper.authors, vec!["Ada Lovelace", "Alan Turing"]);

    // An older version never overwrites a newer one.
    let mut stale = a.clone();
    stale.title = "Alpha, stale".into();
    assert_eq!(store.upsert_papers(&[stale]).await.unwrap(), vec![UpsertOutcome::Unchanged]);
    assert_eq!(store.get_paper(&a.id).await.unwrap().unwrap().paper.title, "Alpha, revised");
    assert_eq!(store.count_papers().await.unwrap(), 2);
}

async fn arxiv_records_take_over_local_papers_with_the_same_title(db: TestDb) {
    let store = &db.store;
    let local = paper("pb-", "Monotone deep Boltzmann machines", "2026-03-11", &[]);
    assert!(local.id.is_local());
    assert_eq!(store.upsert_papers(std::slice::from_ref(&local)).await.unwrap(), vec![UpsertOutcome::Inserted]);
    let arxiv = paper("2106.00001", "Monotone Deep Boltzmann Machines.", "2021-06-01", &["cs.LG"]);
    assert_eq!(store.upsert_papers(std::slice::from_ref(&arxiv)).await.unwrap(), vec![UpsertOutcome::Merged]);
    assert!(store.get_paper(&local.id).await.unwrap().is_none());
    let merged = store.get_paper(&arxiv.id).await.unwrap().unwrap();
    assert_eq!(merged.paper.listed_on, day("2026-03-11"), "the merged paper keeps its feed day");
    // Importing the listing again does not bring the local copy back.
    assert_eq!(store.upsert_papers(&[local]).await.unwrap(), vec![UpsertOutcome::Unchanged]);
    assert_eq!(store.count_papers().await.unwrap(), 1);
}

async fn feeds_filter_by_range_and_category_and_page(db: TestDb) {
    let store = &db.store;
    let mut batch = Vec::new();
    for i in 0..25 {
        let d = if i < 10 { "2025-03-03" } else { "2025-03-05" };
        let cats: &[&str] = if i % 2 == 0 { &["cs.CV"] } else { &["cs.CL", "cs.CV"] };
        batch.push(paper(&format!("2503.{:05}", i + 1), &format!("Paper {i}"), d, cats));
    }
    batch.push(paper("hep-th/9901001", "Old style", "1999-01-04", &["hep-th"]));
    store.upsert_papers(&batch).await.unwrap();

    let q =
        FeedQuery { from: Some(day("2025-03-05")), until: Some(day("2025-03-06")), limit: 10, ..Default::default() };
    let page = store.feed(&q).await.unwrap();
    assert_eq!(page.total, 15);
    assert_eq!(page.items.len(), 10);
    assert_eq!(page.items[0].paper.id.to_string(), "2503.00025", "newest id first");
    let page2 = store.feed(&FeedQuery { offset: 10, ..q.clone() }).await.unwrap();
    assert_eq!(page2.items.len(), 5);

    let cl = store.feed(&FeedQuery { category: Some("cs.CL".into()), ..q.clone() }).await.unwrap();
    assert_eq!(cl.total, 7, "cross-listed papers match");
    let shouted = store.feed(&FeedQuery { category: Some("CS.cl".into()), ..q.clone() }).await.unwrap();
    assert_eq!(shouted.total, 7, "categories match ignoring ASCII case on both backends");
    let archive = store.feed(&FeedQuery { category: Some("hep-th".into()), ..Default::default() }).await.unwrap();
    assert_eq!(archive.total, 0, "hep-th is matched as a category, archive filters need no dot");
    let hep = store.feed(&FeedQuery { category: Some("hep-th".to_string() + ".x"), ..Default::default() }).await;
    assert_eq!(hep.unwrap().total, 0);
    let wild = store.feed(&FeedQuery { category: Some("%".into()), ..Default::default() }).await.unwrap();
    assert_eq!(wild.total, 0, "LIKE wildcards typed by users match nothing");
    let all = store.feed(&FeedQuery { sort: FeedSort::New, limit: 100, ..Default::default() }).await.unwrap();
    assert_eq!(all.total, 26);
    let old = store.get_paper(&PaperId::parse("hep-th/9901001v2").unwrap()).await.unwrap().unwrap();
    assert_eq!(old.paper.title, "Old style");

    assert_eq!(store.latest_listing_date().await.unwrap(), Some(day("2025-03-05")));
    let (prev, next) = store.neighbour_dates(day("2025-03-04")).await.unwrap();
    assert_eq!((prev, next), (Some(day("2025-03-03")), Some(day("2025-03-05"))));
}

async fn reopening_keeps_data_and_skips_applied_migrations(db: TestDb) {
    db.store.upsert_papers(&[paper("2503.00001", "Alpha", "2025-03-03", &["cs.CL"])]).await.unwrap();
    let store = db.reopen().await;
    assert_eq!(store.count_papers().await.unwrap(), 1);
    let n = db.count("SELECT COUNT(*) FROM schema_migrations").await;
    assert_eq!(n, db.migrations() as i64, "{}: each migration applied once", store.backend_name());
}

async fn the_change_feed_records_every_change_in_order(db: TestDb) {
    let store = &db.store;
    assert_eq!(store.last_change_seq().await.unwrap(), 0);
    let local = paper("pb-", "Generative Marginalization Models", "2026-03-11", &[]);
    let a = paper("2503.00001", "Alpha", "2025-03-03", &["cs.CL"]);
    store.upsert_papers(&[local.clone(), a.clone()]).await.unwrap();
    // Unchanged records add nothing to the feed.
    store.upsert_papers(std::slice::from_ref(&a)).await.unwrap();
    assert_eq!(store.last_change_seq().await.unwrap(), 2);
    // A merge reports the local id as gone and the arXiv id as changed.
    let merged = paper("2310.00001", "Generative marginalization models", "2023-10-02", &["cs.LG"]);
    store.upsert_papers(std::slice::from_ref(&merged)).await.unwrap();
    let changes = store.changes_since(0, 100).await.unwrap();
    let seqs: Vec<u64> = changes.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4]);
    assert_eq!(changes[0].paper_id, local.id);
    assert!(changes[0].paper.is_none(), "the local paper no longer exists under its id");
    assert_eq!(changes[1].paper.as_ref().unwrap().title, "Alpha");
    assert_eq!(changes[2].paper_id, local.id);
    assert_eq!(changes[3].paper_id, merged.id);
    assert_eq!(changes[3].paper.as_ref().unwrap().listed_on, day("2026-03-11"));
    let tail = store.changes_since(3, 100).await.unwrap();
    assert_eq!(tail.len(), 1);
    assert_eq!(store.changes_since(2, 1).await.unwrap().len(), 1, "limit is honoured");
}

async fn a_paper_batch_upserts_like_a_slice_of_papers(db: TestDb) {
    let other = db.another().await;
    let (by_slice, by_batch) = (&db.store, &other.store);
    let a = paper("2503.00001", "Alpha", "2025-03-03", &["cs.CL"]);
    let mut a2 = a.clone();
    a2.version = Some(2);
    let local = paper("pb-", "Gamma rays", "2026-03-11", &[]);
    let arxiv_gamma = paper("2503.00003", "Gamma Rays", "2025-03-05", &["astro-ph.HE"]);
    let mut papers = vec![a.clone(), a, a2, local, arxiv_gamma];
    papers.extend((10..260).map(|i| paper(&format!("2503.{i:05}"), &format!("Paper {i}"), "2025-03-04", &[])));
    for _ in 0..2 {
        let expected = by_slice.upsert_papers(&papers).await.unwrap();
        let batch: PaperBatch = papers.iter().cloned().collect();
        assert_eq!(batch.papers(), &papers[..]);
        let store: &dyn Catalog = by_batch.database();
        assert_eq!(store.upsert_batch(batch).await.unwrap(), expected);
    }
    let (x, y) = (by_slice.changes_since(0, 1000).await.unwrap(), by_batch.changes_since(0, 1000).await.unwrap());
    assert_eq!(x.len(), y.len());
    for (x, y) in x.iter().zip(&y) {
        assert_eq!((x.seq, &x.paper_id, &x.paper), (y.seq, &y.paper_id, &y.paper));
    }
}

async fn a_batch_behaves_like_one_upsert_at_a_time(db: TestDb) {
    let store = &db.store;
    let a = paper("2503.00001", "Alpha", "2025-03-03", &["cs.CL"]);
    let mut a2 = a.clone();
    a2.version = Some(2);
    a2.title = "Alpha two".into();
    let local = paper("pb-", "Gamma rays", "2026-03-11", &[]);
    let arxiv_gamma = paper("2503.00003", "Gamma Rays", "2025-03-05", &["astro-ph.HE"]);
    let many: Vec<Paper> =
        (10..110).map(|i| paper(&format!("2503.{i:05}"), &format!("Paper {i}"), "2025-03-04", &[])).collect();
    let mut batch = vec![a.clone(), a.clone(), a2, local, arxiv_gamma.clone()];
    batch.extend(many.iter().cloned());
    let out = store.upsert_papers(&batch).await.unwrap();
    use UpsertOutcome::*;
    assert_eq!(&out[..5], &[Inserted, Unchanged, Updated, Inserted, Merged]);
    assert!(out[5..].iter().all(|o| *o == Inserted));
    assert_eq!(store.count_papers().await.unwrap(), 102);
    assert_eq!(store.get_paper(&a.id).await.unwrap().unwrap().paper.title, "Alpha two");
    assert_eq!(store.get_paper(&arxiv_gamma.id).await.unwrap().unwrap().paper.listed_on, day("2026-03-11"));
    let got = store.get_paper(&many[42].id).await.unwrap().unwrap().paper;
    assert_eq!(got, many[42], "a paper from a multi-row insert reads back whole");
    // Every insert and update is in the change feed.
    let changes = store.changes_since(0, 1000).await.unwrap();
    assert_eq!(changes.len(), 1 + 1 + 1 + 2 + 100);
    // Again: all unchanged, nothing added to the feed.
    let again = store.upsert_papers(&many).await.unwrap();
    assert!(again.iter().all(|o| *o == Unchanged));
    assert_eq!(store.last_change_seq().await.unwrap(), changes.last().unwrap().seq);
}

/// Several writers (on PostgreSQL, several pools, as several servers would
/// have) upsert overlapping batches at once: every paper is inserted exactly
/// once, nothing fails, and the change feed has one entry per insert with
/// increasing sequence numbers.
async fn concurrent_writers_insert_each_paper_once_and_keep_the_change_feed_whole(db: TestDb) {
    let shared: Vec<Paper> =
        (1..=40).map(|i| paper(&format!("2504.{i:05}"), &format!("Shared {i}"), "2025-04-01", &["cs.LG"])).collect();
    let mut tasks = tokio::task::JoinSet::new();
    for (w, store) in db.handles(4).await.into_iter().enumerate() {
        let mut papers = shared.clone();
        papers.rotate_left(w * 10);
        papers.extend(
            (1..=10).map(|i| paper(&format!("2505.{:05}", w * 100 + i), &format!("Own {w} {i}"), "2025-05-01", &[])),
        );
        tasks.spawn(async move {
            let mut outcomes = Vec::new();
            for chunk in papers.chunks(7) {
                let out = store.upsert_papers(chunk).await.unwrap();
                outcomes.extend(chunk.iter().map(|p| p.id.clone()).zip(out));
            }
            outcomes
        });
    }
    let mut inserted = std::collections::HashMap::new();
    while let Some(done) = tasks.join_next().await {
        for (id, outcome) in done.unwrap() {
            match outcome {
                UpsertOutcome::Inserted => *inserted.entry(id).or_insert(0) += 1,
                UpsertOutcome::Unchanged => {}
                other => panic!("{id}: {other:?} for an identical record"),
            }
        }
    }
    assert_eq!(inserted.len(), 80, "every paper inserted");
    assert!(inserted.values().all(|&n| n == 1), "and only once: {inserted:?}");
    assert_eq!(db.store.count_papers().await.unwrap(), 80);
    let changes = db.store.changes_since(0, 1000).await.unwrap();
    assert_eq!(changes.len(), 80, "one change per insert");
    assert!(changes.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(db.store.last_change_seq().await.unwrap(), changes.last().unwrap().seq);
}

/// `paperboy_store::open` takes a PostgreSQL URL to PostgreSQL and anything
/// else to a SQLite file.
async fn open_picks_the_backend_from_the_location(db: TestDb) {
    use paperboy_store::{is_postgres_url, open};
    assert!(is_postgres_url("postgres://u@h/db") && is_postgres_url("PostgreSQL://u@h:5433/db?host=/run"));
    assert!(!is_postgres_url("data/paperboy.db") && !is_postgres_url("/var/lib/postgres/paperboy.db"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("picked.db");
    let sqlite = open(path.to_str().unwrap()).await.unwrap();
    assert!(sqlite.sqlite().is_some() && sqlite.backend_name() == "sqlite");
    assert!(path.exists(), "the SQLite file is created");
    if let Some(url) = db.pg_url() {
        db.store.upsert_papers(&[paper("2503.00001", "Alpha", "2025-03-03", &["cs.CL"])]).await.unwrap();
        let pg = open(&url).await.unwrap();
        assert!(pg.postgres().is_some() && pg.backend_name() == "postgres");
        assert_eq!(pg.count_papers().await.unwrap(), 1, "the same database as the test's store");
        let e = open("postgres://nobody@localhost:1/none").await.unwrap_err();
        assert!(e.to_string().contains("postgres://nobody@localhost:1/none"), "{e}");
    }
}

/// PostgreSQL only (one SQLite file has one process): servers that start
/// together on an empty database apply each migration once, under the
/// migration lock, and all of them open.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_servers_starting_together_migrate_once() {
    let Some(db) = TestDb::postgres().await else { return };
    let url = db.pg_url().unwrap();
    if let Some(pg) = db.store.postgres() {
        sqlx::raw_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public").execute(pg.pool()).await.unwrap();
    }
    assert_eq!(db.count("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'").await, 0, "emptied");
    let open = || paperboy_store::open(&url);
    let (a, b, c, d) = tokio::join!(open(), open(), open(), open());
    for opened in [a, b, c, d] {
        assert_eq!(opened.unwrap().backend_name(), "postgres");
    }
    let applied = db.count("SELECT COUNT(*) FROM schema_migrations").await;
    assert_eq!(applied, paperboy_store::POSTGRES_MIGRATIONS.len() as i64);
    db.store.upsert_papers(&[paper("2503.00001", "Alpha", "2025-03-03", &["cs.CL"])]).await.unwrap();
    assert_eq!(db.store.count_papers().await.unwrap(), 1, "the schema works");
}

async fn papers_by_ids_keeps_the_order_asked_and_leaves_out_unknown_and_hidden(db: TestDb) {
    let store = &db.store;
    // More papers than one `IN (...)` chunk holds, so the lookup is chunked.
    let papers: Vec<Paper> =
        (0..1_203).map(|i| paper(&format!("2603.{i:05}"), &format!("Paper {i}"), "2026-03-11", &["cs.LG"])).collect();
    store.upsert_papers(&papers).await.unwrap();
    store.set_paper_hidden(&PaperId::parse("2603.00007").unwrap(), true).await.unwrap();
    let ask: Vec<PaperId> = ["2603.01200", "2604.99999", "2603.00007", "2603.00003", "2603.01200", "2603.00600"]
        .iter()
        .map(|s| PaperId::parse(s).unwrap())
        .chain((0..1_100).map(|i| PaperId::parse(&format!("2603.{i:05}")).unwrap()))
        .collect();
    let got = store.papers_by_ids(&ask).await.unwrap();
    let ids: Vec<String> = got.iter().take(3).map(|p| p.paper.id.to_string()).collect();
    assert_eq!(ids, ["2603.01200", "2603.00003", "2603.00600"], "order asked; unknown, hidden and repeated left out");
    assert_eq!(got.len(), 3 + 1_100 - 3, "each visible paper once");
    assert!(got.iter().all(|p| p.paper.id.to_string() != "2603.00007"));
    assert!(store.papers_by_ids(&[]).await.unwrap().is_empty());
}
