//! Embedding throughput of the in-process embedder, for `bench/embed.sh`.
//!
//! ```text
//! cargo run --release -p paperboy-search --example embed_bench -- TEXTS.jsonl [--model DIR] [--repeat N]
//! ```
//! `TEXTS.jsonl` holds one JSON string per line (the texts exactly as the
//! engine embeds them: `title. abstract`); `bench/search/embed_texts.py`
//! writes it. Prints one JSON line: texts, seconds, texts_per_s, threads.
//! `--out FILE` also writes the vectors of the last run, little-endian f32,
//! one row of the model's dimension per text in input order (for offline
//! experiments such as the recommender's prototypes). The arithmetic is
//! the one the engine picks (`PAPERBOY_EMBED_ARITHMETIC=f32` forces f32).
//!
//! ```text
//! embed_bench --papers RECORDS.jsonl [--limit N] [--evidence off,passages,sentences] [--model DIR]
//! ```
//! embeds the first N records (`title`, `abstract`) as the engine stores
//! them, a paper's vector and its evidence (`Embedder::embed_papers`), once
//! per evidence kind in the order given, and prints one JSON line per kind:
//! papers, vectors, seconds, papers_per_s.

use std::io::BufRead;
use std::path::PathBuf;
use std::time::Instant;

use paperboy_search::Embedder;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut file = None;
    let mut model = PathBuf::from("models/all-MiniLM-L6-v2");
    let mut repeat = 1usize;
    let mut out: Option<PathBuf> = None;
    let mut papers: Option<PathBuf> = None;
    let mut limit = usize::MAX;
    let mut kinds = vec![paperboy_search::Evidence::Off];
    while let Some(a) = args.next() {
        match a.as_str() {
            "--papers" => papers = Some(args.next().ok_or("--papers needs a file")?.into()),
            "--limit" => limit = args.next().ok_or("--limit needs a number")?.parse()?,
            "--evidence" => {
                kinds = args
                    .next()
                    .ok_or("--evidence needs a list")?
                    .split(',')
                    .map(|k| paperboy_search::Evidence::parse(k).ok_or("--evidence: off, passages, sentences"))
                    .collect::<Result<_, _>>()?;
            }
            "--model" => model = args.next().ok_or("--model needs a directory")?.into(),
            "--out" => out = Some(args.next().ok_or("--out needs a file")?.into()),
            "--repeat" => repeat = args.next().ok_or("--repeat needs a number")?.parse()?,
            _ => file = Some(PathBuf::from(a)),
        }
    }
    if let Some(path) = papers {
        return bench_papers(&path, &model, limit, &kinds);
    }
    let file = file.ok_or("usage: embed_bench TEXTS.jsonl [--model DIR] [--repeat N] [--out FILE]")?;
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
    let mut last = Vec::new();
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        let vecs = embedder.embed(&refs)?;
        assert_eq!(vecs.len(), refs.len());
        best = best.min(start.elapsed().as_secs_f64());
        last = vecs;
    }
    if let Some(out) = out {
        let mut bytes = Vec::with_capacity(last.len() * last.first().map_or(0, |v| v.len()) * 4);
        for v in &last {
            for x in v.iter() {
                bytes.extend_from_slice(&x.to_le_bytes());
            }
        }
        std::fs::write(&out, bytes)?;
    }
    println!(
        "{}",
        serde_json::json!({
            "engine": format!("paperboy (bert.rs, {})", embedder.arithmetic()),
            "texts": texts.len(),
            "seconds": best,
            "texts_per_s": texts.len() as f64 / best,
            "threads": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        })
    );
    Ok(())
}

/// Papers per second with each kind of evidence (module docs).
fn bench_papers(
    path: &std::path::Path,
    model: &std::path::Path,
    limit: usize,
    kinds: &[paperboy_search::Evidence],
) -> Result<(), Box<dyn std::error::Error>> {
    let mut records = Vec::new();
    for line in std::io::BufReader::new(std::fs::File::open(path)?).lines().take(limit) {
        let v: serde_json::Value = serde_json::from_str(&line?)?;
        let text = |k: &str| v[k].as_str().unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ");
        records.push((text("title"), text("abstract")));
    }
    let pairs: Vec<(&str, &str)> = records.iter().map(|(t, a)| (t.as_str(), a.as_str())).collect();
    let mut embedder = Embedder::load(model)?;
    embedder.embed(&["warm-up: page the weights in"])?;
    for &kind in kinds {
        embedder = embedder.with_evidence(kind);
        let start = Instant::now();
        let mut vectors = 0;
        // In batches of 64 papers, as `paperboy embed` and `serve` claim them.
        for chunk in pairs.chunks(64) {
            vectors += embedder.embed_papers(chunk)?.iter().map(|p| 1 + p.evidence.len()).sum::<usize>();
        }
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "{}",
            serde_json::json!({
                "evidence": kind.as_str(),
                "papers": pairs.len(),
                "vectors": vectors,
                "seconds": seconds,
                "papers_per_s": pairs.len() as f64 / seconds,
            })
        );
    }
    Ok(())
}
