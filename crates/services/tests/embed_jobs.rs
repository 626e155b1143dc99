//! Vectors computed once and followed by every index, on a SQLite file with
//! the real model: the embed worker claims, embeds and stores; a process
//! that dies mid-claim leaves its papers to another once the claim runs
//! out; a shutdown mid-batch releases the claim at once; the vector
//! follower loads every stored vector into an index, keeps its feed
//! position beside it and picks up a text change; and both run as the jobs
//! `serve` starts. Needs the model: skipped with a message when it is
//! absent, failing under CI.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use paperboy_core::{Paper, PaperId};
use paperboy_search::{Embedder, SearchEngine, SearchMode, SearchOptions};
use paperboy_services::jobs::JobError;
use paperboy_services::jobs::Supervisor;
use paperboy_services::jobs::embed::{Embed, EmbedWorker};
use paperboy_services::jobs::vector_follow::{VectorFollow, follow_vectors};
use paperboy_services::sync_index;
use paperboy_store::{Catalog, Database, SqlStore};
use paperboy_test_support::fixtures::model_dir;

const PAPERS: u32 = 24;

const TOPICS: [&str; 4] = [
    "protein folding with deep networks",
    "quantum error correction codes",
    "galaxy cluster mass estimates",
    "reinforcement learning for robot grasping",
];

fn paper(n: u32) -> Paper {
    let topic = TOPICS[n as usize % TOPICS.len()];
    let mut p = Paper::new(
        PaperId::parse(&format!("2606.{n:05}")).unwrap(),
        format!("Study {n} of {topic}"),
        NaiveDate::from_ymd_opt(2026, 6, 2).unwrap(),
    );
    p.abstract_text = format!("We report new results on {topic}, part {n}.");
    p.authors = vec!["Grace Hopper".into()];
    p.categories = vec!["cs.LG".into()];
    p.normalize();
    p
}

async fn setup(dir: &tempfile::TempDir) -> (Arc<dyn Database>, Arc<Embedder>) {
    let store = SqlStore::open_sqlite(&dir.path().join("paperboy.db")).await.unwrap();
    store.upsert_papers(&(1..=PAPERS).map(paper).collect::<Vec<_>>()).await.unwrap();
    (store.into_database(), Arc::new(Embedder::load(&model_dir("embed_jobs").unwrap()).unwrap()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn papers_are_embedded_once_a_dead_claim_is_taken_over_and_indexes_follow() {
    if model_dir("papers_are_embedded_once_a_dead_claim_is_taken_over_and_indexes_follow").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (db, embedder) = setup(&dir).await;
    let worker = EmbedWorker::new(Arc::clone(&db), Arc::clone(&embedder), 10).with_claim_ttl(Duration::from_secs(60));
    let key = worker.key().clone();
    assert_eq!(key.dim, 384);
    assert_eq!(key.fingerprint.len(), 16, "{key:?}");
    assert_eq!(key, paperboy_services::model::store_key(&Embedder::load(embedder.dir()).unwrap()), "stable");
    let reg = worker.register().await.unwrap();
    assert_eq!((reg.current, reg.waiting), (0, u64::from(PAPERS)));

    // A process claims 10 papers and dies (its claim runs out in a second).
    let dead = db.claim_embedding_work(&key, "dead/embed", 10, Duration::from_secs(1)).await.unwrap().unwrap();
    assert_eq!(dead.tasks.len(), 10);
    // A shutdown mid-batch releases the claim: its papers are free at once.
    let err = worker.turn("quitter/embed", std::future::ready(())).await.unwrap_err();
    assert!(matches!(err, JobError::Cancelled), "{err}");
    // The live worker embeds everything else, then (the claim ran out) the dead one's papers.
    let started = Instant::now();
    let mut stored = 0;
    while stored < u64::from(PAPERS) {
        assert!(started.elapsed() < Duration::from_secs(60), "stored only {stored}");
        let turn = worker.turn("live/embed", std::future::pending()).await.unwrap();
        stored += turn.stored;
        if turn.claimed == 0 {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    // The dead process wakes up: its vectors are refused, nothing is stored twice.
    let late: Vec<_> = dead
        .tasks
        .iter()
        .map(|t| paperboy_store::NewEmbedding {
            id: t.id.clone(),
            text_hash: t.text_hash,
            vector: vec![0.1; 384],
            evidence: Vec::new(),
        })
        .collect();
    let refused = db.store_embeddings(&key, &dead.claim, &dead.holder, &late).await;
    assert!(refused.map(|b| b.stored == 0).unwrap_or(true), "a late vector is not stored");
    let counts = db.embedding_store_counts(&key).await.unwrap();
    assert_eq!(counts.len(), PAPERS as usize);
    assert!(counts.iter().all(|(_, n)| *n == 1), "each paper embedded once: {counts:?}");
    assert_eq!(db.embedding_backlog(&key).await.unwrap().waiting, 0);

    // An index loads every stored vector without a model of its own
    // embedding anything, and keeps its feed position beside it.
    let index = dir.path().join("index");
    let engine = Arc::new(SearchEngine::open(&index, Some(Arc::clone(&embedder))).unwrap());
    sync_index(db.as_ref(), &engine, |_, _| {}).await.unwrap();
    assert_eq!(engine.stats().unwrap().pending_vectors, u64::from(PAPERS));
    let after = engine.start_vector_feed(&key.fingerprint).unwrap();
    assert_eq!(after, 0);
    let r = follow_vectors(db.as_ref(), &engine, &key, after, || false, |_| {}).await.unwrap();
    assert_eq!(r.loaded, u64::from(PAPERS));
    let stats = engine.stats().unwrap();
    assert_eq!((stats.vectors, stats.pending_vectors), (u64::from(PAPERS), 0));
    assert_eq!(engine.vector_feed().unwrap().unwrap().seq, r.seq);
    let opts = SearchOptions { mode: SearchMode::Semantic, highlights: false, ..Default::default() };
    let hits = engine.search("folding proteins", &opts).unwrap();
    assert_eq!(hits.mode_used, SearchMode::Semantic);
    let top: u32 = hits.hits[0].id.to_string()["2606.".len()..].parse().unwrap();
    assert_eq!(top % 4, 0, "a protein folding paper first: {:?}", hits.hits);
    drop(engine);

    // A text change re-embeds that paper only; the reopened index resumes
    // from its feed position and picks up just that vector.
    let mut changed = paper(5);
    changed.abstract_text = "We report entirely new results on protein folding.".into();
    db.upsert_papers(&[changed]).await.unwrap();
    assert_eq!(db.embedding_backlog(&key).await.unwrap().waiting, 1);
    let turn = worker.turn("live/embed", std::future::pending()).await.unwrap();
    assert_eq!((turn.claimed, turn.stored), (1, 1));
    let engine = Arc::new(SearchEngine::open(&index, Some(Arc::clone(&embedder))).unwrap());
    sync_index(db.as_ref(), &engine, |_, _| {}).await.unwrap();
    assert_eq!(engine.stats().unwrap().pending_vectors, 1, "the changed paper's old vector is stale");
    let after = engine.start_vector_feed(&key.fingerprint).unwrap();
    assert_eq!(after, r.seq, "resumes where it stopped");
    let again = follow_vectors(db.as_ref(), &engine, &key, after, || false, |_| {}).await.unwrap();
    assert_eq!(again.loaded, 1);
    assert_eq!(engine.stats().unwrap().pending_vectors, 0);
    let counts = db.embedding_store_counts(&key).await.unwrap();
    let five = PaperId::parse("2606.00005").unwrap();
    assert!(counts.iter().all(|(id, n)| *n == if *id == five { 2 } else { 1 }), "{counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embed_and_vector_follow_jobs_fill_an_index() {
    if model_dir("the_embed_and_vector_follow_jobs_fill_an_index").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (db, embedder) = setup(&dir).await;
    // Sentence evidence (one sentence per abstract here) travels with each
    // vector through the store's feed into the index.
    let embedder =
        Arc::new(Embedder::load(embedder.dir()).unwrap().with_evidence(paperboy_search::Evidence::Sentences));
    let key = paperboy_services::model::store_key(&embedder);
    let engine = Arc::new(SearchEngine::open(&dir.path().join("index"), Some(Arc::clone(&embedder))).unwrap());
    let mut sup = Supervisor::new(Arc::clone(&db));
    sup.register(VectorFollow::new(Arc::clone(&engine), key.clone(), Duration::from_millis(100)));
    sup.register(Embed::new(EmbedWorker::new(Arc::clone(&db), Arc::clone(&embedder), 8), Duration::from_millis(100)));
    let running = sup.start();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let stats = engine.stats().unwrap();
        if stats.docs == u64::from(PAPERS) && stats.pending_vectors == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the jobs did not fill the index: {stats:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(running.shutdown(Duration::from_secs(10)).await.is_empty());
    assert_eq!(engine.stats().unwrap().evidence_vectors, u64::from(PAPERS), "one sentence vector a paper");
    let feed = db.embeddings_since(&key, 0, 1000).await.unwrap();
    assert!(feed.iter().all(|e| e.evidence.len() == 1 && e.evidence[0].len() == 384), "stored with the vector");
    let counts = db.embedding_store_counts(&key).await.unwrap();
    assert_eq!(counts.len(), PAPERS as usize);
    assert!(counts.iter().all(|(_, n)| *n == 1), "{counts:?}");
    let mark = engine.vector_feed().unwrap().unwrap();
    assert_eq!(
        (mark.fingerprint.as_str(), mark.seq),
        (key.fingerprint.as_str(), db.embedding_backlog(&key).await.unwrap().last_seq)
    );
}
