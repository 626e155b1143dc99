//! Runs the BEIR evaluation of the search engine and prints the table.
//!
//! ```text
//! cargo run --release -p paperboy-search --example eval -- ../shared/eval/scifact-train --split train
//!     [--model models/all-MiniLM-L6-v2] [--work DIR] [--modes keyword,semantic,hybrid] [--sweep]
//!     [--evidence off|passages|sentences]
//! ```
//! `--work DIR` keeps the index (and its vectors) for the next run;
//! `--sweep` also tries fusion settings on the cached candidate lists;
//! `--evidence` picks the evidence vectors (default passages).

use std::path::PathBuf;
use std::sync::Arc;

use paperboy_search::engine::KEYWORD_LOOKUP_DEPTH;
use paperboy_search::engine::SearchMode;
use paperboy_search::eval::{self, EvalOptions};
use paperboy_search::fusion::{self, Fusion, fuse};
use paperboy_search::keyword::{DEFAULT_TITLE_BOOST, KeywordSettings, Prf};
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
    let mut dump: Option<PathBuf> = None;
    let mut token_share: Option<PathBuf> = None;
    let mut hybrid_prf: Option<(usize, usize, f32)> = None;
    let mut evidence = paperboy_search::Evidence::default();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--split" => split = args.next().ok_or("--split needs a value")?,
            "--model" => model = args.next().ok_or("--model needs a value")?.into(),
            "--work" => work = Some(PathBuf::from(args.next().ok_or("--work needs a value")?)),
            "--modes" => {
                modes = args.next().ok_or("--modes needs a value")?.split(',').filter_map(SearchMode::parse).collect()
            }
            "--sweep" => sweep = true,
            "--evidence" => {
                let v = args.next().ok_or("--evidence needs off, passages or sentences")?;
                evidence = paperboy_search::Evidence::parse(&v).ok_or("--evidence: off, passages or sentences")?;
            }
            "--hybrid-prf" => {
                let v: Vec<String> =
                    args.next().ok_or("--hybrid-prf needs DOCS,TERMS,WEIGHT")?.split(',').map(String::from).collect();
                hybrid_prf = Some((v[0].parse::<usize>()?, v[1].parse::<usize>()?, v[2].parse::<f32>()?));
            }
            "--token-share" => token_share = Some(PathBuf::from(args.next().ok_or("--token-share needs a file")?)),
            "--dump-runs" => dump = Some(PathBuf::from(args.next().ok_or("--dump-runs needs a file")?)),
            "--bench-embed" => bench = args.next().ok_or("--bench-embed needs a count")?.parse()?,
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    if let Some(path) = token_share {
        // How many arXiv records' embedding text (title. abstract) exceeds
        // the model's token limit: the share a second passage would embed.
        let mut tok = tokenizers::Tokenizer::from_file(model.join("tokenizer.json")).map_err(|e| e.to_string())?;
        // tokenizer.json carries its own truncation (128); count every token.
        tok.with_truncation(None).map_err(|e| e.to_string())?;
        let (mut n, mut over, mut tokens, mut beyond) = (0usize, 0usize, 0usize, 0usize);
        for line in std::fs::read_to_string(&path)?.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line)?;
            let text = paperboy_search::keyword::embedding_text(
                v["title"].as_str().unwrap_or(""),
                v["abstract"].as_str().unwrap_or(""),
            );
            let len = tok.encode(text, true).map_err(|e| e.to_string())?.get_ids().len();
            n += 1;
            tokens += len;
            if len > paperboy_search::embed::MAX_TOKENS {
                over += 1;
                beyond += len - paperboy_search::embed::MAX_TOKENS;
            }
        }
        println!(
            "{n} records, {over} ({:.1}%) over {} tokens; mean {:.0} tokens; tokens beyond the limit: {:.1}% of all",
            100.0 * over as f64 / n.max(1) as f64,
            paperboy_search::embed::MAX_TOKENS,
            tokens as f64 / n.max(1) as f64,
            100.0 * beyond as f64 / tokens.max(1) as f64
        );
        return Ok(());
    }
    let dir = dir.ok_or("usage: eval DATASET_DIR [--split S] [--model DIR] [--work DIR]")?;
    if let (path, true) = eval::corpus_path(&dir)?
        && !path.is_file()
    {
        println!(
            "SKIPPED: {} not found (this set reads its corpus from ../shared beside the repository)",
            path.display()
        );
        return Ok(());
    }
    let embedder = match Embedder::load(&model) {
        Ok(e) => Some(Arc::new(e.with_evidence(evidence))),
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
    if let Some(out) = dump {
        // The top 20 of every mode for every query: the pool to judge.
        let work = work.clone().ok_or("--dump-runs needs --work DIR")?;
        let data = eval::load_beir(&dir, &split)?;
        let (engine, back) = eval::build_index(&data, &work, embedder.clone())?;
        let mut qids: Vec<&String> = data.queries.keys().collect();
        qids.sort();
        let mut lines = String::new();
        for q in qids {
            for &mode in &modes {
                let ids: Vec<String> =
                    eval::run_query(&engine, &back, &data.queries[q], mode)?.into_iter().take(20).collect();
                let line = serde_json::json!({ "query": q, "mode": mode.as_str(), "ids": ids });
                lines.push_str(&format!("{line}\n"));
            }
        }
        std::fs::write(&out, lines)?;
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
        let mut qids: Vec<&String> = data.qrels.keys().filter(|q| data.queries.contains_key(*q)).collect();
        qids.sort();
        let prf = |docs, terms, weight| Some(Prf { docs, terms, weight });
        let mut configs = Vec::new();
        for title_boost in [0.3f32, 0.5, 0.7] {
            configs.push(KeywordSettings { title_boost, prf: None });
        }
        for (d, t, w) in [(5, 10, 0.3f32), (10, 10, 0.3), (10, 10, 0.5), (10, 20, 0.3), (10, 20, 0.5), (20, 20, 0.3)] {
            configs.push(KeywordSettings { title_boost: DEFAULT_TITLE_BOOST, prf: prf(d, t, w) });
        }
        for c in &configs {
            engine.set_keyword_config(*c);
            let mut nd = 0.0;
            for q in &qids {
                let ranking = eval::run_query(&engine, &back, &data.queries[*q], SearchMode::Keyword)?;
                nd += eval::ndcg_at(&ranking, &data.qrels[*q], 10);
            }
            println!("keyword {c:?}: nDCG@10 {:.4}", nd / qids.len().max(1) as f64);
        }
        let hybrid_configs: Vec<KeywordSettings> = match hybrid_prf {
            Some((d, t, w)) => {
                vec![KeywordSettings::default(), KeywordSettings { prf: prf(d, t, w), ..KeywordSettings::default() }]
            }
            None => vec![KeywordSettings::default()],
        };
        for c in hybrid_configs {
            engine.set_keyword_config(c);
            println!("hybrid with keyword {c:?}");
            let t = std::time::Instant::now();
            let mut lists = Vec::new();
            for q in &qids {
                let text: String =
                    data.queries[*q].chars().map(|c| if c == '"' || c == ':' || c == '-' { ' ' } else { c }).collect();
                lists.push(engine.candidate_scores(&text, KEYWORD_LOOKUP_DEPTH, 300)?);
            }
            eprintln!("candidate lists in {:.1} s", t.elapsed().as_secs_f64());
            let mut fusions: Vec<Fusion> = [10.0, 60.0].iter().map(|&k| Fusion::Rrf { k }).collect();
            fusions
                .extend([0.2f32, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5].iter().map(|&w| Fusion::Blend { keyword_weight: w }));
            fusions.extend([0.4f32, 0.5, 0.6, 0.7].iter().map(|&w| Fusion::MinMax { keyword_weight: w }));
            fusions.extend([0.3f32, 0.4, 0.5, 0.6].iter().map(|&w| Fusion::ZScore { keyword_weight: w }));
            for strength in [0.5f32, 1.0, 2.0] {
                fusions
                    .extend([0.3f32, 0.35, 0.4, 0.5].iter().map(|&w| Fusion::Adaptive { keyword_weight: w, strength }));
            }
            for depth in [100usize, 200, 300] {
                for completed in [false, true] {
                    for f in &fusions {
                        let mut nd = 0.0;
                        for (q, (kw_deep, sem_all, cos)) in qids.iter().zip(&lists) {
                            let mut kw: Vec<(String, f32)> = kw_deep.iter().take(depth).cloned().collect();
                            let mut sem: Vec<(String, f32)> = sem_all.iter().take(depth).cloned().collect();
                            if completed {
                                fusion::complete(&mut kw, &mut sem, kw_deep, |k| cos.get(k).copied());
                            }
                            let ranking: Vec<String> =
                                fuse(&kw, &sem, *f).into_iter().filter_map(|(k, _)| back.get(&k).cloned()).collect();
                            nd += eval::ndcg_at(&ranking, &data.qrels[*q], 10);
                        }
                        println!("depth {depth} completed {completed} {f:?}: nDCG@10 {:.4}", nd / qids.len() as f64);
                    }
                }
            }
        }
    }
    Ok(())
}
