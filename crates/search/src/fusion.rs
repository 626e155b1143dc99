//! Combining the keyword and the semantic ranking into one.
//!
//! Methods: reciprocal-rank fusion (`Σ 1/(k + rank)`, rank from 1), a convex
//! blend of scores (`w · bm25/max_bm25 + (1 − w) · cos`, a missing score
//! counting as 0), the same blend over min-max or z-score normalised scores,
//! and a query-adaptive blend whose keyword weight follows how peaked each
//! side's scores are ([`adaptive_weight`]).
//!
//! Before fusing, the engine *completes* the two candidate lists
//! ([`complete`]): a keyword candidate that the semantic side did not return
//! gets its exact cosine, and a semantic candidate gets its BM25 score from a
//! deeper keyword list, so a paper is not punished for being just below one
//! side's cut-off. The measurements behind the default are in
//! docs/BENCHMARKS.md ("Search quality").

use std::collections::HashMap;

/// Weight of the normalised BM25 score in the blend (cosine gets 1 − w).
/// Tuned on SciFact train over w ∈ {0.1, 0.2, 0.25, 0.3, 0.35, …, 0.9}.
pub const DEFAULT_KEYWORD_WEIGHT: f32 = 0.35;
/// The customary k of reciprocal-rank fusion, for callers that want rank
/// fusion (on SciFact train k = 10 scored 0.722, k = 60 0.715).
pub const DEFAULT_RRF_K: f32 = 60.0;
/// How many of each side's top scores describe its shape (adaptive weights).
pub const PEAK_DEPTH: usize = 10;

/// How to fuse.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fusion {
    /// Reciprocal-rank fusion with this k.
    Rrf { k: f32 },
    /// `w · normalised BM25 + (1 − w) · cosine`.
    Blend { keyword_weight: f32 },
    /// Like `Blend`, both lists min-max normalised to [0, 1] first.
    MinMax { keyword_weight: f32 },
    /// Like `Blend`, both lists z-score normalised (mean 0, deviation 1 over
    /// the list) first.
    ZScore { keyword_weight: f32 },
    /// Like `Blend`, with the keyword weight moved per query by
    /// [`adaptive_weight`] (`strength` 0 is `Blend`).
    Adaptive { keyword_weight: f32, strength: f32 },
    /// `Blend` with `short_weight` for queries of at most `short_terms`
    /// analysed terms (keyword queries, where BM25 is the better judge) and
    /// `long_weight` for longer ones; [`Fusion::for_query`] picks. The
    /// default with sentence evidence ([`Fusion::for_evidence`]).
    ByLength { short_weight: f32, long_weight: f32, short_terms: usize },
}

impl Fusion {
    /// The default fusion for an index with `evidence`: the blend at
    /// [`DEFAULT_KEYWORD_WEIGHT`], or with sentence evidence the blend by
    /// query length (0.5 up to five terms, 0.3 above), measured best on
    /// both SciFact and the short-query set (docs/BENCHMARKS.md).
    pub fn for_evidence(evidence: crate::evidence::Evidence) -> Fusion {
        match evidence {
            crate::evidence::Evidence::Sentences => {
                Fusion::ByLength { short_weight: 0.5, long_weight: 0.3, short_terms: 5 }
            }
            _ => Fusion::default(),
        }
    }

    /// The fusion for one query whose analysed terms `terms` counts (called
    /// only for `ByLength`, which becomes its `Blend`; the others stay as
    /// they are, and the query is not analysed for them).
    pub fn for_query(self, terms: impl FnOnce() -> usize) -> Fusion {
        match self {
            Fusion::ByLength { short_weight, long_weight, short_terms } => {
                Fusion::Blend { keyword_weight: if terms() <= short_terms { short_weight } else { long_weight } }
            }
            other => other,
        }
    }
}

impl Default for Fusion {
    fn default() -> Self {
        Fusion::Blend { keyword_weight: DEFAULT_KEYWORD_WEIGHT }
    }
}

/// How far the best score stands above the next ones, in standard
/// deviations of the top [`PEAK_DEPTH`] scores: `(s₁ − mean) / sd`. A side
/// with one clear winner is peaked; a flat side (many equally good or
/// equally poor matches) is not. 0 for fewer than two scores or no spread.
pub fn peakedness(scores: &[f32]) -> f32 {
    let top: Vec<f32> = scores.iter().take(PEAK_DEPTH).copied().collect();
    if top.len() < 2 {
        return 0.0;
    }
    let n = top.len() as f32;
    let mean = top.iter().sum::<f32>() / n;
    let sd = (top.iter().map(|s| (s - mean) * (s - mean)).sum::<f32>() / n).sqrt();
    let best = top.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if sd > 1e-9 { (best - mean) / sd } else { 0.0 }
}

/// The keyword weight for one query: `w` moved towards the side whose
/// scores are more peaked, `w' = w·pₖᵃ / (w·pₖᵃ + (1 − w)·pₛᵃ)` with `pₖ`,
/// `pₛ` the [`peakedness`] of the keyword and semantic scores and `a` the
/// strength. Falls back to `w` when either side has no shape.
pub fn adaptive_weight(keyword_weight: f32, strength: f32, keyword: &[f32], semantic: &[f32]) -> f32 {
    let w = keyword_weight.clamp(0.0, 1.0);
    let (pk, ps) = (peakedness(keyword), peakedness(semantic));
    if pk <= 0.0 || ps <= 0.0 {
        return w;
    }
    let (a, b) = (w * pk.powf(strength), (1.0 - w) * ps.powf(strength));
    if a + b > 0.0 { a / (a + b) } else { w }
}

/// Gives the candidates of each side the other side's score where it is
/// known: keyword candidates missing from `semantic` get `cosine(key)`
/// (when the paper has a vector), semantic candidates missing from
/// `keyword` get their score from `keyword_deeper` (a longer keyword list
/// of the same query; absent there means no match). Both lists come back
/// sorted best first.
pub fn complete(
    keyword: &mut Vec<(String, f32)>,
    semantic: &mut Vec<(String, f32)>,
    keyword_deeper: &[(String, f32)],
    cosine: impl Fn(&str) -> Option<f32>,
) {
    let kw_keys: HashMap<String, ()> = keyword.iter().map(|(k, _)| (k.clone(), ())).collect();
    let sem_keys: HashMap<String, ()> = semantic.iter().map(|(k, _)| (k.clone(), ())).collect();
    let deeper: HashMap<&str, f32> = keyword_deeper.iter().map(|(k, s)| (k.as_str(), *s)).collect();
    let add_sem: Vec<(String, f32)> = keyword
        .iter()
        .filter(|(k, _)| !sem_keys.contains_key(k))
        .filter_map(|(k, _)| cosine(k).map(|c| (k.clone(), c)))
        .collect();
    let add_kw: Vec<(String, f32)> = semantic
        .iter()
        .filter(|(k, _)| !kw_keys.contains_key(k))
        .filter_map(|(k, _)| deeper.get(k.as_str()).map(|s| (k.clone(), *s)))
        .collect();
    keyword.extend(add_kw);
    semantic.extend(add_sem);
    for list in [keyword, semantic] {
        list.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    }
}

/// Scores of a list normalised by `how`: `Max` divides by the largest score
/// (clamped at 0), `MinMax` maps to [0, 1], `ZScore` to mean 0, deviation 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Norm {
    Max,
    MinMax,
    ZScore,
    /// Scores as they are, negatives clamped to 0 (cosines).
    Raw,
}

/// The normalised scores of a list, in its order.
pub fn normalise(list: &[(String, f32)], how: Norm) -> Vec<f32> {
    let scores: Vec<f32> = list.iter().map(|(_, s)| *s).collect();
    match how {
        Norm::Raw => scores.iter().map(|s| s.max(0.0)).collect(),
        Norm::Max => {
            let max = scores.iter().copied().fold(0.0f32, f32::max);
            scores.iter().map(|s| if max > 0.0 { s / max } else { 0.0 }).collect()
        }
        Norm::MinMax => {
            let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let min = scores.iter().copied().fold(f32::INFINITY, f32::min);
            let span = max - min;
            scores.iter().map(|s| if span > 0.0 { (s - min) / span } else { 1.0 }).collect()
        }
        Norm::ZScore => {
            if scores.is_empty() {
                return Vec::new();
            }
            let n = scores.len() as f32;
            let mean = scores.iter().sum::<f32>() / n;
            let sd = (scores.iter().map(|s| (s - mean) * (s - mean)).sum::<f32>() / n).sqrt();
            scores.iter().map(|s| if sd > 1e-9 { (s - mean) / sd } else { 0.0 }).collect()
        }
    }
}

/// Adds `w · kn(keyword) + (1 − w) · sn(semantic)` into `acc`.
fn blend<'a>(
    acc: &mut HashMap<&'a str, f32>,
    keyword: &'a [(String, f32)],
    semantic: &'a [(String, f32)],
    w: f32,
    kn: Norm,
    sn: Norm,
) {
    let w = w.clamp(0.0, 1.0);
    for ((key, _), s) in keyword.iter().zip(normalise(keyword, kn)) {
        *acc.entry(key).or_default() += w * s;
    }
    for ((key, _), s) in semantic.iter().zip(normalise(semantic, sn)) {
        *acc.entry(key).or_default() += (1.0 - w) * s;
    }
}

/// Fuses two ranked lists of (key, score), each best first. Returns keys
/// with fused scores, best first; ties broken by key for determinism.
pub fn fuse(keyword: &[(String, f32)], semantic: &[(String, f32)], how: Fusion) -> Vec<(String, f32)> {
    let mut acc: HashMap<&str, f32> = HashMap::new();
    match how {
        Fusion::Rrf { k } => {
            for list in [keyword, semantic] {
                for (rank, (key, _)) in list.iter().enumerate() {
                    *acc.entry(key).or_default() += 1.0 / (k + rank as f32 + 1.0);
                }
            }
        }
        Fusion::Blend { keyword_weight } => blend(&mut acc, keyword, semantic, keyword_weight, Norm::Max, Norm::Raw),
        Fusion::MinMax { keyword_weight } => {
            blend(&mut acc, keyword, semantic, keyword_weight, Norm::MinMax, Norm::MinMax)
        }
        Fusion::ZScore { keyword_weight } => {
            // A paper missing from one side counts as that side's worst
            // score rather than as the mean (0).
            let kz = normalise(keyword, Norm::ZScore);
            let sz = normalise(semantic, Norm::ZScore);
            let kmin = kz.iter().copied().fold(0.0f32, f32::min);
            let smin = sz.iter().copied().fold(0.0f32, f32::min);
            let w = keyword_weight.clamp(0.0, 1.0);
            let mut both: HashMap<&str, (f32, f32)> = HashMap::new();
            for ((key, _), s) in keyword.iter().zip(kz) {
                both.entry(key).or_insert((kmin, smin)).0 = s;
            }
            for ((key, _), s) in semantic.iter().zip(sz) {
                both.entry(key).or_insert((kmin, smin)).1 = s;
            }
            acc = both.into_iter().map(|(k, (a, b))| (k, w * a + (1.0 - w) * b)).collect();
        }
        Fusion::ByLength { long_weight, .. } => blend(&mut acc, keyword, semantic, long_weight, Norm::Max, Norm::Raw),
        Fusion::Adaptive { keyword_weight, strength } => {
            let ks: Vec<f32> = keyword.iter().map(|(_, s)| *s).collect();
            let ss: Vec<f32> = semantic.iter().map(|(_, s)| *s).collect();
            let w = adaptive_weight(keyword_weight, strength, &ks, &ss);
            blend(&mut acc, keyword, semantic, w, Norm::Max, Norm::Raw);
        }
    }
    let mut out: Vec<(String, f32)> = acc.into_iter().map(|(k, s)| (k.to_string(), s)).collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}
