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

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use paperboy_core::{Paper, PaperId};
use paperboy_search::SearchEngine;
use paperboy_store::{SqliteStore, Store};
use paperboy_web::{AppState, WebConfig};

const CATEGORIES: &[&str] = &["cs.CV", "cs.LG", "cs.CL", "cs.AI", "cs.RO", "stat.ML", "eess.IV"];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8099".to_string());
    let count: u32 = args.next().map(|n| n.parse()).transpose()?.unwrap_or(4000);

    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(&dir.path().join("bench.db")).await?;
    let first = NaiveDate::from_ymd_opt(2026, 1, 5).ok_or("date")?;
    let papers: Vec<Paper> = (0..count)
        .map(|i| {
            let day = first + Duration::days(i64::from(i / 40));
            let id = PaperId::parse(&format!("2601.{:05}", i + 1))?;
            let mut p = Paper::new(id, format!("A Study of Scalable Method Number {i} for Visual and Textual Reasoning"), day);
            p.authors = (0..6).map(|a| format!("Author {a} Surname{i}")).collect();
            p.abstract_text = "We propose a method that improves the state of the art on several benchmarks while using less compute. "
                .repeat(12);
            p.categories = vec![
                CATEGORIES[i as usize % CATEGORIES.len()].to_string(),
                CATEGORIES[(i as usize + 3) % CATEGORIES.len()].to_string(),
            ];
            p.submitted_at = Utc.from_utc_datetime(&day.and_hms_opt(12, 0, 0).ok_or("time")?).into();
            p.version = Some(1);
            if i % 3 == 0 {
                p.links.code = Some(format!("https://github.com/example/repo{i}"));
            }
            p.normalize();
            Ok(p)
        })
        .collect::<Result<_, Box<dyn std::error::Error>>>()?;
    for chunk in papers.chunks(500) {
        store.upsert_papers(chunk).await?;
    }
    let engine = SearchEngine::open(&dir.path().join("index"), None)?;
    engine.index_papers_at(store.last_change_seq().await?, &papers)?;
    let latest = store.latest_listing_date().await?;
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("serving {count} papers (latest day {latest:?}) on http://{addr}");
    let state = AppState {
        store: Arc::new(store),
        config: Arc::new(WebConfig { base_url: format!("http://{addr}"), ..WebConfig::default() }),
        search: Some(Arc::new(engine)),
    };
    paperboy_web::serve(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
