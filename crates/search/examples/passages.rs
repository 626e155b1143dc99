//! The long-abstract experiment of the search-quality work (issue 18):
//! documents are embedded from their first 256 tokens only; this embeds the
//! rest as further passages (title repeated, 32 tokens of overlap) and
//! measures semantic and hybrid nDCG@10 with a paper scored by its first
//! vector only, by its best passage, and by the normalised mean of its
//! passage vectors (the one-vector variant the store could keep).
//!
//! ```text
//! cargo run --release -p paperboy-search --example passages -- ../shared/eval/scifact-train --split train --work DIR
//! ```
//! `DIR` is the index the `eval` example keeps with `--work` (vectors
//! reused); the passage vectors are cached in `DIR/passages.f32`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use paperboy_core::PaperId;
use paperboy_search::engine::KEYWORD_LOOKUP_DEPTH;
use paperboy_search::fusion::{self, Fusion, fuse};
use paperboy_search::keyword::embedding_text;
use paperboy_search::{Embedder, eval, query};

const OVERLAP: usize = 32;

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (mut dir, mut split, mut work) = (None, "test".to_string(), None);
    let mut model = PathBuf::from("models/all-MiniLM-L6-v2");
    let mut fusion_cfg = Fusion::default();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--split" => split = args.next().ok_or("--split needs a value")?,
            "--work" => work = Some(PathBuf::from(args.next().ok_or("--work needs a value")?)),
            "--model" => model = args.next().ok_or("--model needs a value")?.into(),
            "--blend" => {
                fusion_cfg = Fusion::Blend { keyword_weight: args.next().ok_or("--blend needs a weight")?.parse()? }
            }
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let dir = dir.ok_or("usage: passages DATASET_DIR --split S --work DIR")?;
    let work = work.ok_or("--work DIR is needed (the eval example's kept index)")?;
    let emb = Arc::new(Embedder::load(&model)?);
    let mut tok = tokenizers::Tokenizer::from_file(model.join("tokenizer.json")).map_err(|e| e.to_string())?;
    // tokenizer.json carries its own truncation (128); count every token.
    tok.with_truncation(None).map_err(|e| e.to_string())?;
    let data = eval::load_beir(&dir, &split)?;
    let (engine, back) = eval::build_index(&data, &work, Some(emb.clone()))?;
    let key_of: HashMap<&str, &str> = back.iter().map(|(k, b)| (b.as_str(), k.as_str())).collect();

    // Passages beyond the first window.
    let limit = paperboy_search::embed::MAX_TOKENS - 2;
    let mut owners = Vec::new();
    let mut texts = Vec::new();
    let mut over = 0usize;
    for (i, (_, title, text)) in data.corpus.iter().enumerate() {
        let full = embedding_text(title, text);
        let enc = tok.encode(full.as_str(), false).map_err(|e| e.to_string())?;
        let offsets = enc.get_offsets();
        if offsets.len() <= limit {
            continue;
        }
        over += 1;
        let mut start = limit - OVERLAP;
        while start + OVERLAP < offsets.len() {
            let byte = offsets[start].0;
            texts.push(format!("{}. {}", title.trim().trim_end_matches('.'), &full[byte..]));
            owners.push(i);
            start += limit - OVERLAP;
        }
    }
    println!(
        "{} documents, {over} ({:.1}%) longer than {} tokens, {} extra passages",
        data.corpus.len(),
        100.0 * over as f64 / data.corpus.len() as f64,
        limit + 2,
        texts.len()
    );
    let cache = work.join("passages.f32");
    let dim = emb.dim();
    let pvecs: Vec<Vec<f32>> = match std::fs::read(&cache) {
        Ok(bytes) if bytes.len() == texts.len() * dim * 4 => bytes
            .chunks(dim * 4)
            .map(|c| c.chunks(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
            .collect(),
        _ => {
            let t = std::time::Instant::now();
            let mut out = Vec::with_capacity(texts.len());
            for (n, chunk) in texts.chunks(128).enumerate() {
                let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
                out.extend(emb.embed(&refs)?);
                eprintln!("passages {}/{}", (n + 1) * 128, texts.len());
            }
            println!("embedded {} passages in {:.1} s", texts.len(), t.elapsed().as_secs_f64());
            let bytes: Vec<u8> = out.iter().flatten().flat_map(|x| x.to_le_bytes()).collect();
            std::fs::write(&cache, bytes)?;
            out
        }
    };
    let doc_vecs: Vec<Vec<f32>> = data
        .corpus
        .iter()
        .map(|(id, _, _)| {
            let key = key_of[id.as_str()];
            engine.vector(&PaperId::parse(key).expect("local key")).unwrap_or_else(|| vec![0.0; dim])
        })
        .collect();
    let mut passages_of: Vec<Vec<usize>> = vec![Vec::new(); data.corpus.len()];
    for (p, &o) in owners.iter().enumerate() {
        passages_of[o].push(p);
    }
    let mean_vecs: Vec<Vec<f32>> = doc_vecs
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let mut m = v.clone();
            for &p in &passages_of[i] {
                for (a, b) in m.iter_mut().zip(&pvecs[p]) {
                    *a += b;
                }
            }
            let norm = dot(&m, &m).sqrt().max(1e-9);
            m.iter_mut().for_each(|x| *x /= norm);
            m
        })
        .collect();

    let mut qids: Vec<&String> = data.qrels.keys().filter(|q| data.queries.contains_key(*q)).collect();
    qids.sort();
    let variants = ["first", "max", "softmax", "mean-vector"];
    let (mut sem_nd, mut hyb_nd) = (vec![0.0; variants.len()], vec![0.0; variants.len()]);
    for q in &qids {
        let cleaned: String =
            data.queries[*q].chars().map(|c| if c == '"' || c == ':' || c == '-' { ' ' } else { c }).collect();
        let sem_text = query::parse(&cleaned).semantic_text();
        let qv = emb.embed(&[sem_text.as_str()])?.pop().unwrap_or_default();
        let (kw_deep, _, _) = engine.candidate_scores(&cleaned, KEYWORD_LOOKUP_DEPTH, 1)?;
        let first: Vec<f32> = doc_vecs.iter().map(|v| dot(v, &qv)).collect();
        let pcos: Vec<f32> = pvecs.iter().map(|v| dot(v, &qv)).collect();
        for (vi, name) in variants.iter().enumerate() {
            let scores: Vec<f32> = match *name {
                "first" => first.clone(),
                "max" => {
                    (0..first.len()).map(|i| passages_of[i].iter().map(|&p| pcos[p]).fold(first[i], f32::max)).collect()
                }
                "softmax" => (0..first.len())
                    .map(|i| {
                        // Soft maximum with temperature 0.05 over the passages.
                        let all: Vec<f32> =
                            std::iter::once(first[i]).chain(passages_of[i].iter().map(|&p| pcos[p])).collect();
                        let m = all.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                        let z: f32 = all.iter().map(|s| ((s - m) / 0.05).exp()).sum();
                        m + 0.05 * (z / all.len() as f32).ln()
                    })
                    .collect(),
                _ => mean_vecs.iter().map(|v| dot(v, &qv)).collect(),
            };
            let mut order: Vec<usize> = (0..scores.len()).collect();
            order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
            let key = |i: usize| key_of[data.corpus[i].0.as_str()].to_string();
            let mut sem: Vec<(String, f32)> = order.iter().take(100).map(|&i| (key(i), scores[i])).collect();
            let ranking: Vec<String> = order.iter().take(10).map(|&i| data.corpus[i].0.clone()).collect();
            sem_nd[vi] += eval::ndcg_at(&ranking, &data.qrels[*q], 10);
            let by_key: HashMap<String, f32> = (0..scores.len()).map(|i| (key(i), scores[i])).collect();
            let mut kw: Vec<(String, f32)> = kw_deep.iter().take(100).cloned().collect();
            fusion::complete(&mut kw, &mut sem, &kw_deep, |k| by_key.get(k).copied());
            let ranking: Vec<String> =
                fuse(&kw, &sem, fusion_cfg).into_iter().filter_map(|(k, _)| back.get(&k).cloned()).collect();
            hyb_nd[vi] += eval::ndcg_at(&ranking, &data.qrels[*q], 10);
        }
    }
    let n = qids.len().max(1) as f64;
    println!("| paper score | semantic nDCG@10 | hybrid nDCG@10 ({fusion_cfg:?}, completed, 100 a side) |");
    println!("|---|---|---|");
    for (vi, name) in variants.iter().enumerate() {
        println!("| {name} | {:.4} | {:.4} |", sem_nd[vi] / n, hyb_nd[vi] / n);
    }
    Ok(())
}
