//! The harvest log on both backends (a SQLite file and a PostgreSQL
//! database, see `common`): counts add up per page, the checkpoint is kept,
//! an unfinished run is resumed (and marked interrupted), a completed or
//! differently-argued run is not, and runs starting at once on several
//! connection pools never resume the same checkpoint twice.

use crate::common;

use chrono::NaiveDate;
use common::TestDb;
use paperboy_store::Harvests;
use paperboy_store::{HarvestArgs, HarvestCounts, HarvestStatus, HarvestTrigger};

on_both_backends!(
    pages_add_up_and_the_run_finishes,
    an_unfinished_run_is_resumed_from_its_checkpoint,
    runs_starting_together_take_over_a_checkpoint_once,
);

fn args(set: Option<&str>) -> HarvestArgs {
    HarvestArgs {
        base_url: "http://127.0.0.1:9/oai".into(),
        metadata_prefix: "arXivRaw".into(),
        set: set.map(str::to_string),
        from: NaiveDate::from_ymd_opt(2024, 3, 1),
        until: None,
    }
}

async fn pages_add_up_and_the_run_finishes(db: TestDb) {
    let store = &db.store;
    let run = store.start_harvest(&args(Some("cs")), HarvestTrigger::Manual, true).await.unwrap();
    assert_eq!(run.status, HarvestStatus::Running);
    assert_eq!((run.start_token.as_deref(), run.pages), (None, 0));
    let page =
        HarvestCounts { records: 10, inserted: 6, updated: 1, unchanged: 1, filtered: 1, deleted: 0, rejected: 1 };
    store.record_harvest_page(run.id, &page, Some("t|1"), Some(20)).await.unwrap();
    store.record_harvest_page(run.id, &page, None, None).await.unwrap();
    let done = store.finish_harvest(run.id, None).await.unwrap();
    assert_eq!(done.status, HarvestStatus::Completed);
    assert_eq!(done.pages, 2);
    assert_eq!(done.counts.records, 20);
    assert_eq!(done.counts.inserted, 12);
    assert_eq!(done.errors, 2, "rejected records count as errors");
    assert_eq!(done.complete_list_size, Some(20));
    assert_eq!(done.next_token, None);
    assert!(done.finished_at.is_some());
    assert_eq!(done.args, args(Some("cs")));
    let again = store.start_harvest(&args(Some("cs")), HarvestTrigger::Manual, true).await.unwrap();
    assert_eq!(again.start_token, None, "a completed run is not resumed");
    assert_eq!(again.resumed_from, None);
    let last = store.last_completed_harvest("http://127.0.0.1:9/oai", "arXivRaw", Some("cs")).await.unwrap();
    assert_eq!(last.map(|r| r.id), Some(run.id));
}

async fn an_unfinished_run_is_resumed_from_its_checkpoint(db: TestDb) {
    let store = db.reopen().await;
    let first = store.start_harvest(&args(None), HarvestTrigger::Schedule, true).await.unwrap();
    let page = HarvestCounts { records: 5, inserted: 5, ..Default::default() };
    store.record_harvest_page(first.id, &page, Some("tok|5"), None).await.unwrap();
    drop(store); // the process dies here
    let store = db.reopen().await;
    // Other arguments do not take it over.
    let other = store.start_harvest(&args(Some("math")), HarvestTrigger::Manual, true).await.unwrap();
    assert_eq!(other.start_token, None);
    let second = store.start_harvest(&args(None), HarvestTrigger::Manual, true).await.unwrap();
    assert_eq!(second.resumed_from, Some(first.id));
    assert_eq!(second.start_token.as_deref(), Some("tok|5"));
    assert_eq!(second.next_token.as_deref(), Some("tok|5"));
    let old = store.harvest_run(first.id).await.unwrap().unwrap();
    assert_eq!(old.status, HarvestStatus::Interrupted);
    assert!(old.last_error.unwrap().contains(&format!("run {}", second.id)));
    // A failed run keeps its checkpoint and is resumed too; without `resume`, nothing is.
    let failed = store.finish_harvest(second.id, Some("malformed page")).await.unwrap();
    assert_eq!((failed.status, failed.errors), (HarvestStatus::Failed, 1));
    assert_eq!(failed.last_error.as_deref(), Some("malformed page"));
    let fresh = store.start_harvest(&args(None), HarvestTrigger::Manual, false).await.unwrap();
    assert_eq!(fresh.start_token, None);
    let recent = store.recent_harvests(10).await.unwrap();
    assert_eq!(recent.first().map(|r| r.id), Some(fresh.id), "newest first");
    assert_eq!(recent.len(), 4);
}

async fn runs_starting_together_take_over_a_checkpoint_once(db: TestDb) {
    let first = db.store.start_harvest(&args(None), HarvestTrigger::Schedule, true).await.unwrap();
    let page = HarvestCounts { records: 5, inserted: 5, ..Default::default() };
    db.store.record_harvest_page(first.id, &page, Some("tok|5"), Some(50)).await.unwrap();
    let mut starts = Vec::new();
    for handle in db.handles(4).await {
        starts.push(tokio::spawn(async move {
            handle.start_harvest(&args(None), HarvestTrigger::Manual, true).await.unwrap()
        }));
    }
    let mut runs = Vec::new();
    for start in starts {
        runs.push(start.await.unwrap());
    }
    let from_first: Vec<_> = runs.iter().filter(|r| r.resumed_from == Some(first.id)).collect();
    assert_eq!(from_first.len(), 1, "one run takes the checkpoint over from the dead one");
    // Each later start takes over from the one before it: a chain, never a fork.
    let mut resumed: Vec<i64> = runs.iter().filter_map(|r| r.resumed_from).collect();
    resumed.sort();
    resumed.dedup();
    assert_eq!(resumed.len(), runs.len(), "no run is taken over twice");
    assert!(runs.iter().all(|r| r.start_token.as_deref() == Some("tok|5")));
    let old = db.store.harvest_run(first.id).await.unwrap().unwrap();
    assert_eq!(old.status, HarvestStatus::Interrupted);
    assert_eq!((old.pages, old.counts.records, old.complete_list_size), (1, 5, Some(50)));
    let running = db.store.recent_harvests(10).await.unwrap();
    assert_eq!(running.iter().filter(|r| r.status == HarvestStatus::Running).count(), 1, "only the newest runs");
    assert_eq!(running.len(), 5);
}
