//! The recommender engine: ranks candidate papers for one member from what
//! they like, and says why for each (docs/RECOMMENDATIONS.md).
//!
//! **Architecture Invariant:** pure. No I/O, no clock, no store, no search
//! engine: callers hand in texts (and, when the index has them, vectors)
//! and get back ranked indexes with reasons. `paperboy eval recs` and the
//! `/for-you` page call the same [`Recommender::rank`].

use std::collections::HashSet;

/// One paper as the recommender sees it.
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    /// The paper's id (arXiv id or `pb-` id); liked and candidate items with
    /// the same id are the same paper.
    pub id: &'a str,
    pub title: &'a str,
    /// The abstract (may be empty).
    pub text: &'a str,
    pub authors: &'a [String],
    pub categories: &'a [String],
    /// The paper's sentence vector (L2-normalised), when the index has one.
    pub vector: Option<&'a [f32]>,
}

/// A candidate to rank, with what the catalog knows of its popularity.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub item: Item<'a>,
    /// A non-negative popularity prior (the trending score, or 0): it only
    /// orders the cold start and breaks ties.
    pub popularity: f32,
    pub features: Option<&'a Features>,
}

/// A saved search of the member's and the candidates it matched.
#[derive(Debug, Clone)]
pub struct SearchMatch<'a> {
    pub query: &'a str,
    pub ids: HashSet<&'a str>,
}

/// Everything known of one member's taste.
#[derive(Debug, Clone, Default)]
pub struct Profile<'a> {
    /// Liked papers (upvotes, reading list, library), most recent first.
    pub liked: Vec<Item<'a>>,
    /// Papers marked "not for me": never recommended, and what resembles
    /// them ranks lower.
    pub disliked: Vec<Item<'a>>,
    /// Followed author names.
    pub authors: &'a [String],
    /// Followed categories (`cs.CL`).
    pub categories: &'a [String],
    pub searches: Vec<SearchMatch<'a>>,
}

/// Why a paper is recommended: what the card's one line says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// Closest to this liked paper.
    Like { id: String, title: String },
    /// By an author the member follows.
    Author { name: String },
    /// Matches a saved search.
    SavedSearch { query: String },
    /// In a category the member follows.
    Category { name: String },
    /// Popular right now (cold start with nothing else to go on).
    Popular,
}

/// One ranked candidate: its index in the slice given to
/// [`Recommender::rank`], its score (higher is better) and its reason.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Scored {
    pub index: usize,
    pub score: f32,
    pub reason: Reason,
}

// TEMPORARY LOCAL STUB (not committed): stands in for h-recengine.
#[derive(Debug, Clone, Default)]
pub struct Features(Vec<String>);
#[derive(Debug, Clone, Default)]
pub struct Recommender;
impl Recommender {
    pub fn features(&self, item: &Item<'_>) -> Features {
        Features(item.title.split_whitespace().map(|w| w.to_lowercase()).collect())
    }
    pub fn rank(&self, profile: &Profile<'_>, candidates: &[Candidate<'_>]) -> Vec<Scored> {
        let skip: HashSet<&str> = profile.liked.iter().chain(&profile.disliked).map(|i| i.id).collect();
        let mut out: Vec<Scored> = candidates
            .iter()
            .enumerate()
            .filter(|(_, c)| !skip.contains(c.item.id))
            .map(|(i, c)| {
                let f = c.features.cloned().unwrap_or_else(|| self.features(&c.item));
                let mut best = (0.0f32, None);
                for l in &profile.liked {
                    let lf = self.features(l);
                    let n = f.0.iter().filter(|w| lf.0.contains(w)).count() as f32;
                    if n > best.0 {
                        best = (n, Some(l));
                    }
                }
                let reason = match best.1 {
                    Some(l) => Reason::Like { id: l.id.to_string(), title: l.title.to_string() },
                    None => Reason::Popular,
                };
                Scored { index: i, score: best.0 + c.popularity * 0.001, reason }
            })
            .collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score));
        out
    }
}
impl Reason {
    pub fn line(&self) -> String {
        match self {
            Reason::Like { title, .. } => format!("Like: {title}"),
            Reason::Author { name } => format!("By {name}, whom you follow"),
            Reason::SavedSearch { query } => format!("Matches your saved search \u{201c}{query}\u{201d}"),
            Reason::Category { name } => format!("In {name}, which you follow"),
            Reason::Popular => "Popular right now".to_string(),
        }
    }
}
