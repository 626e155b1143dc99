//! What a paper's vector is computed from, and the fingerprint that says
//! when it must be computed again.
//!
//! The store (which decides what is waiting for a vector), the embedding
//! workers and the search index (which decides whether a vector it holds is
//! current) must agree on both, so they live here, once.

use crate::id::fnv1a64;

/// The text embedded for a paper: title + ". " + abstract (best on SciFact
/// of the variants tried: title only, abstract only, title + abstract).
pub fn embedding_text(title: &str, abstract_text: &str) -> String {
    let t = title.trim().trim_end_matches('.');
    if abstract_text.trim().is_empty() { t.to_string() } else { format!("{t}. {}", abstract_text.trim()) }
}

/// A stable hash of an embedding text: when it changes, the vector computed
/// from the old text is stale.
pub fn text_hash(text: &str) -> u64 {
    fnv1a64(text.as_bytes())
}

/// [`text_hash`] of [`embedding_text`]: the fingerprint a stored vector is
/// tagged with.
pub fn embedding_hash(title: &str, abstract_text: &str) -> u64 {
    text_hash(&embedding_text(title, abstract_text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_is_title_then_abstract() {
        assert_eq!(embedding_text(" A title. ", " Body. "), "A title. Body.");
        assert_eq!(embedding_text("Only a title.", "  "), "Only a title");
    }

    #[test]
    fn the_hash_follows_the_text() {
        assert_eq!(embedding_hash("T", "a"), text_hash("T. a"));
        assert_ne!(embedding_hash("T", "a"), embedding_hash("T", "b"));
    }
}
