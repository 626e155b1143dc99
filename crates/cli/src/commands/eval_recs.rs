//! `paperboy eval recs DIR`: recommendation quality on a directory of
//! `papers.jsonl` (Kaggle arXiv snapshot lines), `users.jsonl`
//! (`{"user", "liked", "relevant"}`) and `candidates.txt` (one id a line).
//! For every user the recommender ranks every candidate that is not liked,
//! trained on `liked` only and called exactly as `/for-you` calls it; nDCG@10
//! (binary gain), Recall@50 and MRR@10 are averaged over users, with the
//! definitions of `bench/recs_baseline.py`, beside two simple references.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use paperboy_core::Paper;
use paperboy_ingest::{Format, ImportOptions, Item as Record};
use paperboy_recs::{Candidate, Features, Item, Profile, Recommender};
use paperboy_search::Embedder;
use paperboy_search::keyword::embedding_text;
use serde::{Deserialize, Serialize};

/// Papers embedded per call to the model.
const EMBED_BATCH: usize = 32;

/// One row of the table.
#[derive(Debug, Clone, Serialize)]
pub struct MethodScore {
    pub method: String,
    pub users: usize,
    #[serde(rename = "ndcg@10")]
    pub ndcg10: f64,
    #[serde(rename = "recall@50")]
    pub recall50: f64,
    #[serde(rename = "mrr@10")]
    pub mrr10: f64,
}

/// The whole evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct RecsReport {
    pub users: usize,
    pub candidates: usize,
    pub papers: usize,
    pub methods: Vec<MethodScore>,
}

impl fmt::Display for RecsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} users, {} candidates, {} papers", self.users, self.candidates, self.papers)?;
        let w = self.methods.iter().map(|m| m.method.len()).max().unwrap_or(6).max(6);
        writeln!(f, "{:<w$}  {:>5}  {:>8}  {:>9}  {:>7}", "method", "users", "nDCG@10", "Recall@50", "MRR@10")?;
        for m in &self.methods {
            writeln!(f, "{:<w$}  {:>5}  {:>8.4}  {:>9.4}  {:>7.4}", m.method, m.users, m.ndcg10, m.recall50, m.mrr10)?;
        }
        Ok(())
    }
}

/// One line of users.jsonl (its `user` name is not needed).
#[derive(Deserialize)]
struct User {
    liked: Vec<String>,
    relevant: Vec<String>,
}

/// Reads the directory, embeds the papers when there is a model, and scores
/// every method.
pub fn evaluate(dir: &Path, embedder: Option<Arc<Embedder>>) -> Result<RecsReport> {
    let papers = read_papers(&dir.join("papers.jsonl"))?;
    let users = read_users(&dir.join("users.jsonl"))?;
    let candidate_ids = read_candidates(&dir.join("candidates.txt"))?;
    let index: HashMap<&str, usize> = papers.iter().enumerate().map(|(i, p)| (p.id.as_str(), i)).collect();
    let missing = candidate_ids.iter().filter(|c| !index.contains_key(c.as_str())).count();
    if missing > 0 {
        eprintln!("{missing} candidates are not in papers.jsonl; they are left out");
    }
    let candidates: Vec<usize> = candidate_ids.iter().filter_map(|c| index.get(c.as_str()).copied()).collect();

    let vectors = match &embedder {
        Some(e) => Some(embed(e, &papers)?),
        None => None,
    };
    let items: Vec<Item> = papers
        .iter()
        .enumerate()
        .map(|(i, p)| Item {
            id: &p.id,
            title: &p.title,
            text: &p.text,
            authors: &p.authors,
            categories: &p.categories,
            vector: vectors.as_ref().map(|v| v[i].as_slice()),
        })
        .collect();
    let recommender = Recommender::default();
    // A server keeps each paper's features; so does the evaluation.
    let features: Vec<Features> = items.iter().map(|i| recommender.features(i)).collect();
    let feature_of: HashMap<&str, &Features> = items.iter().zip(&features).map(|(i, f)| (i.id, f)).collect();

    let ours_name = if vectors.is_some() { "paperboy (tf-idf + MiniLM blend)" } else { "paperboy (tf-idf)" };
    let centroid_name =
        if vectors.is_some() { "centroid (mean MiniLM vector)" } else { "centroid (mean tf-idf vector)" };
    let mut rows: [Vec<[f64; 3]>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for user in &users {
        let liked_ids: HashSet<&str> = user.liked.iter().map(String::as_str).collect();
        let liked: Vec<Item> = user.liked.iter().filter_map(|id| index.get(id.as_str()).map(|&i| items[i])).collect();
        if liked.is_empty() || user.relevant.is_empty() {
            continue;
        }
        let relevant: HashSet<&str> = user.relevant.iter().map(String::as_str).collect();
        // What `/for-you` hands the recommender: the member's liked papers,
        // and candidates without popularity (the data set has none).
        let cands: Vec<Candidate> = candidates
            .iter()
            .filter(|&&i| !liked_ids.contains(items[i].id))
            .map(|&i| Candidate { item: items[i], popularity: 0.0 })
            .collect();
        let profile = Profile { liked, ..Profile::default() };

        let ranked = recommender.rank_with(&profile, &cands, |it| feature_of.get(it.id).copied());
        let ours: Vec<&str> = ranked.iter().map(|s| cands[s.index].item.id).collect();
        rows[0].push(metrics(&ours, &relevant));

        let mut by_recency: Vec<&str> = cands.iter().map(|c| c.item.id).collect();
        by_recency.sort_by(|a, b| recency_key(b).total_cmp(&recency_key(a)).then_with(|| a.cmp(b)));
        rows[1].push(metrics(&by_recency, &relevant));

        let scores = recommender.centroid_scores(&profile, &cands);
        let mut by_centroid: Vec<(f32, &str)> = scores.into_iter().zip(cands.iter().map(|c| c.item.id)).collect();
        by_centroid.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        let by_centroid: Vec<&str> = by_centroid.into_iter().map(|(_, id)| id).collect();
        rows[2].push(metrics(&by_centroid, &relevant));
    }
    if rows[0].is_empty() {
        bail!("no user has a liked paper in papers.jsonl and a relevant one: nothing to evaluate");
    }
    let methods = [ours_name, "recency", centroid_name]
        .into_iter()
        .zip(rows)
        .map(|(name, r)| {
            let n = r.len() as f64;
            let mean = |k: usize| r.iter().map(|m| m[k]).sum::<f64>() / n;
            MethodScore { method: name.to_string(), users: r.len(), ndcg10: mean(0), recall50: mean(1), mrr10: mean(2) }
        })
        .collect();
    Ok(RecsReport { users: users.len(), candidates: candidates.len(), papers: papers.len(), methods })
}

/// nDCG@10 with binary gain (ideal DCG over min(|relevant|, 10)), Recall@50
/// and MRR@10 of one ranking, as `bench/recs_baseline.py` defines them.
fn metrics(ranking: &[&str], relevant: &HashSet<&str>) -> [f64; 3] {
    let gain = |i: usize| 1.0 / ((i + 2) as f64).log2();
    let dcg: f64 =
        ranking.iter().take(10).enumerate().filter(|(_, id)| relevant.contains(*id)).map(|(i, _)| gain(i)).sum();
    let ideal: f64 = (0..relevant.len().min(10)).map(gain).sum();
    let found = ranking.iter().take(50).filter(|id| relevant.contains(*id)).collect::<HashSet<_>>().len();
    let mrr = ranking.iter().take(10).position(|id| relevant.contains(id)).map_or(0.0, |i| 1.0 / (i + 1) as f64);
    [dcg / ideal, found as f64 / relevant.len() as f64, mrr]
}

/// Newest first: an arXiv id without its dot, as a number (0 for others).
fn recency_key(id: &str) -> f64 {
    let digits: String = id.chars().filter(|c| *c != '.').collect();
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) { digits.parse().unwrap_or(0.0) } else { 0.0 }
}

struct EvalPaper {
    id: String,
    title: String,
    text: String,
    authors: Vec<String>,
    categories: Vec<String>,
}

impl From<Paper> for EvalPaper {
    fn from(p: Paper) -> Self {
        EvalPaper {
            id: p.id.to_string(),
            title: p.title,
            text: p.abstract_text,
            authors: p.authors,
            categories: p.categories,
        }
    }
}

/// Reads `papers.jsonl` with the importer's Kaggle parser; bad lines are
/// reported with their line numbers and skipped.
fn read_papers(path: &Path) -> Result<Vec<EvalPaper>> {
    let opts = ImportOptions { listed_on: None, today: chrono::Utc::now().date_naive() };
    let records = paperboy_ingest::open(path, &opts).with_context(|| format!("cannot read {}", path.display()))?;
    if records.format() != Format::KaggleJsonl {
        bail!("{} holds {} records, not Kaggle arXiv snapshot lines", path.display(), records.format());
    }
    let mut papers = Vec::new();
    for record in records {
        match record {
            Record::Paper(p) => papers.push(EvalPaper::from(*p)),
            Record::Rejected(r) | Record::Skipped(r) => eprintln!("papers.jsonl {r}: skipped"),
        }
    }
    if papers.is_empty() {
        bail!("{} has no usable paper", path.display());
    }
    Ok(papers)
}

fn read_users(path: &Path) -> Result<Vec<User>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut users = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let user: User = serde_json::from_str(line).with_context(|| {
            format!(
                "{} line {}: expected {{\"user\": …, \"liked\": [ids], \"relevant\": [ids]}}",
                path.display(),
                n + 1
            )
        })?;
        users.push(user);
    }
    if users.is_empty() {
        bail!("{} has no user", path.display());
    }
    Ok(users)
}

fn read_candidates(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut ids = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line.split_whitespace().count() > 1 {
            bail!("{} line {}: expected one paper id, found {line:?}", path.display(), n + 1);
        }
        ids.push(line.to_string());
    }
    if ids.is_empty() {
        bail!("{} has no candidate", path.display());
    }
    Ok(ids)
}

/// Embeds every paper as the search index does (title + ". " + abstract),
/// with a progress bar.
fn embed(embedder: &Embedder, papers: &[EvalPaper]) -> Result<Vec<Vec<f32>>> {
    let bar = crate::progress::count_bar(papers.len() as u64, "embedding");
    let mut out = Vec::with_capacity(papers.len());
    for chunk in papers.chunks(EMBED_BATCH) {
        let texts: Vec<String> = chunk.iter().map(|p| embedding_text(&p.title, &p.text)).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        out.extend(embedder.embed(&refs).context("embedding the papers failed")?);
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_follow_the_baseline_definitions() {
        let relevant: HashSet<&str> = ["b", "z"].into_iter().collect();
        let ranking = ["a", "b", "c"];
        let [ndcg, recall, mrr] = metrics(&ranking, &relevant);
        let ideal = 1.0 + 1.0 / 3f64.log2();
        assert!((ndcg - (1.0 / 3f64.log2()) / ideal).abs() < 1e-12);
        assert_eq!(recall, 0.5);
        assert_eq!(mrr, 0.5);
        assert_eq!(recency_key("2601.00012"), 260100012.0);
        assert_eq!(recency_key("pb-x"), 0.0);
    }
}
