//! Papers' vectors in the database on both backends (migration 0011): claims
//! under leases (atomic across concurrent claimers, taken over once
//! expired), storing (dropped when the text changed, the paper is hidden, or
//! a current vector exists), the feed, the audit, a second model, pruning,
//! corrupt and wrong-length vectors, and the backfill of `embed_hash` at open.

use std::collections::HashSet;
use std::time::Duration;

use crate::common;

use chrono::NaiveDate;
use common::TestDb;
use paperboy_core::embedding::embedding_hash;
use paperboy_core::{Paper, PaperId};
use paperboy_store::{
    Catalog, EmbedClaim, Embeddings, ModelKey, Moderation, NewEmbedding, SqlStore, StoreError, StoredBatch,
};

on_both_backends!(
    claim_store_and_feed_round_trip,
    concurrent_claimers_never_hold_the_same_paper,
    concurrent_embedders_store_each_paper_once_in_feed_order,
    an_expired_claim_is_taken_over_and_a_late_store_is_dropped,
    a_store_after_the_text_changed_is_dropped_and_the_paper_waits_again,
    a_changed_text_makes_a_paper_wait_again,
    hidden_papers_are_neither_claimed_nor_in_the_feed,
    a_second_model_sees_everything_waiting_and_pruning_keeps_one_model,
    a_vector_of_the_wrong_length_stores_nothing,
    evidence_vectors_travel_with_the_vector,
    a_corrupt_stored_vector_is_an_error,
    released_claims_free_their_papers_and_the_backlog_counts,
    embed_hashes_missing_before_the_migration_are_filled_in_at_open,
);

fn pid(s: &str) -> PaperId {
    PaperId::parse(s).unwrap()
}

fn paper(n: u32, title: &str) -> Paper {
    let mut p = Paper::new(pid(&format!("2603.{n:05}")), title, NaiveDate::from_ymd_opt(2026, 3, 10).unwrap());
    p.authors = vec!["Ada Lovelace".into()];
    p.abstract_text = format!("Abstract of {title}.");
    p.categories = vec!["cs.LG".into()];
    p.version = Some(1);
    p.normalize();
    p
}

async fn catalog(store: &SqlStore, n: u32) -> Vec<Paper> {
    let papers: Vec<Paper> = (1..=n).map(|i| paper(i, &format!("Paper number {i}"))).collect();
    store.upsert_papers(&papers).await.unwrap();
    papers
}

fn model(name: &str, dim: u32) -> ModelKey {
    ModelKey { name: name.into(), fingerprint: format!("{name}-fp"), dim }
}

/// A vector that says which paper it is for.
fn vector_for(id: &PaperId, dim: u32) -> Vec<f32> {
    let seed = id.to_string().bytes().map(f32::from).sum::<f32>();
    (0..dim).map(|i| seed + i as f32 * 0.5).collect()
}

fn vectors(claim: &EmbedClaim, dim: u32) -> Vec<NewEmbedding> {
    claim
        .tasks
        .iter()
        .map(|t| NewEmbedding {
            id: t.id.clone(),
            text_hash: t.text_hash,
            vector: vector_for(&t.id, dim),
            evidence: Vec::new(),
        })
        .collect()
}

const TTL: Duration = Duration::from_secs(60);

/// Claims everything waiting and stores it, in claims of `batch`; returns the papers stored.
async fn embed_all(store: &SqlStore, m: &ModelKey, holder: &str, batch: u32) -> u64 {
    let mut stored = 0;
    while let Some(claim) = store.claim_embedding_work(m, holder, batch, TTL).await.unwrap() {
        let done = store.store_embeddings(m, &claim.claim, holder, &vectors(&claim, m.dim)).await.unwrap();
        stored += done.stored;
    }
    stored
}

async fn claim_store_and_feed_round_trip(db: TestDb) {
    let store = &db.store;
    let papers = catalog(store, 5).await;
    let m = model("mini", 4);
    let reg = store.register_embedding_model(&m).await.unwrap();
    assert!(reg.new_model);
    assert_eq!((reg.current, reg.waiting), (0, 5));
    assert!(reg.other_models.is_empty());
    assert!(!store.register_embedding_model(&m).await.unwrap().new_model, "registering is idempotent");

    let claim = store.claim_embedding_work(&m, "w1", 3, TTL).await.unwrap().expect("work is waiting");
    assert_eq!(claim.holder, "w1");
    let ids: Vec<PaperId> = claim.tasks.iter().map(|t| t.id.clone()).collect();
    assert_eq!(ids, papers[..3].iter().map(|p| p.id.clone()).collect::<Vec<_>>(), "oldest papers first");
    let first = &claim.tasks[0];
    assert_eq!(first.title, papers[0].title);
    assert_eq!(first.abstract_text, papers[0].abstract_text);
    assert_eq!(first.text_hash, embedding_hash(&papers[0].title, &papers[0].abstract_text));
    assert!(store.renew_embedding_claim(&claim.claim, "w1", TTL).await.unwrap());
    assert!(!store.renew_embedding_claim(&claim.claim, "someone else", TTL).await.unwrap());

    let done = store.store_embeddings(&m, &claim.claim, "w1", &vectors(&claim, 4)).await.unwrap();
    assert_eq!(done, StoredBatch { stored: 3, dropped: 0 });
    assert!(!store.renew_embedding_claim(&claim.claim, "w1", TTL).await.unwrap(), "storing ends the claim");

    let feed = store.embeddings_since(&m, 0, 100).await.unwrap();
    assert_eq!(feed.len(), 3);
    assert_eq!(feed.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
    for e in &feed {
        assert_eq!(e.vector, vector_for(&e.id, 4), "vectors round-trip exactly");
    }
    assert_eq!(store.embeddings_since(&m, 2, 100).await.unwrap().len(), 1);
    assert_eq!(store.embeddings_since(&m, 0, 2).await.unwrap().len(), 2, "the limit holds");

    assert_eq!(embed_all(store, &m, "w2", 10).await, 2);
    assert!(store.claim_embedding_work(&m, "w2", 10, TTL).await.unwrap().is_none(), "nothing waits");
    let backlog = store.embedding_backlog(&m).await.unwrap();
    assert_eq!((backlog.papers, backlog.current, backlog.waiting), (5, 5, 0));
    assert_eq!(backlog.last_seq, 5);
    assert_eq!(backlog.stored_last_hour, 5);
    assert!(backlog.last_stored_at.is_some());
    assert!(backlog.claims.is_empty());
    let counts = store.embedding_store_counts(&m).await.unwrap();
    assert_eq!(counts.len(), 5);
    assert!(counts.iter().all(|(_, n)| *n == 1), "each paper stored once: {counts:?}");
}

async fn concurrent_claimers_never_hold_the_same_paper(db: TestDb) {
    catalog(&db.store, 120).await;
    let m = model("mini", 3);
    db.store.register_embedding_model(&m).await.unwrap();
    let handles = db.handles(6).await;
    let mut tasks = Vec::new();
    for (i, store) in handles.into_iter().enumerate() {
        let m = m.clone();
        tasks.push(tokio::spawn(async move {
            let holder = format!("worker-{i}");
            let mut held = Vec::new();
            // Claim without storing: every claim stays live, so overlaps would show.
            while let Some(claim) = store.claim_embedding_work(&m, &holder, 7, TTL).await.unwrap() {
                held.extend(claim.tasks.into_iter().map(|t| t.id));
            }
            held
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let distinct: HashSet<_> = all.iter().collect();
    assert_eq!(distinct.len(), all.len(), "no paper is held by two live claims");
    assert_eq!(all.len(), 120, "every waiting paper was claimed once");
    let backlog = db.store.embedding_backlog(&m).await.unwrap();
    assert_eq!(backlog.claims.iter().map(|c| c.papers).sum::<u64>(), 120);
    assert_eq!(backlog.waiting, 120, "claimed papers still wait until stored");
}

async fn concurrent_embedders_store_each_paper_once_in_feed_order(db: TestDb) {
    catalog(&db.store, 150).await;
    let m = model("mini", 3);
    let handles = db.handles(5).await;
    let mut tasks = Vec::new();
    for (i, store) in handles.into_iter().enumerate() {
        let m = m.clone();
        tasks.push(tokio::spawn(async move { embed_all(&store, &m, &format!("embedder-{i}"), 8).await }));
    }
    let mut stored = 0;
    for t in tasks {
        stored += t.await.unwrap();
    }
    assert_eq!(stored, 150);
    let counts = db.store.embedding_store_counts(&m).await.unwrap();
    assert_eq!(counts.len(), 150);
    assert!(counts.iter().all(|(_, n)| *n == 1), "each paper embedded once");
    let feed = db.store.embeddings_since(&m, 0, 1000).await.unwrap();
    assert_eq!(feed.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=150).collect::<Vec<u64>>(), "no gaps");
    let backlog = db.store.embedding_backlog(&m).await.unwrap();
    assert_eq!((backlog.current, backlog.waiting, backlog.last_seq), (150, 0, 150));
}

async fn an_expired_claim_is_taken_over_and_a_late_store_is_dropped(db: TestDb) {
    let store = &db.store;
    catalog(store, 2).await;
    let m = model("mini", 2);
    let old = store.claim_embedding_work(&m, "crashed", 10, Duration::from_millis(1)).await.unwrap().unwrap();
    assert_eq!(old.tasks.len(), 2);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let new = store.claim_embedding_work(&m, "rescuer", 10, TTL).await.unwrap().expect("expired papers are free");
    assert_eq!(new.tasks.len(), 2);
    assert!(!store.renew_embedding_claim(&old.claim, "crashed", TTL).await.unwrap(), "the old claim is gone");
    let done = store.store_embeddings(&m, &new.claim, "rescuer", &vectors(&new, 2)).await.unwrap();
    assert_eq!(done.stored, 2);
    // The crashed worker comes back late: the papers have current vectors.
    let late = store.store_embeddings(&m, &old.claim, "crashed", &vectors(&old, 2)).await.unwrap();
    assert_eq!(late, StoredBatch { stored: 0, dropped: 2 });
    assert!(store.embedding_store_counts(&m).await.unwrap().iter().all(|(_, n)| *n == 1));
}

async fn a_store_after_the_text_changed_is_dropped_and_the_paper_waits_again(db: TestDb) {
    let store = &db.store;
    let mut papers = catalog(store, 2).await;
    let m = model("mini", 2);
    let claim = store.claim_embedding_work(&m, "w", 10, TTL).await.unwrap().unwrap();
    papers[0].abstract_text = "A rewritten abstract.".into();
    papers[0].version = Some(2);
    store.upsert_papers(&papers[..1]).await.unwrap();
    let done = store.store_embeddings(&m, &claim.claim, "w", &vectors(&claim, 2)).await.unwrap();
    assert_eq!(done, StoredBatch { stored: 1, dropped: 1 });
    let again = store.claim_embedding_work(&m, "w", 10, TTL).await.unwrap().expect("the changed paper waits");
    assert_eq!(again.tasks.len(), 1);
    assert_eq!(again.tasks[0].id, papers[0].id);
    assert_eq!(again.tasks[0].abstract_text, "A rewritten abstract.");
    assert_eq!(again.tasks[0].text_hash, embedding_hash(&papers[0].title, "A rewritten abstract."));
}

async fn a_changed_text_makes_a_paper_wait_again(db: TestDb) {
    let store = &db.store;
    let mut papers = catalog(store, 3).await;
    let m = model("mini", 2);
    assert_eq!(embed_all(store, &m, "w", 10).await, 3);
    let before = store.embeddings_since(&m, 0, 10).await.unwrap();
    assert_eq!(before.len(), 3);

    // A change that leaves title and abstract alone keeps the vector.
    papers[1].comment = Some("10 pages".into());
    papers[1].version = Some(2);
    store.upsert_papers(&papers[1..2]).await.unwrap();
    assert!(store.claim_embedding_work(&m, "w", 10, TTL).await.unwrap().is_none());

    papers[1].title = "A new title".into();
    papers[1].version = Some(3);
    store.upsert_papers(&papers[1..2]).await.unwrap();
    let backlog = store.embedding_backlog(&m).await.unwrap();
    assert_eq!((backlog.current, backlog.waiting), (2, 1));
    let feed = store.embeddings_since(&m, 0, 10).await.unwrap();
    assert_eq!(feed.len(), 2, "a stale vector leaves the feed");
    assert!(feed.iter().all(|e| e.id != papers[1].id));

    assert_eq!(embed_all(store, &m, "w", 10).await, 1);
    let feed = store.embeddings_since(&m, 0, 10).await.unwrap();
    let last = feed.last().unwrap();
    assert_eq!((last.seq, &last.id), (4, &papers[1].id), "re-embedded at a new feed position, once");
    assert_eq!(last.text_hash, embedding_hash("A new title", &papers[1].abstract_text));
    let counts = store.embedding_store_counts(&m).await.unwrap();
    assert_eq!(counts.iter().find(|(id, _)| *id == papers[1].id).unwrap().1, 2, "the audit counts both stores");
}

async fn hidden_papers_are_neither_claimed_nor_in_the_feed(db: TestDb) {
    let store = &db.store;
    let papers = catalog(store, 3).await;
    let m = model("mini", 2);
    store.set_paper_hidden(&papers[0].id, true).await.unwrap();
    let claim = store.claim_embedding_work(&m, "w", 10, TTL).await.unwrap().unwrap();
    assert_eq!(claim.tasks.iter().map(|t| &t.id).collect::<Vec<_>>(), vec![&papers[1].id, &papers[2].id]);
    // Hidden while claimed: its vector is dropped.
    store.set_paper_hidden(&papers[1].id, true).await.unwrap();
    let done = store.store_embeddings(&m, &claim.claim, "w", &vectors(&claim, 2)).await.unwrap();
    assert_eq!(done, StoredBatch { stored: 1, dropped: 1 });
    let backlog = store.embedding_backlog(&m).await.unwrap();
    assert_eq!((backlog.papers, backlog.current, backlog.waiting), (1, 1, 0));

    // Shown again, it waits; hidden after storing, it leaves the feed.
    store.set_paper_hidden(&papers[1].id, false).await.unwrap();
    assert_eq!(embed_all(store, &m, "w", 10).await, 1);
    assert_eq!(store.embeddings_since(&m, 0, 10).await.unwrap().len(), 2);
    store.set_paper_hidden(&papers[2].id, true).await.unwrap();
    let feed = store.embeddings_since(&m, 0, 10).await.unwrap();
    assert_eq!(feed.iter().map(|e| &e.id).collect::<Vec<_>>(), vec![&papers[1].id]);
}

async fn a_second_model_sees_everything_waiting_and_pruning_keeps_one_model(db: TestDb) {
    let store = &db.store;
    catalog(store, 4).await;
    let a = model("mini", 2);
    let b = ModelKey { fingerprint: "faster-arithmetic".into(), ..a.clone() };
    assert_eq!(embed_all(store, &a, "w", 3).await, 4);
    let reg = store.register_embedding_model(&b).await.unwrap();
    assert!(reg.new_model);
    assert_eq!((reg.current, reg.waiting), (0, 4));
    assert_eq!(reg.other_models, vec![("mini".to_string(), "mini-fp".to_string(), 4)]);
    assert!(store.embeddings_since(&b, 0, 10).await.unwrap().is_empty(), "models never mix");
    assert_eq!(embed_all(store, &b, "w", 3).await, 4);
    assert_eq!(store.embedding_backlog(&b).await.unwrap().last_seq, 4, "each model has its own feed");

    assert_eq!(store.prune_other_embeddings(&b).await.unwrap(), 4);
    assert!(store.embeddings_since(&a, 0, 10).await.unwrap().is_empty());
    assert!(store.embedding_store_counts(&a).await.unwrap().is_empty(), "audit rows go too");
    assert_eq!(store.embeddings_since(&b, 0, 10).await.unwrap().len(), 4);
    assert!(store.register_embedding_model(&b).await.unwrap().other_models.is_empty());
    assert_eq!(store.prune_other_embeddings(&b).await.unwrap(), 0);
    // The pruned model, back again, finds every paper waiting.
    assert_eq!(store.embedding_backlog(&a).await.unwrap().waiting, 4);
    assert_eq!(embed_all(store, &a, "w", 3).await, 4);
}

async fn a_vector_of_the_wrong_length_stores_nothing(db: TestDb) {
    let store = &db.store;
    catalog(store, 2).await;
    let m = model("mini", 3);
    let claim = store.claim_embedding_work(&m, "w", 10, TTL).await.unwrap().unwrap();
    let mut vs = vectors(&claim, 3);
    vs[1].vector.pop();
    let err = store.store_embeddings(&m, &claim.claim, "w", &vs).await.unwrap_err();
    assert!(matches!(err, StoreError::WrongVectorLength { found: 2, expected: 3, .. }), "{err:?}");
    assert!(store.embeddings_since(&m, 0, 10).await.unwrap().is_empty(), "nothing was stored");
    assert!(store.renew_embedding_claim(&claim.claim, "w", TTL).await.unwrap(), "the claim is still held");
}

async fn evidence_vectors_travel_with_the_vector(db: TestDb) {
    let store = &db.store;
    let papers = catalog(store, 3).await;
    let m = model("mini", 3);
    let claim = store.claim_embedding_work(&m, "w", 10, TTL).await.unwrap().unwrap();
    let mut vs = vectors(&claim, 3);
    // Paper 1: two evidence vectors; paper 2: none; paper 3: one.
    vs[0].evidence = vec![vec![1.0, 2.0, 3.0], vec![-1.0, 0.5, 0.25]];
    vs[2].evidence = vec![vec![9.0, 8.0, 7.0]];
    // One evidence vector of the wrong length refuses the whole batch.
    let mut bad = vs.clone();
    bad[2].evidence[0].push(6.0);
    let err = store.store_embeddings(&m, &claim.claim, "w", &bad).await.unwrap_err();
    assert!(matches!(err, StoreError::WrongVectorLength { found: 4, expected: 3, .. }), "{err:?}");
    assert!(store.embeddings_since(&m, 0, 10).await.unwrap().is_empty(), "nothing was stored");

    assert_eq!(store.store_embeddings(&m, &claim.claim, "w", &vs).await.unwrap().stored, 3);
    let feed = store.embeddings_since(&m, 0, 10).await.unwrap();
    assert_eq!(feed.len(), 3);
    for (got, sent) in feed.iter().zip(&vs) {
        assert_eq!(got.id, sent.id);
        assert_eq!(got.vector, sent.vector, "the paper's vector comes first, unchanged");
        assert_eq!(got.evidence, sent.evidence);
    }
    assert_eq!(feed[0].id, papers[0].id);
}

async fn a_corrupt_stored_vector_is_an_error(db: TestDb) {
    let store = &db.store;
    catalog(store, 1).await;
    let m = model("mini", 3);
    assert_eq!(embed_all(store, &m, "w", 10).await, 1);
    // A row whose bytes do not match its model's length is corrupt.
    match (store.sqlite(), store.postgres()) {
        (Some(s), _) => {
            sqlx::query("UPDATE paper_embeddings SET vector = x'0000'").execute(s.pool()).await.unwrap();
        }
        (_, Some(p)) => {
            sqlx::query("UPDATE paper_embeddings SET vector = '\\x0000'::bytea").execute(p.pool()).await.unwrap();
        }
        _ => unreachable!(),
    }
    let err = store.embeddings_since(&m, 0, 10).await.unwrap_err();
    assert!(matches!(&err, StoreError::Corrupt { why, .. } if why.contains("2 bytes")), "{err:?}");
    // So is one of a vector and a half (evidence is whole vectors).
    match (store.sqlite(), store.postgres()) {
        (Some(s), _) => {
            sqlx::query("UPDATE paper_embeddings SET vector = zeroblob(18)").execute(s.pool()).await.unwrap();
        }
        (_, Some(p)) => {
            sqlx::query("UPDATE paper_embeddings SET vector = decode(repeat('00', 18), 'hex')")
                .execute(p.pool())
                .await
                .unwrap();
        }
        _ => unreachable!(),
    }
    let err = store.embeddings_since(&m, 0, 10).await.unwrap_err();
    assert!(matches!(&err, StoreError::Corrupt { why, .. } if why.contains("18 bytes")), "{err:?}");
}

async fn released_claims_free_their_papers_and_the_backlog_counts(db: TestDb) {
    let store = &db.store;
    catalog(store, 4).await;
    let m = model("mini", 2);
    let a = store.claim_embedding_work(&m, "alpha", 3, TTL).await.unwrap().unwrap();
    let b = store.claim_embedding_work(&m, "beta", 3, TTL).await.unwrap().unwrap();
    assert_eq!((a.tasks.len(), b.tasks.len()), (3, 1));
    let backlog = store.embedding_backlog(&m).await.unwrap();
    let held: Vec<(&str, u64)> = backlog.claims.iter().map(|c| (c.holder.as_str(), c.papers)).collect();
    assert_eq!(held, vec![("alpha", 3), ("beta", 1)]);
    assert!(store.claim_embedding_work(&m, "gamma", 3, TTL).await.unwrap().is_none(), "all held");
    store.release_embedding_claim(&a.claim, "alpha").await.unwrap();
    let c = store.claim_embedding_work(&m, "gamma", 3, TTL).await.unwrap().expect("released papers are free");
    assert_eq!(c.tasks.iter().map(|t| &t.id).collect::<Vec<_>>(), a.tasks.iter().map(|t| &t.id).collect::<Vec<_>>());
    // Storing part of a claim frees the rest at once.
    let part = &vectors(&c, 2)[..1];
    assert_eq!(store.store_embeddings(&m, &c.claim, "gamma", part).await.unwrap().stored, 1);
    let d = store.claim_embedding_work(&m, "delta", 10, TTL).await.unwrap().unwrap();
    assert_eq!(d.tasks.len(), 2);
}

async fn embed_hashes_missing_before_the_migration_are_filled_in_at_open(db: TestDb) {
    let papers = catalog(&db.store, 2500).await;
    let set_null = async || match (db.store.sqlite(), db.store.postgres()) {
        (Some(s), _) => {
            sqlx::query("UPDATE papers SET embed_hash = NULL").execute(s.pool()).await.unwrap().rows_affected()
        }
        (_, Some(p)) => {
            sqlx::query("UPDATE papers SET embed_hash = NULL").execute(p.pool()).await.unwrap().rows_affected()
        }
        _ => unreachable!(),
    };
    let m = model("mini", 2);
    // Everything embedded, then the hashes lost, as in a database from before 0011.
    assert_eq!(embed_all(&db.store, &m, "w", 1000).await, 2500);
    assert_eq!(set_null().await, 2500);
    assert_eq!(db.store.embedding_backlog(&m).await.unwrap().waiting, 0, "no hash, not waiting");

    let reopened = db.reopen().await;
    assert_eq!(db.count("SELECT COUNT(*) FROM papers WHERE embed_hash IS NULL").await, 0);
    let expected = embedding_hash(&papers[2499].title, &papers[2499].abstract_text) as i64;
    let last = db.count("SELECT embed_hash FROM papers WHERE paper_id = '2603.02500'").await;
    assert_eq!(last, expected, "filled in across batches, as the hash of title and abstract");
    assert!(reopened.claim_embedding_work(&m, "w", 10, TTL).await.unwrap().is_none(), "the same texts: current");

    // Papers written by SQL without their hash, while the store is open: a claim fills them in first.
    set_null().await;
    sqlx_update_title(&db, "2603.00007").await;
    let claim = db.store.claim_embedding_work(&m, "w", 10, TTL).await.unwrap().expect("the retitled paper waits");
    assert_eq!(claim.tasks.len(), 1);
    assert_eq!(claim.tasks[0].text_hash, embedding_hash("Retitled by hand", &papers[6].abstract_text));
    assert_eq!(db.count("SELECT COUNT(*) FROM papers WHERE embed_hash IS NULL").await, 0);
}

/// Changes a paper's title by SQL, as a tool outside the store might.
async fn sqlx_update_title(db: &TestDb, id: &str) {
    let sql = format!("UPDATE papers SET title = 'Retitled by hand' WHERE paper_id = '{id}'");
    match (db.store.sqlite(), db.store.postgres()) {
        (Some(s), _) => sqlx::query(&sql).execute(s.pool()).await.unwrap().rows_affected(),
        (_, Some(p)) => sqlx::query(&sql).execute(p.pool()).await.unwrap().rows_affected(),
        _ => unreachable!(),
    };
}

/// The waiting query at catalog scale on SQLite (run with `--ignored
/// --nocapture`; prints, asserts only what it claimed): 1,000,000 papers
/// written by SQL, all but the newest 10 with a current vector of the model
/// (4 numbers each: the waiting query reads the covering indexes only, never
/// the vectors), then the claim that must find those 10, a new model's first
/// claim, a feed page and the backlog.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement at 1,000,000 papers (about a minute)"]
async fn the_waiting_query_at_a_million_papers() {
    use std::time::Instant;
    const N: i64 = 1_000_000;
    let db = TestDb::sqlite().await;
    let store = &db.store;
    let pool = store.sqlite().unwrap().pool();
    let started = Instant::now();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?) \
         INSERT INTO papers (paper_id, title, title_key, authors, abstract, categories, listed_on, content_hash, \
         created_at, modified_at, embed_hash) \
         SELECT printf('%02d%02d.%05d', 15 + (i / 99999) / 12, 1 + (i / 99999) % 12, 1 + i % 99999), \
         'Title ' || i, 'title ' || i, '[]', 'Abstract ' || i, ' cs.LG ', '2026-03-10', i, \
         '2026-03-10T00:00:00Z', '2026-03-10T00:00:00Z', i * 7919 FROM n",
    )
    .bind(N - 1)
    .execute(pool)
    .await
    .unwrap();
    let m = model("mini", 4);
    store.register_embedding_model(&m).await.unwrap();
    sqlx::query(
        "INSERT INTO paper_embeddings (model_id, paper_pk, text_hash, seq, stored_at, vector) \
         SELECT 1, pk, embed_hash, pk, '2026-03-10T00:00:00.000Z', zeroblob(16) FROM papers WHERE pk <= ?",
    )
    .bind(N - 10)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("UPDATE embedding_models SET last_seq = ? WHERE id = 1").bind(N - 10).execute(pool).await.unwrap();
    sqlx::query("ANALYZE").execute(pool).await.unwrap();
    println!("built {N} papers and {} vectors in {:.1?}", N - 10, started.elapsed());

    let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(
        "EXPLAIN QUERY PLAN SELECT p.pk FROM papers p \
         LEFT JOIN paper_embeddings e ON e.model_id = 1 AND e.paper_pk = p.pk \
         LEFT JOIN embedding_claims c ON c.model_id = 1 AND c.paper_pk = p.pk \
         WHERE p.pk >= 0 AND p.hidden_at IS NULL AND p.embed_hash IS NOT NULL \
         AND (e.text_hash IS NULL OR e.text_hash <> p.embed_hash) \
         AND (c.expires_at IS NULL OR c.expires_at < 'x') ORDER BY p.pk LIMIT 64",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    println!("plan of the waiting query: {:?}", plan.iter().map(|r| &r.3).collect::<Vec<_>>());

    // The first claim after the model is registered walks from the oldest paper.
    let t = Instant::now();
    let claim = store.claim_embedding_work(&m, "w", 64, TTL).await.unwrap().unwrap();
    println!("first claim, walking all {N} papers to the newest 10 waiting: {:.1?}", t.elapsed());
    assert_eq!(claim.tasks.len(), 10);
    let t = Instant::now();
    assert!(store.claim_embedding_work(&m, "w", 64, TTL).await.unwrap().is_none());
    println!("next claim, nothing free (10 under claims): {:.1?}", t.elapsed());
    store.store_embeddings(&m, &claim.claim, "w", &vectors(&claim, 4)).await.unwrap();
    let t = Instant::now();
    assert!(store.claim_embedding_work(&m, "w", 64, TTL).await.unwrap().is_none());
    println!("claim with nothing waiting: {:.1?}", t.elapsed());

    // Steady state: new papers arrive and are claimed.
    let new: Vec<Paper> = (1..=20).map(|i| paper(i, &format!("A new paper {i}"))).collect();
    store.upsert_papers(&new).await.unwrap();
    let t = Instant::now();
    let claim = store.claim_embedding_work(&m, "w", 64, TTL).await.unwrap().unwrap();
    println!("claim of 20 new papers: {:.1?}", t.elapsed());
    assert_eq!(claim.tasks.len(), 20);
    store.store_embeddings(&m, &claim.claim, "w", &vectors(&claim, 4)).await.unwrap();

    // An old paper's text changes: the next claim walks from it.
    let mut old = new[0].clone();
    old.id = pid("1501.01001");
    old.title = "An old paper, retitled".into();
    assert_eq!(store.upsert_papers(&[old]).await.unwrap(), vec![paperboy_store::UpsertOutcome::Updated]);
    let t = Instant::now();
    let claim = store.claim_embedding_work(&m, "w", 64, TTL).await.unwrap().unwrap();
    println!("claim of a changed paper near the start (then nothing after it): {:.1?}", t.elapsed());
    assert_eq!(claim.tasks.len(), 1);
    store.store_embeddings(&m, &claim.claim, "w", &vectors(&claim, 4)).await.unwrap();
    let t = Instant::now();
    assert!(store.claim_embedding_work(&m, "w", 64, TTL).await.unwrap().is_none());
    println!("the claim after it, walking from that paper: {:.1?}", t.elapsed());
    let t = Instant::now();
    assert!(store.claim_embedding_work(&m, "w", 64, TTL).await.unwrap().is_none());
    println!("steady state again, nothing waiting: {:.1?}", t.elapsed());

    let other = model("other", 4);
    let t = Instant::now();
    let first = store.claim_embedding_work(&other, "w", 64, TTL).await.unwrap().unwrap();
    println!("a new model's first claim (all {N} waiting): {:.1?}", t.elapsed());
    assert_eq!(first.tasks.len(), 64);

    let t = Instant::now();
    let page = store.embeddings_since(&m, (N - 2000) as u64, 1000).await.unwrap();
    println!("feed page of 1000 at the end: {:.1?}", t.elapsed());
    assert_eq!(page.len(), 1000);
    let t = Instant::now();
    let backlog = store.embedding_backlog(&m).await.unwrap();
    println!("backlog: {:.1?} ({backlog:?})", t.elapsed());
    assert_eq!(backlog.waiting, 0);
}
