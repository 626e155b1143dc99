//! Relevance evaluation on BEIR-format data: `corpus.jsonl` (`_id`, `title`,
//! `text`), `queries.jsonl` (`_id`, `text`) and `qrels/{split}.tsv` (a
//! header line, then `query-id corpus-id score`).
//!
//! The corpus is indexed into a (temporary or given) directory, every query
//! with judgements is run in each mode, and nDCG@10 (graded, linear gain,
//! as trec_eval and BEIR compute it), Recall@100 and MRR@10 are averaged
//! over those queries.

use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use paperboy_core::{Paper, PaperId};

use crate::embed::Embedder;
use crate::engine::{SearchEngine, SearchMode, SearchOptions};
use crate::error::{Result, SearchError};
use crate::fusion::Fusion;

/// Relevance judgements of one query: doc id → grade (> 0 relevant).
pub type Qrels = HashMap<String, u32>;

/// nDCG at `k`: DCG of the ranking (gain = grade, discount log2(rank + 1))
/// over the DCG of the ideal ranking. 0 when nothing is relevant.
pub fn ndcg_at(ranking: &[String], qrels: &Qrels, k: usize) -> f64 {
    let dcg: f64 = ranking
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, d)| f64::from(*qrels.get(d).unwrap_or(&0)) / ((i + 2) as f64).log2())
        .sum();
    let mut grades: Vec<u32> = qrels.values().copied().filter(|&g| g > 0).collect();
    grades.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = grades.iter().take(k).enumerate().map(|(i, &g)| f64::from(g) / ((i + 2) as f64).log2()).sum();
    if idcg > 0.0 { dcg / idcg } else { 0.0 }
}

/// Share of the relevant documents found in the first `k`.
pub fn recall_at(ranking: &[String], qrels: &Qrels, k: usize) -> f64 {
    let relevant = qrels.values().filter(|&&g| g > 0).count();
    if relevant == 0 {
        return 0.0;
    }
    let found = ranking.iter().take(k).filter(|d| qrels.get(*d).is_some_and(|&g| g > 0)).count();
    found as f64 / relevant as f64
}

/// 1 / rank of the first relevant document within the first `k` (else 0).
pub fn mrr_at(ranking: &[String], qrels: &Qrels, k: usize) -> f64 {
    ranking.iter().take(k).position(|d| qrels.get(d).is_some_and(|&g| g > 0)).map_or(0.0, |i| 1.0 / (i + 1) as f64)
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ModeScores {
    pub mode: SearchMode,
    pub ndcg_at_10: f64,
    pub recall_at_100: f64,
    pub mrr_at_10: f64,
    /// Mean query latency in milliseconds (embedding included).
    pub mean_latency_ms: f64,
}

/// The result of an evaluation run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EvalReport {
    pub dataset: String,
    pub split: String,
    pub documents: usize,
    pub queries: usize,
    pub rows: Vec<ModeScores>,
    /// Seconds spent indexing (keyword + embeddings).
    pub index_seconds: f64,
}

impl EvalReport {
    /// The row of a mode.
    pub fn get(&self, mode: SearchMode) -> Option<&ModeScores> {
        self.rows.iter().find(|r| r.mode == mode)
    }
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} ({} split): {} documents, {} queries", self.dataset, self.split, self.documents, self.queries)?;
        writeln!(f, "| mode     | nDCG@10 | Recall@100 | MRR@10 | ms/query |")?;
        writeln!(f, "|----------|---------|------------|--------|----------|")?;
        for r in &self.rows {
            writeln!(
                f,
                "| {:<8} | {:>7.4} | {:>10.4} | {:>6.4} | {:>8.1} |",
                r.mode.as_str(),
                r.ndcg_at_10,
                r.recall_at_100,
                r.mrr_at_10,
                r.mean_latency_ms
            )?;
        }
        Ok(())
    }
}

/// Options of [`eval_beir_with`].
#[derive(Debug, Clone)]
pub struct EvalOptions {
    pub split: String,
    pub modes: Vec<SearchMode>,
    pub embedder: Option<Arc<Embedder>>,
    /// Keep the index here (and reuse it when it already holds the corpus)
    /// instead of a temporary directory.
    pub work_dir: Option<PathBuf>,
    /// Fusion override for hybrid mode.
    pub fusion: Option<Fusion>,
}

/// A BEIR dataset in memory.
#[derive(Debug, Clone, Default)]
pub struct BeirData {
    /// (id, title, text)
    pub corpus: Vec<(String, String, String)>,
    pub queries: HashMap<String, String>,
    pub qrels: HashMap<String, Qrels>,
}

fn data_err(path: &Path, why: impl Into<String>) -> SearchError {
    SearchError::EvalData { path: path.to_path_buf(), why: why.into() }
}

fn read_jsonl(path: &Path, mut each: impl FnMut(serde_json::Value) -> Result<()>) -> Result<()> {
    let f = std::fs::File::open(path).map_err(|e| data_err(path, format!("cannot open: {e}")))?;
    for (n, line) in BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| data_err(path, format!("line {}: {e}", n + 1)))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| data_err(path, format!("line {}: {e}", n + 1)))?;
        each(v)?;
    }
    Ok(())
}

fn str_field(v: &serde_json::Value, name: &str) -> String {
    match &v[name] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// In a data set directory without `corpus.jsonl`, this file names (relative
/// to the directory, first line) an arXiv JSONL file (`id`, `title`,
/// `abstract`) whose records are the corpus, ids being arXiv ids. The
/// short-query set in `bench/search/short/` uses it to judge papers from
/// `../shared` without copying them.
pub const CORPUS_SOURCE: &str = "corpus-source.txt";

/// Where a data set's corpus comes from: `corpus.jsonl`, or the arXiv JSONL
/// file named by [`CORPUS_SOURCE`].
pub fn corpus_path(dir: &Path) -> Result<(PathBuf, bool)> {
    let beir = dir.join("corpus.jsonl");
    let source = dir.join(CORPUS_SOURCE);
    if beir.is_file() || !source.is_file() {
        return Ok((beir, false));
    }
    let text = std::fs::read_to_string(&source).map_err(|e| data_err(&source, format!("cannot read: {e}")))?;
    let rel = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).unwrap_or("");
    if rel.is_empty() {
        return Err(data_err(&source, "names no corpus file"));
    }
    Ok((dir.join(rel), true))
}

/// Reads a BEIR dataset directory.
pub fn load_beir(dir: &Path, split: &str) -> Result<BeirData> {
    let mut data = BeirData::default();
    let (corpus, arxiv) = corpus_path(dir)?;
    if arxiv && !corpus.is_file() {
        return Err(data_err(
            &corpus,
            "the corpus is not there (it is read from ../shared beside the repository; skip this set without it)",
        ));
    }
    let (id_field, text_field) = if arxiv { ("id", "abstract") } else { ("_id", "text") };
    read_jsonl(&corpus, |v| {
        let id = str_field(&v, id_field);
        if id.is_empty() {
            return Err(data_err(&corpus, format!("a document without {id_field}")));
        }
        data.corpus.push((id, str_field(&v, "title"), str_field(&v, text_field)));
        Ok(())
    })?;
    let queries = dir.join("queries.jsonl");
    read_jsonl(&queries, |v| {
        data.queries.insert(str_field(&v, "_id"), str_field(&v, "text"));
        Ok(())
    })?;
    let qrels_path = dir.join("qrels").join(format!("{split}.tsv"));
    let text = std::fs::read_to_string(&qrels_path)
        .map_err(|e| data_err(&qrels_path, format!("cannot read ({e}); is `{split}` a split of this dataset?")))?;
    for (n, line) in text.lines().enumerate() {
        let cols: Vec<&str> = line.split('\t').map(str::trim).collect();
        if cols.len() < 3 {
            continue;
        }
        let Ok(score) = cols[2].parse::<i64>() else {
            if n == 0 {
                continue; // the header
            }
            return Err(data_err(&qrels_path, format!("line {}: score is not a number", n + 1)));
        };
        data.qrels.entry(cols[0].to_string()).or_default().insert(cols[1].to_string(), score.max(0) as u32);
    }
    Ok(data)
}

/// Local paper id for the n-th corpus document (BEIR ids are not arXiv ids).
fn doc_key(n: usize) -> PaperId {
    PaperId::parse(&format!("pb-{n:016x}")).expect("16 hex digits make a local id")
}

/// Runs the evaluation with default options (temporary index).
pub fn eval_beir(dir: &Path, split: &str, modes: &[SearchMode], embedder: Option<Arc<Embedder>>) -> Result<EvalReport> {
    eval_beir_with(
        dir,
        &EvalOptions { split: split.to_string(), modes: modes.to_vec(), embedder, work_dir: None, fusion: None },
    )
}

/// Indexes a dataset into an engine at `index_dir` (reusing it when it
/// already holds every document with a vector). Returns the engine and the
/// local-key → BEIR-id map.
pub fn build_index(
    data: &BeirData,
    index_dir: &Path,
    embedder: Option<Arc<Embedder>>,
) -> Result<(SearchEngine, HashMap<String, String>)> {
    drop_vectors_of_other_model(index_dir, embedder.as_deref())?;
    let engine = SearchEngine::open(index_dir, embedder.clone())?;
    let mut back = HashMap::with_capacity(data.corpus.len());
    let day = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default();
    let papers: Vec<Paper> = data
        .corpus
        .iter()
        .enumerate()
        .map(|(n, (id, title, text))| {
            let key = doc_key(n);
            back.insert(key.to_string(), id.clone());
            let mut p = Paper::new(key, title.clone(), day);
            p.abstract_text = text.clone();
            p
        })
        .collect();
    let stats = engine.stats()?;
    // Reopened below: the writer lock is this process's only while one engine holds it.
    drop(engine);
    if stats.docs != papers.len() as u64 {
        // Keyword first, vectors through the pending job (as in production).
        let plain = SearchEngine::open(index_dir, None)?;
        for chunk in papers.chunks(2_000) {
            plain.index_papers(chunk)?;
        }
        drop(plain);
    }
    let engine = SearchEngine::open(index_dir, embedder)?;
    engine.embed_pending(256, |done, total| {
        tracing::info!(done, total, "embedding corpus");
    })?;
    Ok((engine, back))
}

/// A kept index directory is a vector cache: vectors are reused when their
/// text hash matches (see the engine). This also keys them by the model:
/// `model.key` beside the index names the model directory, the size of its
/// weights, the encoder's arithmetic and the token limit; when it differs,
/// the vectors are deleted and recomputed.
fn drop_vectors_of_other_model(index_dir: &Path, embedder: Option<&Embedder>) -> Result<()> {
    let Some(emb) = embedder else {
        return Ok(());
    };
    let weights = std::fs::metadata(emb.dir().join("model.safetensors")).map(|m| m.len()).unwrap_or(0);
    let key = format!("{} {} {} {}\n", emb.dir().display(), weights, emb.arithmetic(), crate::embed::MAX_TOKENS);
    let path = index_dir.join("model.key");
    if std::fs::read_to_string(&path).ok().as_deref() != Some(key.as_str()) {
        let vectors = index_dir.join("vectors");
        if vectors.exists() {
            tracing::info!(dir = %vectors.display(), "cached vectors are from another model; recomputing them");
            std::fs::remove_dir_all(&vectors)
                .map_err(|e| SearchError::io(format!("removing {}", vectors.display()), e))?;
        }
        std::fs::create_dir_all(index_dir)
            .map_err(|e| SearchError::io(format!("creating {}", index_dir.display()), e))?;
        std::fs::write(&path, key).map_err(|e| SearchError::io(format!("writing {}", path.display()), e))?;
    }
    Ok(())
}

/// Runs the evaluation.
pub fn eval_beir_with(dir: &Path, opts: &EvalOptions) -> Result<EvalReport> {
    let data = load_beir(dir, &opts.split)?;
    let tmp;
    let index_dir = match &opts.work_dir {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::tempdir().map_err(|e| SearchError::io("creating a temporary directory", e))?;
            tmp.path().join("index")
        }
    };
    let started = Instant::now();
    let (engine, back) = build_index(&data, &index_dir, opts.embedder.clone())?;
    let index_seconds = started.elapsed().as_secs_f64();
    if let Some(f) = opts.fusion {
        engine.set_fusion(f);
    }
    let mut qids: Vec<&String> = data.qrels.keys().filter(|q| data.queries.contains_key(*q)).collect();
    qids.sort();
    let mut rows = Vec::new();
    for &mode in &opts.modes {
        let (mut nd, mut rc, mut mr) = (0.0, 0.0, 0.0);
        let t = Instant::now();
        for qid in &qids {
            let ranking = run_query(&engine, &back, &data.queries[*qid], mode)?;
            let qrels = &data.qrels[*qid];
            nd += ndcg_at(&ranking, qrels, 10);
            rc += recall_at(&ranking, qrels, 100);
            mr += mrr_at(&ranking, qrels, 10);
        }
        let n = qids.len().max(1) as f64;
        rows.push(ModeScores {
            mode,
            ndcg_at_10: nd / n,
            recall_at_100: rc / n,
            mrr_at_10: mr / n,
            mean_latency_ms: t.elapsed().as_secs_f64() * 1000.0 / n,
        });
    }
    Ok(EvalReport {
        dataset: dir.file_name().map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into_owned()),
        split: opts.split.clone(),
        documents: data.corpus.len(),
        queries: qids.len(),
        rows,
        index_seconds,
    })
}

/// The top 100 BEIR document ids for a query text in a mode. The query is
/// searched as plain words (claims contain `:` and quotes by accident).
pub fn run_query(
    engine: &SearchEngine,
    back: &HashMap<String, String>,
    text: &str,
    mode: SearchMode,
) -> Result<Vec<String>> {
    let cleaned: String = text.chars().map(|c| if c == '"' || c == ':' || c == '-' { ' ' } else { c }).collect();
    let res = engine.search(
        &cleaned,
        &SearchOptions { mode, limit: 100, offset: 0, highlights: false, ..SearchOptions::default() },
    )?;
    Ok(res.hits.into_iter().filter_map(|h| back.get(&h.id.to_string()).cloned()).collect())
}
