//! Runs the BEIR evaluation of the search engine and prints the table.
//!
//! ```text
//! cargo run --release -p paperboy-search --example eval -- ../shared/eval/scifact-train --split train
//!     [--model models/all-MiniLM-L6-v2] [--work DIR] [--modes keyword,semantic,hybrid] [--sweep]
//! ```
//! `--work DIR` keeps the index (and its vectors) for the next run;
//! `--sweep` also tries fusion settings on the cached candidate lists.

use std::path::PathBuf;
use std::sync::Arc;

use paperboy_search::engine::SearchMode;
use paperboy_search::eval::{self, EvalOptions};
use paperboy_search::fusion::{Fusion, fuse};
use paperboy_search::keyword::KeywordSettings;
use paperboy_search::{Embedder, eval_beir_with};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let mut split = "test".to_string();
    let mut model = PathBuf::from("models/all-MiniLM-L6-v2");
    let mut work = None;
    let mut modes = vec![SearchMode::Keyword, SearchMode::Semantic, SearchMode::Hybrid];
    let mut sweep = false;
    let mut bench = 0usize;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--split" => split = args.next().ok_or("--split needs a value")?,
            "--model" => model = args.next().ok_or("--model needs a value")?.into(),
            "--work" => work = Some(PathBuf::from(args.next().ok_or("--work needs a value")?)),
            "--modes" => {
                modes = args.next().ok_or("--modes needs a value")?.split(',').filter_map(SearchMode::parse).collect()
            }
            "--sweep" => sweep = true,
            "--bench-embed" => bench = args.next().ok_or("--bench-embed needs a count")?.parse()?,
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let dir = dir.ok_or("usage: eval DATASET_DIR [--split S] [--model DIR] [--work DIR]")?;
    let embedder = match Embedder::load(&model) {
        Ok(e) => Some(Arc::new(e)),
        Err(e) => {
            eprintln!("semantic modes unavailable: {e}");
            None
        }
    };
    if bench > 0
        && let Some(emb) = &embedder
    {
        // Embedding throughput on the corpus's own texts (title + abstract).
        let data = eval::load_beir(&dir, &split)?;
        let texts: Vec<String> =
            data.corpus.iter().take(bench).map(|(_, t, x)| paperboy_search::keyword::embedding_text(t, x)).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let t = std::time::Instant::now();
        emb.embed(&refs)?;
        let s = t.elapsed().as_secs_f64();
        println!("embedded {} documents in {s:.1} s: {:.1} texts/s", refs.len(), refs.len() as f64 / s);
        let queries: Vec<&str> = data.queries.values().take(200).map(String::as_str).collect();
        let t = std::time::Instant::now();
        for q in &queries {
            emb.embed(&[q])?;
        }
        println!("query embedding: {:.1} ms each", t.elapsed().as_secs_f64() * 1000.0 / queries.len() as f64);
        return Ok(());
    }
    let opts =
        EvalOptions { split: split.clone(), modes, embedder: embedder.clone(), work_dir: work.clone(), fusion: None };
    let report = eval_beir_with(&dir, &opts)?;
    println!("{report}");
    println!("indexing took {:.1} s", report.index_seconds);
    if sweep && let Some(work) = work {
        let data = eval::load_beir(&dir, &split)?;
        let (mut engine, back) = eval::build_index(&data, &work, embedder)?;
        for boost in [0.3f32, 0.4, 0.5, 0.7, 1.0, 2.0] {
            engine.set_keyword_config(KeywordSettings { title_boost: boost });
            let (mut nd, mut n) = (0.0, 0usize);
            for q in data.qrels.keys().filter(|q| data.queries.contains_key(*q)) {
                n += 1;
                let ranking = eval::run_query(&engine, &back, &data.queries[q], SearchMode::Keyword)?;
                nd += eval::ndcg_at(&ranking, &data.qrels[q], 10);
            }
            println!("keyword title boost {boost}: nDCG@10 {:.4}", nd / n.max(1) as f64);
        }
        engine.set_keyword_config(KeywordSettings::default());
        let mut qids: Vec<&String> = data.qrels.keys().filter(|q| data.queries.contains_key(*q)).collect();
        qids.sort();
        let mut lists = Vec::new();
        for q in &qids {
            let text: String =
                data.queries[*q].chars().map(|c| if c == '"' || c == ':' || c == '-' { ' ' } else { c }).collect();
            lists.push(engine.candidates(&text, 100)?);
        }
        let mut fusions: Vec<Fusion> = [10.0, 20.0, 40.0, 60.0, 100.0].iter().map(|&k| Fusion::Rrf { k }).collect();
        fusions.extend((1..10).map(|i| Fusion::Blend { keyword_weight: i as f32 / 10.0 }));
        fusions.extend([0.25f32, 0.35].iter().map(|&w| Fusion::Blend { keyword_weight: w }));
        fusions.extend((1..10).map(|i| Fusion::MinMax { keyword_weight: i as f32 / 10.0 }));
        for f in fusions {
            let mut nd = 0.0;
            for (q, (kw, sem)) in qids.iter().zip(&lists) {
                let ranking: Vec<String> =
                    fuse(kw, sem, f).into_iter().filter_map(|(k, _)| back.get(&k).cloned()).collect();
                nd += eval::ndcg_at(&ranking, &data.qrels[*q], 10);
            }
            println!("{f:?}: nDCG@10 {:.4}", nd / qids.len() as f64);
        }
    }
    Ok(())
}
