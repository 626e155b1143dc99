//! The store's hot paths, timed: bulk upserts (batches of 5,000 papers, as
//! `paperboy import` writes them) into a fresh database, the same batches
//! again (all unchanged, five times), and feed pages.
//!
//! `cargo run --release -p paperboy-store --example upsert_bench -- [LOCATION] [PAPERS]`
//! LOCATION is a SQLite file (default: a temporary one) or an empty
//! PostgreSQL database URL; PAPERS defaults to 50,000 synthetic papers of
//! arXiv-like size.

use std::time::Instant;

use chrono::NaiveDate;
use paperboy_core::{FeedSort, Paper, PaperId};
use paperboy_store::{FeedQuery, PaperBatch};

const BATCH: usize = 5_000;
const PAGES: usize = 60;
const CATEGORIES: &[&str] = &["cs.LG", "cs.CV", "cs.CL", "cs.AI", "stat.ML", "math.OC", "physics.optics"];

fn paper(i: usize) -> Paper {
    let id = PaperId::parse(&format!("25{:02}.{:05}", 1 + i / 90_000 % 12, i % 90_000)).unwrap();
    let day = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + chrono::Duration::days((i / 700) as i64);
    let mut p = Paper::new(id, format!("A study of synthetic paper number {i} and its many properties"), day);
    p.authors = (0..5).map(|a| format!("Author {a} Surname{}", i % 997)).collect();
    p.abstract_text = format!("Paper {i}. ") + &"We propose a method and show that it works well. ".repeat(20);
    p.categories =
        vec![CATEGORIES[i % CATEGORIES.len()].to_string(), CATEGORIES[(i / 7) % CATEGORIES.len()].to_string()];
    p.primary_category = Some(p.categories[0].clone());
    p.version = Some(1);
    p.normalize();
    p
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = tempfile::tempdir().unwrap();
    let location = args.first().cloned().unwrap_or_else(|| dir.path().join("bench.db").display().to_string());
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(50_000);
    let store = paperboy_store::open(&location).await.unwrap();
    let db = store.database();
    let papers: Vec<Paper> = (0..n).map(paper).collect();
    let batches = || papers.chunks(BATCH).map(|c| c.iter().cloned().collect::<PaperBatch>()).collect::<Vec<_>>();

    // The unchanged pass is repeated: on a busy machine the best of several
    // runs is the number to compare.
    for run in ["fresh", "unchanged", "unchanged", "unchanged", "unchanged", "unchanged"] {
        let prepared = batches();
        let started = Instant::now();
        for batch in prepared {
            db.upsert_batch(batch).await.unwrap();
        }
        let secs = started.elapsed().as_secs_f64();
        println!("upsert {run:>9}: {n} papers in {secs:.2} s ({:.0} papers/s)", n as f64 / secs);
    }

    let started = Instant::now();
    let mut items = 0;
    for i in 0..PAGES {
        let sort = [FeedSort::New, FeedSort::Top, FeedSort::Trending][i % 3];
        let category = (i % 2 == 0).then(|| CATEGORIES[i % CATEGORIES.len()].to_string());
        let query = FeedQuery { sort, category, offset: (i as u32 % 10) * 30, limit: 30, ..Default::default() };
        items += db.feed(&query).await.unwrap().items.len();
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0 / PAGES as f64;
    println!("feed pages: {PAGES} in {:.2} s ({ms:.2} ms a page, {items} items)", ms * PAGES as f64 / 1000.0);
}
