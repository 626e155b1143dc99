//! Query latency of each search mode over an existing index, for
//! `bench/search.sh`.
//!
//! ```text
//! cargo run --release -p paperboy-search --example search_bench -- INDEX_DIR QUERIES.txt
//!     [--model DIR] [--rounds N] [--embed-titles] [--evidence off|passages|sentences]
//! ```
//! `INDEX_DIR` is a data directory's `index/` (what `paperboy import` builds).
//! `--embed-titles` first fills missing vectors from titles alone (see
//! `SearchEngine::embed_pending_titles_only`: an index of the right size in
//! minutes instead of hours). Every query runs `--rounds` times per mode
//! (default 5), query embedding included; the first round warms caches and
//! is not counted. `--evidence` picks the evidence vectors (default
//! passages; another kind than the index was built with re-embeds it).
//! Prints a Markdown table and the index size.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use paperboy_search::{Embedder, SearchEngine, SearchMode, SearchOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut positional = Vec::new();
    let mut model = PathBuf::from("models/all-MiniLM-L6-v2");
    let mut rounds = 5usize;
    let mut embed_titles = false;
    let mut evidence = paperboy_search::Evidence::default();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--model" => model = args.next().ok_or("--model needs a directory")?.into(),
            "--rounds" => rounds = args.next().ok_or("--rounds needs a number")?.parse()?,
            "--embed-titles" => embed_titles = true,
            "--evidence" => {
                let v = args.next().ok_or("--evidence needs off, passages or sentences")?;
                evidence = paperboy_search::Evidence::parse(&v).ok_or("--evidence: off, passages or sentences")?;
            }
            _ => positional.push(PathBuf::from(a)),
        }
    }
    let [index, queries] = positional.as_slice() else {
        return Err("usage: search_bench INDEX_DIR QUERIES.txt [--model DIR] [--rounds N] [--embed-titles]".into());
    };
    let queries: Vec<String> = std::fs::read_to_string(queries)?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    let embedder = Arc::new(Embedder::load(&model)?.with_evidence(evidence));
    let engine = SearchEngine::open(index, Some(embedder))?;
    if embed_titles {
        let start = Instant::now();
        let mut last = Instant::now();
        let n = engine.embed_pending_titles_only(256, |done, total| {
            if last.elapsed().as_secs() >= 10 {
                eprintln!("embedding titles: {done}/{total}");
                last = Instant::now();
            }
        })?;
        eprintln!("embedded {n} titles in {:.0} s", start.elapsed().as_secs_f64());
    }
    let stats = engine.stats()?;
    println!(
        "index: {} papers, {} vectors ({} pending), {:.0} MiB on disk",
        stats.docs,
        stats.vectors,
        stats.pending_vectors,
        dir_size(index) as f64 / (1024.0 * 1024.0)
    );
    println!();
    if let Some(emb) = engine.embedder() {
        let mut times = Vec::new();
        for round in 0..rounds.max(2) {
            for q in &queries {
                let start = Instant::now();
                emb.embed(&[q.as_str()])?;
                if round > 0 {
                    times.push(start.elapsed().as_secs_f64() * 1000.0);
                }
            }
        }
        times.sort_by(f64::total_cmp);
        println!(
            "query embedding alone: p50 {:.1} ms, p99 {:.1} ms",
            times[times.len() / 2],
            times[((times.len() - 1) as f64 * 0.99).round() as usize]
        );
        println!();
    }
    println!("| mode | queries | p50 ms | p90 ms | p99 ms | max ms | mean hits |");
    println!("|---|---|---|---|---|---|---|");
    for mode in [SearchMode::Keyword, SearchMode::Semantic, SearchMode::Hybrid] {
        let opts = SearchOptions { mode, limit: 20, ..SearchOptions::default() };
        let mut times = Vec::new();
        let mut slowest: Vec<(f64, &str)> = Vec::new();
        let mut hits = 0usize;
        for round in 0..rounds.max(2) {
            for q in &queries {
                let start = Instant::now();
                let res = engine.search(q, &opts)?;
                let ms = start.elapsed().as_secs_f64() * 1000.0;
                if round > 0 {
                    times.push(ms);
                    slowest.push((ms, q));
                    hits += res.hits.len();
                }
            }
        }
        times.sort_by(f64::total_cmp);
        slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
        slowest.dedup_by(|a, b| a.1 == b.1);
        for (ms, q) in slowest.iter().take(3) {
            eprintln!("{}: slowest {ms:.1} ms for {q:?}", mode.as_str());
        }
        let pct = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            mode.as_str(),
            times.len(),
            pct(0.5),
            pct(0.9),
            pct(0.99),
            times[times.len() - 1],
            hits as f64 / times.len() as f64
        );
    }
    Ok(())
}

fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
