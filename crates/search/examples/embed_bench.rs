//! Embedding throughput of the in-process embedder, for `bench/embed.sh`.
//!
//! ```text
//! cargo run --release -p paperboy-search --example embed_bench -- TEXTS.jsonl [--model DIR] [--repeat N]
//! ```
//! `TEXTS.jsonl` holds one JSON string per line (the texts exactly as the
//! engine embeds them: `title. abstract`); `bench/search/embed_texts.py`
//! writes it. Prints one JSON line: texts, seconds, texts_per_s, threads.

use std::io::BufRead;
use std::path::PathBuf;
use std::time::Instant;

use paperboy_search::Embedder;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut file = None;
    let mut model = PathBuf::from("models/all-MiniLM-L6-v2");
    let mut repeat = 1usize;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--model" => model = args.next().ok_or("--model needs a directory")?.into(),
            "--repeat" => repeat = args.next().ok_or("--repeat needs a number")?.parse()?,
            _ => file = Some(PathBuf::from(a)),
        }
    }
    let file = file.ok_or("usage: embed_bench TEXTS.jsonl [--model DIR] [--repeat N]")?;
    let reader = std::io::BufReader::new(std::fs::File::open(&file)?);
    let mut texts = Vec::new();
    for line in reader.lines() {
        let line = line?;
        if !line.trim().is_empty() {
            texts.push(serde_json::from_str::<String>(&line)?);
        }
    }
    let embedder = Embedder::load(&model)?;
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    // Warm-up: page the weights in, let the allocator settle.
    embedder.embed(&refs[..refs.len().min(16)])?;
    let mut best = f64::MAX;
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        let vecs = embedder.embed(&refs)?;
        assert_eq!(vecs.len(), refs.len());
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "{}",
        serde_json::json!({
            "engine": "paperboy (bert.rs + gemm)",
            "texts": texts.len(),
            "seconds": best,
            "texts_per_s": texts.len() as f64 / best,
            "threads": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        })
    );
    Ok(())
}
