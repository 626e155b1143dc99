//! Every paper embedded once per deployment: three `paperboy serve`
//! processes and one `paperboy embed` worker (real processes, each with its
//! own data directory, the real model) share one fresh PostgreSQL database
//! and its embedding backlog:
//!
//! 1. once the backlog is empty, the store's audit counts exactly one stored
//!    vector for every paper (nobody embedded a paper twice);
//! 2. each server's index has loaded every vector (semantic search, no paper
//!    pending);
//! 3. a fourth server started afterwards has every vector too, loaded from
//!    the database without embedding any: the audit still counts one per
//!    paper;
//! 4. `paperboy embed --prune` wants `--yes`, and keeps the model in use.
//!
//! Needs `PAPERBOY_TEST_PG_URL` and the model (`PAPERBOY_MODEL_DIR` or
//! `models/all-MiniLM-L6-v2`): skipped with a message when missing, except
//! under CI.

use crate::common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use paperboy_store::{Catalog, Embeddings, SqlStore};
use paperboy_test_support::db::PgDatabase;
use paperboy_test_support::fixtures::model_dir;

use common::{Server, bin, fixture};

/// Papers per claim: small, so that the ~200 papers make many batches to share.
const BATCH: &str = "16";

fn paperboy(data_dir: &Path, url: &str, model: &Path) -> Command {
    let mut c = Command::new(bin());
    c.arg("--data-dir")
        .arg(data_dir)
        .args(["--database-url", url])
        .arg("--model-dir")
        .arg(model)
        .env_remove("PAPERBOY_CONFIG")
        .env("PAPERBOY_EMBED_BATCH", BATCH)
        .env("PAPERBOY_LOG", "warn");
    c
}

fn ok(out: &Output, what: &str) -> String {
    assert!(out.status.success(), "{what}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits until the server with `data_dir` has a vector for every paper: a
/// semantic search there (reading its index as the server wrote it) runs
/// in semantic mode and finds no paper waiting.
fn wait_all_vectors(data_dir: &Path, url: &str, model: &Path, deadline: Instant) {
    loop {
        let out = paperboy(data_dir, url, model)
            .args(["search", "--mode", "semantic", "--limit", "3", "vision language models"])
            .output()
            .unwrap();
        let stdout = ok(&out, "search");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stdout.contains("(semantic search)") && !stderr.contains("not embedded yet") {
            return;
        }
        assert!(Instant::now() < deadline, "{} never had every vector: {stdout} {stderr}", data_dir.display());
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn servers_and_a_worker_embed_each_paper_once() {
    let Some(db) = PgDatabase::create("vectors") else { return };
    let Some(model) = model_dir("servers_and_a_worker_embed_each_paper_once") else { return };
    let started = Instant::now();
    let work = tempfile::tempdir().unwrap();
    let sample = fixture("ingest/jsonl/sample-200.jsonl");
    ok(&paperboy(work.path(), &db.url, &model).args(["import", sample.to_str().unwrap()]).output().unwrap(), "import");

    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = rt.block_on(SqlStore::open_postgres(&db.url)).unwrap();
    let key = paperboy_services::model::store_key(&paperboy_search::Embedder::load(&model).unwrap());
    let papers = rt.block_on(store.count_papers()).unwrap();
    assert!(papers >= 150, "imported {papers}");
    assert_eq!(rt.block_on(store.embedding_backlog(&key)).unwrap().waiting, papers);

    let model_str = model.to_str().unwrap();
    let env = [
        ("PAPERBOY_DATABASE_URL", db.url.as_str()),
        ("PAPERBOY_MODEL_DIR", model_str),
        ("PAPERBOY_EMBED_BATCH", BATCH),
        ("PAPERBOY_LOG", "warn"),
    ];
    let servers: Vec<Server> =
        (0..3).map(|_| Server::start_with("serve", tempfile::tempdir().unwrap(), &env)).collect();
    let worker = paperboy(work.path(), &db.url, &model)
        .args(["embed", "--once"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    eprintln!("import and three servers: {:?}", started.elapsed());

    // 1. The worker stops when nothing is left (the servers embed beside it).
    let out = worker.wait_with_output().unwrap();
    let said = ok(&out, "paperboy embed --once");
    let by_worker: u64 = said
        .lines()
        .find_map(|l| l.strip_prefix("stored ")?.strip_suffix(" vectors")?.parse().ok())
        .unwrap_or_else(|| panic!("the worker reports what it stored: {said}"));
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let backlog = rt.block_on(store.embedding_backlog(&key)).unwrap();
        if backlog.waiting == 0 {
            assert_eq!(backlog.current, papers);
            break;
        }
        assert!(Instant::now() < deadline, "the backlog never emptied: {backlog:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let counts = rt.block_on(store.embedding_store_counts(&key)).unwrap();
    assert_eq!(counts.len() as u64, papers, "every paper has a vector");
    let twice: Vec<_> = counts.iter().filter(|(_, n)| *n != 1).collect();
    assert!(twice.is_empty(), "papers embedded more than once: {twice:?}");
    eprintln!(
        "all {papers} papers embedded once after {:?}; the worker stored {by_worker}, the three servers the other {}",
        started.elapsed(),
        papers - by_worker.min(papers)
    );

    // 2. Every server's index follows the stored vectors.
    let deadline = Instant::now() + Duration::from_secs(120);
    for s in &servers {
        wait_all_vectors(s.data_dir.path(), &db.url, &model, deadline);
    }

    // 3. A server started later loads every vector and embeds none.
    let t = Instant::now();
    let fourth = Server::start_with("serve", tempfile::tempdir().unwrap(), &env);
    wait_all_vectors(fourth.data_dir.path(), &db.url, &model, Instant::now() + Duration::from_secs(120));
    eprintln!("a fourth server had all {papers} vectors {:?} after it was started", t.elapsed());
    let r = reqwest::blocking::get(fourth.url("/api/papers/search?q=jailbreaking%20vision%20models&mode=semantic"))
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(r.headers().get("x-search-mode").and_then(|v| v.to_str().ok()), Some("semantic"));
    let hits: Vec<serde_json::Value> = r.json().unwrap();
    assert!(!hits.is_empty(), "semantic search answers on the fourth server");
    let after = rt.block_on(store.embedding_store_counts(&key)).unwrap();
    assert_eq!(after, counts, "the fourth server embedded nothing: the audit is unchanged");
    drop(fourth);
    drop(servers);

    // 4. Pruning other models' vectors asks for confirmation, and keeps this model's.
    let out = paperboy(work.path(), &db.url, &model).args(["embed", "--prune"]).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--yes"), "{out:?}");
    let said =
        ok(&paperboy(work.path(), &db.url, &model).args(["embed", "--prune", "--yes"]).output().unwrap(), "prune");
    assert!(said.contains("deleted 0 vectors of other models"), "{said}");
    assert_eq!(rt.block_on(store.embedding_store_counts(&key)).unwrap(), counts);
}
