//! [`Recommender::rank`]: the blend of keyword and vector similarity to the
//! liked papers, the "not for me" push-down, the bounded bonuses of followed
//! authors, categories and saved searches, the cold start, and the reason
//! of every pick (docs/RECOMMENDATIONS.md explains each choice).

use std::borrow::Cow;
use std::collections::HashSet;

use crate::dense;
use crate::text::Features;
use crate::tfidf::{Idf, Postings, Sparse};
use crate::{Candidate, Item, Profile, Reason, Scored};

/// The weights of the ranking. The similarity terms are z-scores over the
/// candidates of one ranking (mean 0, standard deviation 1), so every weight
/// is in the same unit: standard deviations of evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct RecSettings {
    /// Highest tf-idf cosine to a liked paper.
    pub keyword_max: f32,
    /// Mean tf-idf cosine to the liked papers.
    pub keyword_mean: f32,
    /// Highest sentence-vector cosine to a liked paper.
    pub vector_max: f32,
    /// Mean sentence-vector cosine to the liked papers.
    pub vector_mean: f32,
    /// Subtracted per unit of above-average similarity to a "not for me"
    /// paper (keyword and vector, highest cosine each).
    pub not_for_me: f32,
    /// Bonus for a paper by a followed author.
    pub author: f32,
    /// Bonus for a paper matching a saved search.
    pub saved_search: f32,
    /// Bonus for a paper in a followed category.
    pub category: f32,
    /// The most the bonuses add up to.
    pub bonus_cap: f32,
    /// A term counts when at least this many of the ranked papers have it.
    pub min_df: u32,
    /// ... and at most this share of them.
    pub max_df: f32,
    /// Vector terms are used when at least this share of the candidates and
    /// one liked paper have a vector.
    pub min_vector_share: f32,
}

impl Default for RecSettings {
    fn default() -> Self {
        RecSettings {
            keyword_max: 1.0,
            keyword_mean: 1.0,
            vector_max: 1.0,
            vector_mean: 1.0,
            not_for_me: 0.5,
            author: 1.5,
            saved_search: 1.0,
            category: 0.5,
            bonus_cap: 2.0,
            min_df: 2,
            max_df: 0.5,
            min_vector_share: 0.5,
        }
    }
}

/// Ranks candidates for one member. Pure and deterministic: the same
/// profile and candidates give the same ranking.
#[derive(Debug, Clone, Default)]
pub struct Recommender {
    settings: RecSettings,
}

impl Recommender {
    pub fn new(settings: RecSettings) -> Recommender {
        Recommender { settings }
    }

    pub fn settings(&self) -> &RecSettings {
        &self.settings
    }

    /// Whether a ranking of these items would use the sentence vectors (the
    /// same rule [`Recommender::rank`] applies), e.g. to name the method.
    pub fn uses_vectors(&self, profile: &Profile, candidates: &[Candidate]) -> bool {
        let dim = profile.liked.iter().find_map(|i| i.vector.map(<[f32]>::len));
        dim.is_some_and(|d| {
            let with = candidates.iter().filter(|c| c.item.vector.is_some_and(|v| v.len() == d)).count();
            with > 0 && with as f32 >= self.settings.min_vector_share * candidates.len() as f32
        })
    }

    /// The cacheable keyword representation of a paper (see
    /// [`Recommender::rank_with`]).
    pub fn features(&self, item: &Item) -> Features {
        Features::from_text(item.title, item.text)
    }

    /// Ranks the candidates, best first: never a liked or disliked paper,
    /// every result with its reason. Tokenises every text; a server that
    /// keeps [`Features`] per paper calls [`Recommender::rank_with`].
    pub fn rank(&self, profile: &Profile, candidates: &[Candidate]) -> Vec<Scored> {
        self.rank_with(profile, candidates, |_| None)
    }

    /// [`Recommender::rank`] with cached features: `cached` returns the
    /// [`Features`] of an item (candidate, liked or disliked) when the caller
    /// has them, `None` to have them computed. The result is the same.
    pub fn rank_with<'f>(
        &self,
        profile: &Profile,
        candidates: &[Candidate],
        cached: impl Fn(&Item) -> Option<&'f Features>,
    ) -> Vec<Scored> {
        let s = &self.settings;
        let excluded: HashSet<&str> = profile.liked.iter().chain(&profile.disliked).map(|i| i.id).collect();
        let kept: Vec<usize> = (0..candidates.len()).filter(|&i| !excluded.contains(candidates[i].item.id)).collect();
        if kept.is_empty() {
            return Vec::new();
        }
        let feats = |item: &Item| -> Cow<'f, Features> {
            match cached(item) {
                Some(f) => Cow::Borrowed(f),
                None => Cow::Owned(self.features(item)),
            }
        };
        let cand_items: Vec<&Item> = kept.iter().map(|&i| &candidates[i].item).collect();
        let bonuses: Vec<Bonus> = kept.iter().map(|&i| self.bonus(profile, &candidates[i].item)).collect();

        let mut sim = vec![0.0f32; kept.len()];
        let mut like_reason: Vec<Option<usize>> = vec![None; kept.len()];
        let mut penalty = vec![0.0f32; kept.len()];
        let needs_text = !profile.liked.is_empty() || !profile.disliked.is_empty();
        if needs_text {
            let cand_f: Vec<Cow<Features>> = cand_items.iter().map(|i| feats(i)).collect();
            let liked_f: Vec<Cow<Features>> = profile.liked.iter().map(&feats).collect();
            let idf = Idf::fit(cand_f.iter().chain(&liked_f).map(|c| c.as_ref()), s.min_df, s.max_df);
            let cand_v: Vec<Sparse> = cand_f.iter().map(|f| idf.vector(f)).collect();
            if !profile.liked.is_empty() {
                let liked_v: Vec<Sparse> = liked_f.iter().map(|f| idf.vector(f)).collect();
                let m = Similarity::compute(s, &cand_v, &cand_items, &Postings::new(&liked_v), &profile.liked);
                sim = m.blend(s);
                like_reason = m.closest(s);
            }
            if !profile.disliked.is_empty() {
                let disliked_v: Vec<Sparse> = profile.disliked.iter().map(|i| idf.vector(&feats(i))).collect();
                let m = Similarity::compute(s, &cand_v, &cand_items, &Postings::new(&disliked_v), &profile.disliked);
                penalty = m.push_down(s);
            }
        }

        let mut out: Vec<(Scored, f32, &str)> = Vec::with_capacity(kept.len());
        for (k, &i) in kept.iter().enumerate() {
            let b = &bonuses[k];
            let score = sim[k] + b.total - penalty[k];
            let by_bonus = b.reason.as_ref().filter(|_| like_reason[k].is_none() || b.strongest >= sim[k]);
            let reason = match (by_bonus, like_reason[k]) {
                (Some(r), _) => r.clone(),
                (None, Some(l)) => {
                    let liked = &profile.liked[l];
                    Reason::Like { id: liked.id.to_string(), title: liked.title.to_string() }
                }
                (None, None) => Reason::Popular,
            };
            let c = &candidates[i];
            out.push((Scored { index: i, score, reason }, c.popularity, c.item.id));
        }
        out.sort_by(|a, b| {
            b.0.score
                .total_cmp(&a.0.score)
                .then_with(|| b.1.total_cmp(&a.1))
                .then_with(|| a.2.cmp(b.2))
                .then_with(|| a.0.index.cmp(&b.0.index))
        });
        out.into_iter().map(|(s, _, _)| s).collect()
    }

    /// The bonuses of followed authors, followed categories and saved
    /// searches, capped, and the strongest of them as a reason.
    fn bonus(&self, profile: &Profile, item: &Item) -> Bonus {
        let s = &self.settings;
        let mut found: Vec<(f32, Reason)> = Vec::new();
        if let Some(a) = item.authors.iter().find(|a| profile.authors.iter().any(|f| same_name(f, a))) {
            found.push((s.author, Reason::Author { name: a.clone() }));
        }
        if let Some(q) = profile.searches.iter().find(|m| m.ids.contains(item.id)) {
            found.push((s.saved_search, Reason::SavedSearch { query: q.query.to_string() }));
        }
        if let Some(c) = item.categories.iter().find(|c| profile.categories.iter().any(|f| f.eq_ignore_ascii_case(c))) {
            found.push((s.category, Reason::Category { name: c.clone() }));
        }
        let total = found.iter().map(|(w, _)| w).sum::<f32>().min(s.bonus_cap);
        // The first of equal weights wins: author, saved search, category.
        let best = found.into_iter().fold(None::<(f32, Reason)>, |best, (w, r)| match best {
            Some((bw, br)) if bw >= w => Some((bw, br)),
            _ => Some((w, r)),
        });
        match best {
            Some((strongest, reason)) => Bonus { total, strongest, reason: Some(reason) },
            None => Bonus { total: 0.0, strongest: 0.0, reason: None },
        }
    }
}

struct Bonus {
    total: f32,
    strongest: f32,
    reason: Option<Reason>,
}

/// Author names compared case-insensitively, whitespace runs as one space.
fn same_name(a: &str, b: &str) -> bool {
    let mut x = a.split_whitespace();
    let mut y = b.split_whitespace();
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some(p), Some(q)) if p.to_lowercase() == q.to_lowercase() => {}
            _ => return false,
        }
    }
}

/// The cosines of every candidate to a set of papers (the liked or the
/// disliked ones): tf-idf always, sentence vectors when there are enough.
struct Similarity {
    /// candidates × papers, tf-idf cosines.
    keyword: Vec<f32>,
    papers: usize,
    /// Sentence-vector cosines: candidates with a vector × papers with one.
    vector: Option<VectorCosines>,
}

/// One value per candidate, `None` where it has no vector.
type PerCandidate = Vec<Option<f32>>;

struct Stats {
    kmax: Vec<f32>,
    kmean: Vec<f32>,
    /// (highest, mean) vector cosines, when vectors are used.
    vector: Option<(PerCandidate, PerCandidate)>,
}

struct VectorCosines {
    cosines: Vec<f32>,
    /// For each candidate, its row in `cosines`.
    row: Vec<Option<usize>>,
    /// For each paper, its column.
    col: Vec<Option<usize>>,
    cols: usize,
}

impl Similarity {
    fn compute(
        s: &RecSettings,
        cand_v: &[Sparse],
        cand_items: &[&Item],
        postings: &Postings,
        papers: &[Item],
    ) -> Similarity {
        let n = postings.len();
        let mut keyword = vec![0.0f32; cand_v.len() * n];
        for (v, row) in cand_v.iter().zip(keyword.chunks_exact_mut(n.max(1))) {
            postings.cosines(v, &mut row[..n]);
        }
        Similarity { keyword, papers: n, vector: vector_cosines(s, cand_items, papers) }
    }

    /// Per candidate: the highest and mean keyword cosine, and the vector
    /// ones (`None` for a candidate without a vector).
    fn stats(&self) -> Stats {
        let n = self.papers;
        let (mut kmax, mut kmean) = (Vec::new(), Vec::new());
        for row in self.keyword.chunks_exact(n) {
            kmax.push(row.iter().copied().fold(f32::NEG_INFINITY, f32::max));
            kmean.push(row.iter().sum::<f32>() / n as f32);
        }
        let vector = self.vector.as_ref().map(|v| {
            v.row
                .iter()
                .map(|r| {
                    let Some(r) = r else { return (None, None) };
                    let row = &v.cosines[r * v.cols..(r + 1) * v.cols];
                    (
                        Some(row.iter().copied().fold(f32::NEG_INFINITY, f32::max)),
                        Some(row.iter().sum::<f32>() / v.cols as f32),
                    )
                })
                .unzip()
        });
        Stats { kmax, kmean, vector }
    }

    /// The similarity score of every candidate: the weighted sum of the
    /// z-scored features.
    fn blend(&self, s: &RecSettings) -> Vec<f32> {
        let Stats { kmax, kmean, vector: v } = self.stats();
        let mut out: Vec<f32> =
            z(&kmax).iter().zip(z(&kmean)).map(|(a, b)| s.keyword_max * a + s.keyword_mean * b).collect();
        if let Some((vmax, vmean)) = v {
            for (o, (a, b)) in out.iter_mut().zip(z_some(&vmax).into_iter().zip(z_some(&vmean))) {
                *o += s.vector_max * a + s.vector_mean * b;
            }
        }
        out
    }

    /// How far down each candidate goes for resembling the papers: the
    /// above-average part of its z-scored highest cosines.
    fn push_down(&self, s: &RecSettings) -> Vec<f32> {
        let Stats { kmax, vector: v, .. } = self.stats();
        let mut out: Vec<f32> = z(&kmax).into_iter().map(|a| s.not_for_me * a.max(0.0)).collect();
        if let Some((vmax, _)) = v {
            for (o, a) in out.iter_mut().zip(z_some(&vmax)) {
                *o += s.not_for_me * a.max(0.0);
            }
        }
        out
    }

    /// For each candidate, the paper it is closest to by the blended pair
    /// similarity (each cosine divided by the spread of its highest-cosine
    /// feature, weighted like it), or `None` when nothing is similar.
    fn closest(&self, s: &RecSettings) -> Vec<Option<usize>> {
        let Stats { kmax, vector: v, .. } = self.stats();
        let kscale = s.keyword_max / (std_dev(&kmax) + 1e-9);
        let vscale = v.as_ref().map_or(0.0, |(vmax, _)| {
            let xs: Vec<f32> = vmax.iter().flatten().copied().collect();
            s.vector_max / (std_dev(&xs) + 1e-9)
        });
        let n = self.papers;
        (0..kmax.len())
            .map(|c| {
                let mut best: Option<(usize, f32)> = None;
                for p in 0..n {
                    let mut b = kscale * self.keyword[c * n + p];
                    if let Some(vc) = &self.vector
                        && let (Some(r), Some(col)) = (vc.row[c], vc.col[p])
                    {
                        b += vscale * vc.cosines[r * vc.cols + col];
                    }
                    if b > 0.0 && best.is_none_or(|(_, bb)| b > bb) {
                        best = Some((p, b));
                    }
                }
                best.map(|(p, _)| p)
            })
            .collect()
    }
}

/// The vector cosines of candidates to papers, when at least one paper and
/// `min_vector_share` of the candidates have a vector of the same length.
fn vector_cosines<'a>(s: &RecSettings, cand_items: &[&Item<'a>], papers: &[Item<'a>]) -> Option<VectorCosines> {
    let dim = papers.iter().find_map(|i| i.vector.map(<[f32]>::len))?;
    let of = |i: &Item<'a>| -> Option<&'a [f32]> { i.vector.filter(|v| v.len() == dim) };
    let mut rows = Vec::new();
    let row: Vec<Option<usize>> = cand_items
        .iter()
        .map(|i| {
            of(i).map(|v| {
                rows.push(v);
                rows.len() - 1
            })
        })
        .collect();
    if rows.is_empty() || (rows.len() as f32) < s.min_vector_share * cand_items.len() as f32 {
        return None;
    }
    let mut cols = Vec::new();
    let col: Vec<Option<usize>> = papers
        .iter()
        .map(|i| {
            of(i).map(|v| {
                cols.push(v);
                cols.len() - 1
            })
        })
        .collect();
    let cosines = dense::cosines(&rows, &cols, dim);
    Some(VectorCosines { cosines, row, col, cols: cols.len() })
}

fn mean(xs: &[f32]) -> f32 {
    if xs.is_empty() { 0.0 } else { xs.iter().sum::<f32>() / xs.len() as f32 }
}

/// The population standard deviation.
fn std_dev(xs: &[f32]) -> f32 {
    let m = mean(xs);
    if xs.is_empty() { 0.0 } else { (xs.iter().map(|x| (x - m) * (x - m)).sum::<f32>() / xs.len() as f32).sqrt() }
}

/// Standardises over the candidates: (x - mean) / (sd + 1e-9); a constant
/// feature gives zeros.
pub(crate) fn z(xs: &[f32]) -> Vec<f32> {
    let (m, sd) = (mean(xs), std_dev(xs));
    xs.iter().map(|x| (x - m) / (sd + 1e-9)).collect()
}

/// [`z`] over the candidates that have the feature; the others get 0 (the
/// average).
fn z_some(xs: &[Option<f32>]) -> Vec<f32> {
    let present: Vec<f32> = xs.iter().flatten().copied().collect();
    let (m, sd) = (mean(&present), std_dev(&present));
    xs.iter().map(|x| x.map_or(0.0, |x| (x - m) / (sd + 1e-9))).collect()
}
