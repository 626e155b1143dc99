//! A server for load-testing the web layer alone (without building the CLI):
//! seeds a fresh SQLite catalog with synthetic papers (about 40 a day over
//! a few months, realistic field sizes), indexes them in a keyword-only
//! search engine, and serves it until Ctrl-C.
//!
//! ```sh
//! cargo run --release -p paperboy-web --example bench_server -- 127.0.0.1:8099 4000
//! wrk -t2 -c32 -d15s --latency http://127.0.0.1:8099/
//! wrk -t2 -c32 -d15s --latency 'http://127.0.0.1:8099/search?q=visual+reasoning'
//! ```

use std::sync::Arc;

use paperboy_search::SearchEngine;
use paperboy_store::{Catalog, SqlStore};
use paperboy_test_support::synthetic;
use paperboy_web::{AppState, WebSettings};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8099".to_string());
    let count: u32 = args.next().map(|n| n.parse()).transpose()?.unwrap_or(4000);

    let dir = tempfile::tempdir()?;
    let store = SqlStore::open_sqlite(&dir.path().join("bench.db")).await?;
    let papers = synthetic::papers(count)?;
    for chunk in papers.chunks(500) {
        store.upsert_papers(chunk).await?;
    }
    let engine = SearchEngine::open(&dir.path().join("index"), None)?;
    engine.index_papers_at(store.last_change_seq().await?, &papers)?;
    let latest = store.latest_listing_date().await?;
    let engine = Arc::new(engine);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("serving {count} papers (latest day {latest:?}) on http://{addr}");
    let state = AppState {
        cache: Arc::default(),
        store: Arc::new(store),
        config: Arc::new(WebSettings { base_url: format!("http://{addr}"), ..WebSettings::default() }),
        recs: paperboy_services::recommend::RecsService::new(Some(Arc::clone(&engine)), Default::default()),
        search: Some(engine),
        mail: None,
    };
    paperboy_web::serve(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
