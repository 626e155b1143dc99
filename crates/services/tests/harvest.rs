//! The harvester against a real local HTTP server replaying recorded
//! OAI-PMH responses (`tests/fixtures/harvest/`), into real SQLite files:
//! 503 + Retry-After, multi-page resumption, the 1,000-record arXivRaw page,
//! an empty result, an OAI error, a connection dropped mid-page, a malformed
//! page (run failed, checkpoint kept, resumed later), versions, and one
//! harvest at a time under the lease.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use paperboy_arxiv::{ArxivError, ArxivSettings, MetadataFormat};
use paperboy_core::PaperId;
use paperboy_services::harvest::{DEFAULT_CATEGORIES, HarvestError, HarvestSettings, harvest, in_categories};
use paperboy_services::lease::LeaseError;
use paperboy_store::{Catalog, Coordination, FeedQuery, HarvestStatus, HarvestTrigger, Harvests, SqlStore};
use paperboy_test_support::oai::{Replay, Reply, chain, fixture, raw_page, split_pages};

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// No pacing, short timeouts and backoffs: the server is local.
fn config(base: &str, format: MetadataFormat) -> HarvestSettings {
    HarvestSettings {
        client: ArxivSettings {
            base_url: base.to_string(),
            interval: Duration::ZERO,
            timeout: Duration::from_secs(10),
            max_retries: 2,
            backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(40),
            ..ArxivSettings::default()
        },
        format,
        set: None,
        from: Some(ymd(2008, 1, 1)),
        until: None,
        categories: Vec::new(),
        resume: true,
        trigger: HarvestTrigger::Manual,
        lease: Duration::from_secs(60),
    }
}

async fn open_store() -> (tempfile::TempDir, SqlStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::open_sqlite(&dir.path().join("harvest.db")).await.unwrap();
    (dir, store)
}

fn arxiv(id: &str) -> PaperId {
    PaperId::parse(id).unwrap()
}

#[tokio::test]
async fn a_503_with_retry_after_is_waited_out_then_the_page_is_stored() {
    // The recorded sequence: 503 "Retry after 10 seconds" (replayed with 1 s), then the page.
    let replay = Replay::start(vec![(
        String::new(),
        vec![
            Reply::Status {
                code: 503,
                headers: vec![("Retry-After".into(), "1".into()), ("Content-Type".into(), "text/html".into())],
                body: fixture("listrecords-should-list-identifiers-from-arxiv.0.xml"),
            },
            Reply::Xml(fixture("listrecords-should-list-identifiers-from-arxiv.1.xml")),
        ],
    )]);
    let (_dir, store) = open_store().await;
    let mut cfg = config(&replay.base, MetadataFormat::Arxiv);
    (cfg.from, cfg.until) = (Some(ymd(2015, 1, 1)), Some(ymd(2015, 1, 3)));
    let started = Instant::now();
    let run = harvest(&store, &cfg, |_| {}).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After was not honoured: {:?}", started.elapsed());
    assert_eq!(replay.requests().len(), 2);
    assert!(replay.requests()[0].contains("from=2015-01-01") && replay.requests()[0].contains("until=2015-01-03"));
    assert_eq!(run.status, HarvestStatus::Completed);
    assert_eq!((run.pages, run.counts.records, run.counts.inserted), (1, 2, 2));
    let p = store.get_paper(&arxiv("1412.8544")).await.unwrap().expect("stored");
    // Created Mon 2014-12-29 (date only): announced the next weekday.
    assert_eq!(p.paper.listed_on, ymd(2014, 12, 30));
}

#[tokio::test]
async fn resumption_tokens_are_followed_across_pages() {
    let pages = split_pages(&raw_page(), 4, "t");
    let replay = Replay::start(chain(&pages, "t"));
    let (_dir, store) = open_store().await;
    let cfg = config(&replay.base, MetadataFormat::ArxivRaw);
    let mut seen = Vec::new();
    let run = harvest(&store, &cfg, |p| seen.push((p.pages, p.counts.records, p.position))).await.unwrap();
    let tokens = replay.tokens();
    assert_eq!(tokens, vec![None, Some("t|1".into()), Some("t|2".into()), Some("t|3".into())]);
    assert!(
        replay.requests()[0].contains("metadataPrefix=arXivRaw") && replay.requests()[0].contains("from=2008-01-01")
    );
    assert_eq!(seen.len(), 4);
    assert_eq!(seen[3], (4, 1000, Some(1000)));
    assert_eq!(run.pages, 4);
    assert_eq!(run.counts.records, 1000);
    assert_eq!(run.complete_list_size, Some(1000));
    assert_eq!(run.next_token, None);
    assert_eq!(store.count_papers().await.unwrap(), run.counts.inserted);
    assert_eq!(run.counts.inserted + run.counts.rejected, 1000);
    // The same harvest again: a new run (the last one completed), nothing new.
    let again = harvest(&store, &cfg, |_| {}).await.unwrap();
    assert_ne!(again.id, run.id);
    assert_eq!(again.resumed_from, None);
    assert_eq!(again.counts.inserted, 0);
    assert_eq!(again.counts.unchanged, run.counts.inserted);
    assert_eq!(store.count_papers().await.unwrap(), run.counts.inserted, "nothing duplicated");
}

#[tokio::test]
async fn the_thousand_record_arxivraw_page_is_filtered_dated_and_withdrawals_marked() {
    let pages = split_pages(&raw_page(), 1, "t");
    let replay = Replay::start(chain(&pages, "t"));
    let (_dir, store) = open_store().await;
    let mut cfg = config(&replay.base, MetadataFormat::ArxivRaw);
    cfg.categories = vec!["quant-ph".into(), "math".into()];
    let run = harvest(&store, &cfg, |_| {}).await.unwrap();
    assert_eq!(run.counts.records, 1000);
    assert!(run.counts.filtered > 400, "{:?}", run.counts);
    assert!(run.counts.inserted > 100, "{:?}", run.counts);
    assert_eq!(run.counts.inserted + run.counts.filtered + run.counts.rejected, 1000);
    let feed = store.feed(&FeedQuery { limit: 1000, ..Default::default() }).await.unwrap();
    assert_eq!(feed.total, run.counts.inserted);
    assert!(feed.items.iter().all(|p| in_categories(&p.paper, &cfg.categories)));
    // v1 "Wed, 23 Jan 2008 21:06:41 GMT" is after Wednesday's 14:00 EST cut-off: listed Fri 25 Jan.
    let p = store.get_paper(&arxiv("0801.3673")).await.unwrap().expect("a quant-ph paper");
    assert_eq!(p.paper.listed_on, ymd(2008, 1, 25));
    // 0801.4138v2 is a withdrawal: kept and marked.
    let w = store.get_paper(&arxiv("0801.4138")).await.unwrap().expect("the withdrawn paper is stored");
    assert!(w.paper.withdrawn);
    assert_eq!(w.paper.version, Some(2));
    // With the default categories (cs, stat.ML), this 2008 physics-heavy page keeps little.
    let (_dir2, store2) = open_store().await;
    let cfg2 = HarvestSettings { categories: DEFAULT_CATEGORIES.iter().map(|c| c.to_string()).collect(), ..cfg };
    let run2 = harvest(&store2, &cfg2, |_| {}).await.unwrap();
    assert_eq!(store2.count_papers().await.unwrap(), run2.counts.inserted);
    assert!(run2.counts.filtered > 900, "{:?}", run2.counts);
}

#[tokio::test]
async fn no_records_match_is_an_empty_completed_run() {
    let replay = Replay::start(vec![(String::new(), vec![Reply::Xml(fixture("handmade-error-noRecordsMatch.xml"))])]);
    let (_dir, store) = open_store().await;
    let run = harvest(&store, &config(&replay.base, MetadataFormat::Arxiv), |_| {}).await.unwrap();
    assert_eq!(run.status, HarvestStatus::Completed);
    assert_eq!((run.pages, run.counts.records, run.errors), (1, 0, 0));
    assert_eq!(store.count_papers().await.unwrap(), 0);
}

#[tokio::test]
async fn an_oai_error_fails_the_run_with_a_clear_message() {
    let replay =
        Replay::start(vec![(String::new(), vec![Reply::Xml(fixture("handmade-error-badResumptionToken.xml"))])]);
    let (_dir, store) = open_store().await;
    let err = harvest(&store, &config(&replay.base, MetadataFormat::Arxiv), |_| {}).await.unwrap_err();
    assert!(
        matches!(&err, HarvestError::Fetch { source: ArxivError::Oai { code, .. }, .. } if code == "badResumptionToken")
    );
    let msg = err.to_string();
    assert!(msg.contains("badResumptionToken") && msg.contains("start the harvest again"), "{msg}");
    let run = store.harvest_run(err.run().unwrap()).await.unwrap().unwrap();
    assert_eq!(run.status, HarvestStatus::Failed);
    assert_eq!(run.errors, 1);
    assert!(run.last_error.unwrap().contains("badResumptionToken"));
    assert_eq!(replay.requests().len(), 1, "an OAI error is not retried");
}

#[tokio::test]
async fn a_connection_dropped_mid_page_is_retried() {
    let pages = split_pages(&raw_page(), 2, "t");
    let replay = Replay::start(chain(&pages, "t"));
    replay.set("t|1", vec![Reply::DropMidway(pages[1].clone()), Reply::Xml(pages[1].clone())]);
    let (_dir, store) = open_store().await;
    let run = harvest(&store, &config(&replay.base, MetadataFormat::ArxivRaw), |_| {}).await.unwrap();
    assert_eq!(replay.tokens(), vec![None, Some("t|1".into()), Some("t|1".into())]);
    assert_eq!((run.status, run.pages, run.counts.records), (HarvestStatus::Completed, 2, 1000));
    assert_eq!(store.count_papers().await.unwrap(), run.counts.inserted);
}

#[tokio::test]
async fn a_malformed_page_fails_the_run_keeps_the_checkpoint_and_a_rerun_resumes() {
    let pages = split_pages(&raw_page(), 3, "t");
    let replay = Replay::start(chain(&pages, "t"));
    let broken = String::from_utf8(pages[1].clone()).unwrap().replacen("</title>", "</titel>", 1);
    replay.set("t|1", vec![Reply::Xml(broken.into_bytes())]);
    let (_dir, store) = open_store().await;
    let cfg = config(&replay.base, MetadataFormat::ArxivRaw);
    let err = harvest(&store, &cfg, |_| {}).await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("page 2") && msg.contains("resumptionToken=t%7C1"), "names the page: {msg}");
    assert!(msg.contains("not well-formed"), "{msg}");
    let failed = store.harvest_run(err.run().unwrap()).await.unwrap().unwrap();
    assert_eq!(failed.status, HarvestStatus::Failed);
    assert_eq!(failed.pages, 1);
    assert_eq!(failed.next_token.as_deref(), Some("t|1"), "the checkpoint did not move past the broken page");
    let after_first = store.count_papers().await.unwrap();
    assert_eq!(after_first, failed.counts.inserted);
    // The server is fixed; the next run resumes from the checkpoint.
    replay.set("t|1", vec![Reply::Xml(pages[1].clone())]);
    let run = harvest(&store, &cfg, |_| {}).await.unwrap();
    assert_eq!(run.resumed_from, Some(failed.id));
    assert_eq!(run.start_token.as_deref(), Some("t|1"));
    assert_eq!(
        replay.tokens(),
        vec![None, Some("t|1".into()), Some("t|1".into()), Some("t|2".into())],
        "the first page is not fetched again"
    );
    assert_eq!(failed.counts.records + run.counts.records, 1000);
    assert_eq!(store.count_papers().await.unwrap(), failed.counts.inserted + run.counts.inserted);
}

fn one_record(versions: &[(u32, &str)], title: &str, comments: &str) -> Vec<u8> {
    let versions: String = versions
        .iter()
        .map(|(n, date)| format!("<version version='v{n}'><date>{date}</date><size>10kb</size></version>"))
        .collect();
    format!(
        "<?xml version='1.0' encoding='UTF-8'?>\n<OAI-PMH xmlns='http://www.openarchives.org/OAI/2.0/'>\
         <responseDate>2024-03-12T10:00:00Z</responseDate><request verb='ListRecords'>x</request><ListRecords>\
         <record><header><identifier>oai:arXiv.org:2403.01234</identifier><datestamp>2024-03-12</datestamp></header>\
         <metadata><arXivRaw xmlns='http://arxiv.org/OAI/arXivRaw/'><id>2403.01234</id>{versions}\
         <title>{title}</title><authors>Ada Lovelace and Alan Turing</authors><categories>cs.LG cs.AI</categories>\
         <comments>{comments}</comments><abstract>We study engines.</abstract></arXivRaw></metadata></record>\
         </ListRecords></OAI-PMH>\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn new_versions_update_keep_the_listing_day_and_withdrawals_are_marked() {
    let v1 = [(1, "Mon, 4 Mar 2024 15:00:00 GMT")];
    let v2 = [(1, "Mon, 4 Mar 2024 15:00:00 GMT"), (2, "Mon, 11 Mar 2024 20:00:00 GMT")];
    let v3 = [
        (1, "Mon, 4 Mar 2024 15:00:00 GMT"),
        (2, "Mon, 11 Mar 2024 20:00:00 GMT"),
        (3, "Tue, 12 Mar 2024 9:00:00 GMT"),
    ];
    let replay = Replay::start(vec![(String::new(), vec![Reply::Xml(one_record(&v1, "Engines", "8 pages"))])]);
    let (_dir, store) = open_store().await;
    let mut cfg = config(&replay.base, MetadataFormat::ArxivRaw);
    cfg.categories = DEFAULT_CATEGORIES.iter().map(|c| c.to_string()).collect();
    let id = arxiv("2403.01234");
    let first = harvest(&store, &cfg, |_| {}).await.unwrap();
    assert_eq!(first.counts.inserted, 1);
    let p = store.get_paper(&id).await.unwrap().unwrap();
    // Mon 10:00 EST: announced that evening, listed Tue 5 Mar.
    assert_eq!((p.paper.version, p.paper.listed_on), (Some(1), ymd(2024, 3, 5)));

    replay.set("", vec![Reply::Xml(one_record(&v2, "Engines, revised", "9 pages"))]);
    let second = harvest(&store, &cfg, |_| {}).await.unwrap();
    assert_eq!((second.counts.updated, second.counts.inserted), (1, 0));
    let p = store.get_paper(&id).await.unwrap().unwrap();
    assert_eq!((p.paper.version, p.paper.title.as_str()), (Some(2), "Engines, revised"));
    assert_eq!(p.paper.listed_on, ymd(2024, 3, 5), "a new version keeps the listing day");

    // An older version arriving late changes nothing.
    replay.set("", vec![Reply::Xml(one_record(&v1, "Engines", "8 pages"))]);
    let late = harvest(&store, &cfg, |_| {}).await.unwrap();
    assert_eq!(late.counts.unchanged, 1);
    assert_eq!(store.get_paper(&id).await.unwrap().unwrap().paper.version, Some(2));

    // A withdrawal is a new version: the paper is marked, not deleted.
    replay
        .set("", vec![Reply::Xml(one_record(&v3, "Engines, revised", "This paper has been withdrawn by the authors"))]);
    harvest(&store, &cfg, |_| {}).await.unwrap();
    let p = store.get_paper(&id).await.unwrap().expect("still there");
    assert!(p.paper.withdrawn);
    assert_eq!((p.paper.version, p.paper.listed_on), (Some(3), ymd(2024, 3, 5)));
    assert_eq!(store.count_papers().await.unwrap(), 1);
}

#[tokio::test]
async fn the_schedule_waits_for_its_time_and_stops_when_told() {
    use paperboy_core::schedule::{Days, Schedule};
    use paperboy_services::jobs::Supervisor;
    use paperboy_services::jobs::harvest::Harvest;
    let replay = Replay::start(Vec::new());
    let (_dir, store) = open_store().await;
    let store = std::sync::Arc::new(store);
    // Due in about a day: nothing may be requested before the stop.
    let at = (chrono::Utc::now() - chrono::Duration::minutes(5)).format("%H:%M").to_string();
    let schedule = Schedule::parse(&at, "UTC", Days::Every).unwrap();
    let mut jobs = Supervisor::new(store.clone());
    jobs.register(Harvest::new(config(&replay.base, MetadataFormat::Arxiv), schedule));
    let running = jobs.start();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let forced = tokio::time::timeout(Duration::from_secs(5), running.shutdown(Duration::from_secs(5)))
        .await
        .expect("the schedule stops promptly");
    assert!(forced.is_empty(), "the harvest job stopped when told");
    assert!(replay.requests().is_empty());
    assert!(store.recent_harvests(10).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_harvest_job_harvests_when_a_manual_clock_reaches_its_time() {
    use paperboy_core::schedule::{Days, Schedule};
    use paperboy_services::jobs::harvest::Harvest;
    use paperboy_services::jobs::{ManualClock, Outcome, Supervisor};
    let pages = split_pages(&raw_page(), 2, "m");
    let replay = Replay::start(chain(&pages, "m"));
    let (_dir, store) = open_store().await;
    let store = std::sync::Arc::new(store);
    let start = chrono::Utc::now();
    let clock = std::sync::Arc::new(ManualClock::new(start));
    let at = (start + chrono::Duration::hours(3)).format("%H:%M").to_string();
    let mut jobs = Supervisor::new(store.clone()).with_clock(clock.clone());
    jobs.register(Harvest::new(
        config(&replay.base, MetadataFormat::ArxivRaw),
        Schedule::parse(&at, "UTC", Days::Every).unwrap(),
    ));
    let running = jobs.start();
    let board = running.status();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(replay.requests().is_empty(), "not before its time");
    clock.advance(chrono::Duration::hours(3));
    let deadline = Instant::now() + Duration::from_secs(30);
    while board.get("harvest").unwrap().runs == 0 {
        assert!(Instant::now() < deadline, "the harvest never ran: {:?}", board.snapshot());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let status = board.get("harvest").unwrap();
    assert!(matches!(&status.last_outcome, Some(Outcome::Done(note)) if note.contains("2 pages")), "{status:?}");
    let runs = store.recent_harvests(10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].status, runs[0].trigger, runs[0].pages),
        (HarvestStatus::Completed, HarvestTrigger::Schedule, 2)
    );
    assert!(running.shutdown(Duration::from_secs(5)).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_harvest_is_refused_while_the_first_holds_the_lease() {
    let pages = split_pages(&raw_page(), 2, "l");
    let replay = Replay::start(chain(&pages, "l"));
    // Page 2 hangs once: the first harvest waits out a 2 s timeout, twice its
    // 1 s lease, so only renewals keep the lease its own.
    replay.set("l|1", vec![Reply::Hang, Reply::Xml(pages[1].clone())]);
    let (_dir, store) = open_store().await;
    let store = std::sync::Arc::new(store);
    let mut cfg = config(&replay.base, MetadataFormat::ArxivRaw);
    cfg.lease = Duration::from_secs(1);
    cfg.client.timeout = Duration::from_secs(2);
    let first = {
        let (store, cfg) = (store.clone(), cfg.clone());
        tokio::spawn(async move { harvest(store.as_ref(), &cfg, |_| {}).await })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !replay.tokens().contains(&Some("l|1".to_string())) {
        assert!(Instant::now() < deadline, "the first harvest never asked for page 2");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let holder = store.lease("harvest").await.unwrap().expect("the first harvest holds the lease").holder;
    for _ in 0..2 {
        match harvest(store.as_ref(), &cfg, |_| {}).await {
            Err(HarvestError::Lease(LeaseError::Busy { holder: h, .. })) => assert_eq!(h, holder),
            other => panic!("a second harvest ran beside the first: {other:?}"),
        }
        // Past the first lease length: still held, because it is renewed.
        tokio::time::sleep(Duration::from_millis(1200)).await;
    }
    let done = first.await.unwrap().expect("the first harvest completes");
    assert_eq!(done.status, HarvestStatus::Completed);
    assert_eq!(done.pages, 2);
    assert_eq!(store.recent_harvests(10).await.unwrap().len(), 1, "the refused harvests recorded no run");
    assert_eq!(store.lease("harvest").await.unwrap(), None, "released at the end");
    let next = harvest(store.as_ref(), &cfg, |_| {}).await.expect("the lease is free again");
    assert_eq!(next.status, HarvestStatus::Completed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_firing_together_harvest_once_and_take_over_from_a_dead_one() {
    use paperboy_services::harvest::harvest_when_fired;
    let pages = split_pages(&raw_page(), 3, "s");
    let replay = Replay::start(chain(&pages, "s"));
    // Page 3 hangs the first time: its harvester dies while waiting for it.
    replay.set("s|2", vec![Reply::Hang, Reply::Xml(pages[2].clone())]);
    let (_dir, store) = open_store().await;
    let store = std::sync::Arc::new(store);
    let mut cfg = config(&replay.base, MetadataFormat::ArxivRaw);
    cfg.trigger = HarvestTrigger::Schedule;
    cfg.lease = Duration::from_secs(1);
    cfg.client.timeout = Duration::from_secs(60);
    let fired = chrono::Utc::now();
    let server = |store: std::sync::Arc<SqlStore>, cfg: HarvestSettings| {
        tokio::spawn(async move { harvest_when_fired(store.as_ref(), &cfg, fired).await })
    };
    let first = server(store.clone(), cfg.clone());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let run = store.harvest_run(1).await.unwrap();
        if replay.tokens().contains(&Some("s|2".to_string())) && run.is_some_and(|r| r.next_token.is_some()) {
            break;
        }
        assert!(Instant::now() < deadline, "the first server never reached page 3");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    while store.harvest_run(1).await.unwrap().unwrap().next_token.as_deref() != Some("s|2") {
        assert!(Instant::now() < deadline, "page 2 was never checkpointed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Two more servers fire and find the lease taken; then the first dies.
    let (second, third) = (server(store.clone(), cfg.clone()), server(store.clone(), cfg.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(store.recent_harvests(10).await.unwrap().len(), 1, "the others wait");
    first.abort();
    for waiter in [second, third] {
        tokio::time::timeout(Duration::from_secs(30), waiter)
            .await
            .expect("the waiters finish")
            .unwrap()
            .expect("the waiters' firing ends without an error");
    }
    let runs = store.recent_harvests(10).await.unwrap();
    assert_eq!(runs.len(), 2, "one server took over, the other saw it done: {runs:?}");
    assert_eq!(runs[1].status, HarvestStatus::Interrupted, "the dead server's run, taken over");
    assert_eq!((runs[0].status, runs[0].resumed_from), (HarvestStatus::Completed, Some(runs[1].id)));
    assert_eq!(
        replay.tokens(),
        vec![None, Some("s|1".into()), Some("s|2".into()), Some("s|2".into())],
        "the takeover asked for the checkpointed page only"
    );
    assert_eq!(runs[0].counts.records + runs[1].counts.records, 1000);
}
