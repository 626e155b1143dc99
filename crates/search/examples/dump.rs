//! Writes what the search-quality prototypes (issue 18, `bench/search/proto/`)
//! need to try ranking ideas in numpy without re-running the engine: each
//! document's analysed title and abstract tokens and its vector, each
//! query's analysed tokens, vector and keyword top 1,000 (BM25 as the
//! engine scores it), and optionally extra vectors per document.
//!
//! ```text
//! cargo run --release -p paperboy-search --example dump -- DATASET_DIR --split S --work DIR --out OUT \
//!     [--passages] [--sentences N] [--windows TOKENS [--window-bare] [--window-no-overlap]] [--time-first]
//! ```
//! `DIR` is the eval example's kept index (vectors reused); extra vectors
//! are cached there too (`DIR/NAME.f32`). Extra vectors, each written as
//! `OUT/NAME.f32` with `OUT/NAME_owner.json` (the document of each row):
//! - `--passages`: the rest of abstracts longer than 256 tokens, in titled
//!   passages with 32 tokens of overlap (`passages`);
//! - `--sentences N`: titled windows of N sentences, sliding by one (`sentN`);
//! - `--windows T`: titled windows of T abstract tokens, a quarter
//!   overlapping (`winT`; `--window-bare`: the title in the first window only,
//!   named `-bare`; `--window-no-overlap`: named `-step`).
//!
//! `--time-first` times the engine's own pass over the corpus, so that the
//! extra vectors' cost (printed as they are embedded) can be stated
//! relative to it.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use paperboy_core::PaperId;
use paperboy_search::engine::KEYWORD_LOOKUP_DEPTH;
use paperboy_search::evidence::{self, Evidence};
use paperboy_search::keyword::embedding_text;
use paperboy_search::{Embedder, eval, query};

fn write_f32(path: &std::path::Path, rows: &[Vec<f32>]) -> std::io::Result<()> {
    let bytes: Vec<u8> = rows.iter().flatten().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(path, bytes)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (mut dir, mut split, mut work, mut out) = (None, "test".to_string(), None, None);
    let mut model = PathBuf::from("models/all-MiniLM-L6-v2");
    let mut passages = false;
    let mut windows: Option<usize> = None;
    let mut window_title = true;
    let mut sentences: Option<usize> = None;
    let mut time_first = false;
    let mut window_overlap = true;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--split" => split = args.next().ok_or("--split needs a value")?,
            "--work" => work = Some(PathBuf::from(args.next().ok_or("--work needs a value")?)),
            "--out" => out = Some(PathBuf::from(args.next().ok_or("--out needs a value")?)),
            "--model" => model = args.next().ok_or("--model needs a value")?.into(),
            "--passages" => passages = true,
            "--window-bare" => window_title = false,
            "--time-first" => time_first = true,
            "--sentences" => sentences = Some(args.next().ok_or("--sentences needs a count")?.parse()?),
            "--window-no-overlap" => window_overlap = false,
            "--windows" => windows = Some(args.next().ok_or("--windows needs a token count")?.parse()?),
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let dir = dir.ok_or("usage: dump DATASET_DIR --split S --work DIR --out OUT [--passages]")?;
    let work = work.ok_or("--work DIR is needed")?;
    let out = out.ok_or("--out OUT is needed")?;
    std::fs::create_dir_all(&out)?;
    let emb = Arc::new(Embedder::load(&model)?);
    let data = eval::load_beir(&dir, &split)?;
    let (engine, back) = eval::build_index(&data, &work, Some(emb.clone()))?;
    let key_of: HashMap<&str, &str> = back.iter().map(|(k, b)| (b.as_str(), k.as_str())).collect();
    let index_of: HashMap<&str, usize> =
        data.corpus.iter().enumerate().map(|(i, (id, _, _))| (id.as_str(), i)).collect();
    let dim = emb.dim();

    let mut docs = std::io::BufWriter::new(std::fs::File::create(out.join("docs.jsonl"))?);
    let mut vecs = Vec::with_capacity(data.corpus.len());
    for (id, title, text) in &data.corpus {
        let line = serde_json::json!({
            "id": id,
            "title": engine.analyze_text(title),
            "abstract": engine.analyze_text(text),
        });
        writeln!(docs, "{line}")?;
        let key = key_of[id.as_str()];
        vecs.push(engine.vector(&PaperId::parse(key).expect("local key")).unwrap_or_else(|| vec![0.0; dim]));
    }
    docs.flush()?;
    write_f32(&out.join("doc_vecs.f32"), &vecs)?;

    let embed_cached = |name: &str, texts: &[String]| -> Result<Vec<Vec<f32>>, Box<dyn std::error::Error>> {
        let cache = work.join(format!("{name}.f32"));
        if let Ok(bytes) = std::fs::read(&cache)
            && bytes.len() == texts.len() * dim * 4
        {
            return Ok(bytes
                .chunks(dim * 4)
                .map(|c| c.chunks(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
                .collect());
        }
        let t = std::time::Instant::now();
        let mut v = Vec::with_capacity(texts.len());
        for (n, chunk) in texts.chunks(128).enumerate() {
            let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
            v.extend(emb.embed(&refs)?);
            eprintln!("{name} {}/{}", (n + 1) * 128, texts.len());
        }
        eprintln!("embedded {} {name} texts in {:.1} s", texts.len(), t.elapsed().as_secs_f64());
        write_f32(&cache, &v)?;
        Ok(v)
    };
    if passages {
        let mut tok = tokenizers::Tokenizer::from_file(model.join("tokenizer.json")).map_err(|e| e.to_string())?;
        tok.with_truncation(None).map_err(|e| e.to_string())?;
        // The engine's own passages (`search.evidence = "passages"`).
        let (mut owners, mut texts) = (Vec::new(), Vec::new());
        for (i, (_, title, text)) in data.corpus.iter().enumerate() {
            for passage in Evidence::Passages.texts(&tok, title, text) {
                texts.push(passage);
                owners.push(i);
            }
        }
        let v = embed_cached("passages", &texts)?;
        write_f32(&out.join("passages.f32"), &v)?;
        std::fs::write(out.join("passages_owner.json"), serde_json::to_string(&owners)?)?;
    }
    if time_first {
        // The engine's own pass (`title. abstract`, first 256 tokens), timed
        // the same way as the extra vectors below, for their relative cost.
        let texts: Vec<String> = data.corpus.iter().map(|(_, t, x)| embedding_text(t, x)).collect();
        let t = std::time::Instant::now();
        for chunk in texts.chunks(128) {
            let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
            emb.embed(&refs)?;
        }
        eprintln!("embedded {} first-pass texts in {:.1} s", texts.len(), t.elapsed().as_secs_f64());
    }
    if let Some(size) = windows {
        // Windows of `size` tokens of the abstract, a quarter overlapping,
        // each prefixed with the title.
        let mut tok = tokenizers::Tokenizer::from_file(model.join("tokenizer.json")).map_err(|e| e.to_string())?;
        tok.with_truncation(None).map_err(|e| e.to_string())?;
        let (mut owners, mut texts) = (Vec::new(), Vec::new());
        for (i, (_, title, text)) in data.corpus.iter().enumerate() {
            let enc = tok.encode(text.as_str(), false).map_err(|e| e.to_string())?;
            let offsets = enc.get_offsets();
            let step = if window_overlap { size - size / 4 } else { size };
            let mut start = 0;
            loop {
                let end = (start + size).min(offsets.len());
                let (mut a, mut b) = if offsets.is_empty() {
                    (0, 0)
                } else {
                    let a = offsets[start].0;
                    (a, offsets[start..end].iter().map(|o| o.1).max().unwrap_or(a).max(a))
                };
                while !text.is_char_boundary(a) {
                    a -= 1;
                }
                while !text.is_char_boundary(b) {
                    b += 1;
                }
                if window_title || start == 0 {
                    texts.push(format!("{}. {}", title.trim().trim_end_matches('.'), &text[a..b]));
                } else {
                    texts.push(text[a..b].to_string());
                }
                owners.push(i);
                if end >= offsets.len() {
                    break;
                }
                start += step;
            }
        }
        let name = format!(
            "win{size}{}{}",
            if window_title { "" } else { "-bare" },
            if window_overlap { "" } else { "-step" }
        );
        let v = embed_cached(&name, &texts)?;
        write_f32(&out.join(format!("{name}.f32")), &v)?;
        std::fs::write(out.join(format!("{name}_owner.json")), serde_json::to_string(&owners)?)?;
    }

    if let Some(per) = sentences {
        // Titled windows of `per` consecutive sentences, sliding by one.
        let (mut owners, mut texts) = (Vec::new(), Vec::new());
        for (i, (_, title, text)) in data.corpus.iter().enumerate() {
            // The engine's sentence split; an empty abstract counts as one
            // empty sentence here, so that every document has a row.
            let mut sents: Vec<&str> = evidence::sentences(text);
            if sents.is_empty() {
                sents.push("");
            }
            let count = sents.len().saturating_sub(per - 1).max(1);
            for s in 0..count {
                let body = sents[s..(s + per).min(sents.len())].join(" ");
                texts.push(format!("{}. {}", title.trim().trim_end_matches('.'), body));
                owners.push(i);
            }
        }
        let name = format!("sent{per}");
        let v = embed_cached(&name, &texts)?;
        write_f32(&out.join(format!("{name}.f32")), &v)?;
        std::fs::write(out.join(format!("{name}_owner.json")), serde_json::to_string(&owners)?)?;
    }
    let mut qids: Vec<&String> = data.qrels.keys().filter(|q| data.queries.contains_key(*q)).collect();
    qids.sort();
    let mut queries = std::io::BufWriter::new(std::fs::File::create(out.join("queries.jsonl"))?);
    let mut qvecs = Vec::with_capacity(qids.len());
    for q in &qids {
        let cleaned: String =
            data.queries[*q].chars().map(|c| if c == '"' || c == ':' || c == '-' { ' ' } else { c }).collect();
        let sem_text = query::parse(&cleaned).semantic_text();
        qvecs.push(emb.embed(&[sem_text.as_str()])?.pop().unwrap_or_else(|| vec![0.0; dim]));
        let (kw, _, _) = engine.candidate_scores(&cleaned, KEYWORD_LOOKUP_DEPTH, 1)?;
        let kw: Vec<(usize, f32)> = kw
            .iter()
            .filter_map(|(k, s)| back.get(k).and_then(|b| index_of.get(b.as_str())).map(|&i| (i, *s)))
            .collect();
        let qrels: HashMap<&String, &u32> = data.qrels[*q].iter().collect();
        let line = serde_json::json!({
            "id": q, "text": data.queries[*q], "tokens": engine.analyze_text(&cleaned), "kw": kw, "qrels": qrels,
        });
        writeln!(queries, "{line}")?;
    }
    queries.flush()?;
    write_f32(&out.join("query_vecs.f32"), &qvecs)?;
    println!("{} documents, {} queries written to {}", data.corpus.len(), qids.len(), out.display());
    Ok(())
}
