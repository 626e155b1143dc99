//! Combining the keyword and the semantic ranking into one.
//!
//! Methods: reciprocal-rank fusion (`Σ 1/(k + rank)`, rank from 1), a convex
//! blend of scores (`w · bm25/max_bm25 + (1 − w) · cos`, a missing score
//! counting as 0), and the same blend over min-max normalised scores.
//!
//! The default, chosen on SciFact train only (809 queries, 100 candidates
//! from each side; `cargo run --release -p paperboy-search --example eval --
//! ../shared/eval/scifact-train --split train --work DIR --sweep`), is the
//! blend with w = 0.35. nDCG@10 there: blend w = 0.2 / 0.25 / 0.3 / 0.35 /
//! 0.4 / 0.5 / 0.6 → 0.723 / 0.728 / 0.726 / 0.729 / 0.727 / 0.727 / 0.723;
//! min-max w = 0.5 / 0.6 / 0.7 → 0.728 / 0.730 / 0.725; RRF k = 10 / 60 →
//! 0.722 / 0.715 (keyword alone 0.692, semantic alone 0.658). The blend was
//! picked over min-max's slightly higher peak because its optimum is a broad
//! plateau (0.25–0.5 within 0.003), so it depends less on the exact weight;
//! it beats RRF because it keeps how *much* better the top keyword hit is.

use std::collections::HashMap;

/// Weight of the normalised BM25 score in the blend (cosine gets 1 − w).
/// Tuned on SciFact train over w ∈ {0.1, 0.2, 0.25, 0.3, 0.35, …, 0.9}.
pub const DEFAULT_KEYWORD_WEIGHT: f32 = 0.35;
/// The customary k of reciprocal-rank fusion, for callers that want rank
/// fusion (on SciFact train k = 10 scored 0.722, k = 60 0.715).
pub const DEFAULT_RRF_K: f32 = 60.0;

/// How to fuse.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fusion {
    /// Reciprocal-rank fusion with this k.
    Rrf { k: f32 },
    /// `w · normalised BM25 + (1 − w) · cosine`.
    Blend { keyword_weight: f32 },
    /// Like `Blend`, both lists min-max normalised to [0, 1] first.
    MinMax { keyword_weight: f32 },
}

impl Default for Fusion {
    fn default() -> Self {
        Fusion::Blend { keyword_weight: DEFAULT_KEYWORD_WEIGHT }
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
        Fusion::Blend { keyword_weight } => {
            let w = keyword_weight.clamp(0.0, 1.0);
            let max = keyword.iter().map(|(_, s)| *s).fold(0.0f32, f32::max);
            for (key, s) in keyword {
                let norm = if max > 0.0 { s / max } else { 0.0 };
                *acc.entry(key).or_default() += w * norm;
            }
            for (key, s) in semantic {
                *acc.entry(key).or_default() += (1.0 - w) * s.max(0.0);
            }
        }
        Fusion::MinMax { keyword_weight } => {
            let w = keyword_weight.clamp(0.0, 1.0);
            for (list, weight) in [(keyword, w), (semantic, 1.0 - w)] {
                let max = list.iter().map(|(_, s)| *s).fold(f32::NEG_INFINITY, f32::max);
                let min = list.iter().map(|(_, s)| *s).fold(f32::INFINITY, f32::min);
                let span = max - min;
                for (key, s) in list {
                    let norm = if span > 0.0 { (s - min) / span } else { 1.0 };
                    *acc.entry(key).or_default() += weight * norm;
                }
            }
        }
    }
    let mut out: Vec<(String, f32)> = acc.into_iter().map(|(k, s)| (k.to_string(), s)).collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}
