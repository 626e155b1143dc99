//! The index follows the store: new papers become searchable after a sync,
//! merged-away papers disappear, and an index that lost uncommitted work (a
//! crash) catches up on the next sync without a manual step.

use std::sync::Arc;

use chrono::NaiveDate;
use paperboy_core::{Paper, PaperId};
use paperboy_search::{SearchEngine, SearchMode, SearchOptions};
use paperboy_services::sync_index;
use paperboy_store::{Catalog, SqlStore};

fn paper(id: &str, title: &str, abs: &str) -> Paper {
    let pid = if id.is_empty() { PaperId::local_from_title(title) } else { PaperId::parse(id).unwrap() };
    let mut p = Paper::new(pid, title, NaiveDate::from_ymd_opt(2026, 6, 2).unwrap());
    p.abstract_text = abs.into();
    p.authors = vec!["Grace Hopper".into()];
    p.categories = vec!["cs.CL".into()];
    p.normalize();
    p
}

fn keyword_ids(engine: &SearchEngine, q: &str) -> Vec<String> {
    let opts = SearchOptions { mode: SearchMode::Keyword, highlights: false, ..Default::default() };
    engine.search(q, &opts).unwrap().hits.into_iter().map(|h| h.id.to_string()).collect()
}

#[tokio::test]
async fn the_index_follows_inserts_updates_and_merges() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::open_sqlite(&dir.path().join("paperboy.db")).await.unwrap();
    let engine = Arc::new(SearchEngine::open(&dir.path().join("index"), None).unwrap());
    store
        .upsert_papers(&[
            paper("2606.00001", "Selective state spaces", "Linear-time sequence modeling with selective state spaces."),
            paper("", "Compilers for quantum circuits", "We compile quantum circuits onto hardware."),
        ])
        .await
        .unwrap();
    let r = sync_index(&store, &engine, |_, _| {}).await.unwrap();
    assert_eq!((r.indexed, r.removed, r.applied_seq), (2, 0, 2));
    assert_eq!(keyword_ids(&engine, "selective"), vec!["2606.00001"]);
    let local = PaperId::local_from_title("Compilers for quantum circuits").to_string();
    assert_eq!(keyword_ids(&engine, "quantum"), vec![local.clone()]);

    // The arXiv record of the local paper merges it: the index follows.
    store
        .upsert_papers(&[paper(
            "2606.00002",
            "Compilers for Quantum Circuits",
            "We compile quantum circuits onto chips.",
        )])
        .await
        .unwrap();
    let r = sync_index(&store, &engine, |_, _| {}).await.unwrap();
    assert_eq!((r.indexed, r.removed), (1, 1));
    assert_eq!(keyword_ids(&engine, "quantum"), vec!["2606.00002"]);
    assert_eq!(engine.applied_seq().unwrap(), store.last_change_seq().await.unwrap());

    // Nothing new: nothing to do.
    let r = sync_index(&store, &engine, |_, _| {}).await.unwrap();
    assert_eq!((r.indexed, r.removed), (0, 0));
}

#[tokio::test]
async fn an_index_that_lost_uncommitted_work_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::open_sqlite(&dir.path().join("paperboy.db")).await.unwrap();
    let index_dir = dir.path().join("index");
    let first: Vec<Paper> =
        (1..=20).map(|i| paper(&format!("2606.{i:05}"), &format!("Paper number {i}"), "Transformers.")).collect();
    store.upsert_papers(&first).await.unwrap();
    {
        let engine = Arc::new(SearchEngine::open(&index_dir, None).unwrap());
        sync_index(&store, &engine, |_, _| {}).await.unwrap();
    }
    // More papers arrive; the process indexes them but dies before committing.
    let more: Vec<Paper> =
        (21..=30).map(|i| paper(&format!("2606.{i:05}"), &format!("Paper number {i}"), "Diffusion models.")).collect();
    store.upsert_papers(&more).await.unwrap();
    {
        let engine = SearchEngine::open(&index_dir, None).unwrap();
        engine.stage_without_commit(&more).unwrap();
        // dropped here without a commit: what a crash leaves
    }
    let engine = Arc::new(SearchEngine::open(&index_dir, None).unwrap());
    assert_eq!(engine.applied_seq().unwrap(), 20, "the watermark is that of the last commit");
    assert!(keyword_ids(&engine, "diffusion").is_empty(), "uncommitted documents are not visible");
    let r = sync_index(&store, &engine, |_, _| {}).await.unwrap();
    assert_eq!(r.indexed, 10);
    assert_eq!(keyword_ids(&engine, "diffusion").len(), 10);
    assert_eq!(engine.stats().unwrap().docs, store.count_papers().await.unwrap());
}
