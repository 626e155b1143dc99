//! The recommender engine: ranks candidate papers for one member from what
//! they like, and says why for each (docs/RECOMMENDATIONS.md).
//!
//! **Architecture Invariant:** pure. No I/O, no clock, no store, no search
//! engine: callers hand in texts (and, when the index has them, vectors)
//! and get back ranked indexes with reasons. `paperboy eval recs` and the
//! `/for-you` page call the same [`Recommender::rank`].

mod dense;
mod rank;
mod stopwords;
#[cfg(test)]
mod tests;
mod text;
mod tfidf;

use std::collections::HashSet;

pub use rank::{RecSettings, Recommender};
pub use text::Features;

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

impl Reason {
    /// The one line a card shows under a recommended paper.
    pub fn line(&self) -> String {
        match self {
            Reason::Like { title, .. } => format!("Like: {title}"),
            Reason::Author { name } => format!("By {name}, whom you follow"),
            Reason::SavedSearch { query } => format!("Matches your saved search “{query}”"),
            Reason::Category { name } => format!("In {name}, which you follow"),
            Reason::Popular => "Popular right now".to_string(),
        }
    }
}

/// One ranked candidate: its index in the slice given to
/// [`Recommender::rank`], its score (higher is better) and its reason.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Scored {
    pub index: usize,
    pub score: f32,
    pub reason: Reason,
}
