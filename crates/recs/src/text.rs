//! A paper's text as the recommender's keyword side sees it: title and
//! abstract, lower-cased and accent-stripped, cut into words (an ASCII
//! letter or `_` first, then letters, digits or `_`, two characters at
//! least), English stop words dropped, then every word and every pair of
//! neighbouring words, each hashed to 64 bits and counted. That is
//! [`Features`], what a server caches per paper; the tf-idf weights
//! themselves depend on the set being ranked and are computed in `tfidf`.

use std::sync::Arc;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::canonical_combining_class;

use crate::stopwords::is_stop_word;

/// The cacheable keyword representation of one paper: its terms (words and
/// word pairs, as 64-bit hashes) with their counts, sorted by hash. Cheap
/// to clone (shared).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Features {
    pub(crate) terms: Arc<[(u64, f32)]>,
}

impl Features {
    /// Tokenises a title and an abstract.
    pub fn from_text(title: &str, text: &str) -> Features {
        let mut joined = String::with_capacity(title.len() + text.len() + 1);
        joined.push_str(title);
        joined.push(' ');
        joined.push_str(text);
        let folded = fold(&joined);
        let words = words(&folded);
        let mut hashes: Vec<u64> = Vec::with_capacity(words.len() * 2);
        for (i, w) in words.iter().enumerate() {
            hashes.push(hash_term(&[w]));
            if let Some(next) = words.get(i + 1) {
                hashes.push(hash_term(&[w, next]));
            }
        }
        hashes.sort_unstable();
        let mut terms: Vec<(u64, f32)> = Vec::with_capacity(hashes.len());
        for h in hashes {
            match terms.last_mut() {
                Some((last, n)) if *last == h => *n += 1.0,
                _ => terms.push((h, 1.0)),
            }
        }
        Features { terms: terms.into() }
    }

    /// How many distinct terms (words and word pairs) the paper has.
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    /// Whether the paper has no usable word at all.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

/// Lower-cases, then removes accents (compatibility decomposition, combining
/// marks dropped), so "Naïve" and "naive" are one word.
fn fold(text: &str) -> String {
    let lower = text.to_lowercase();
    if lower.is_ascii() {
        return lower;
    }
    lower.nfkd().filter(|c| canonical_combining_class(*c) == 0).collect()
}

/// The words that count, in order, stop words removed. A word is a whole
/// run of word characters (letters, digits, `_`) that is all ASCII, starts
/// with a letter or `_` and has two characters or more; other runs
/// ("3d", "straße", "x") are not words.
fn words(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut plain = true;
    let is_word_char = |c: char| c.is_alphanumeric() || c == '_';
    for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        if is_word_char(c) && i < text.len() {
            if start.is_none() {
                start = Some(i);
                plain = true;
            }
            plain &= c.is_ascii_alphanumeric() || c == '_';
        } else if let Some(s) = start.take() {
            let w = &text[s..i];
            let first = w.as_bytes()[0];
            if plain && w.len() >= 2 && (first.is_ascii_alphabetic() || first == b'_') && !is_stop_word(w) {
                out.push(w);
            }
        }
    }
    out
}

/// FNV-1a over the words, a space between them: the same term always gets
/// the same hash, in every process, so cached features stay valid.
fn hash_term(words: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            h = (h ^ u64::from(b' ')).wrapping_mul(0x0000_0100_0000_01b3);
        }
        for b in w.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_follow_the_token_rule_and_drop_stop_words() {
        let folded = fold("The Naïve 3D model_2 of x, straße and GPT-4o: a BERT-based study!");
        assert_eq!(words(&folded), ["naive", "model_2", "gpt", "bert", "based", "study"]);
    }

    #[test]
    fn features_count_words_and_neighbouring_pairs() {
        let f = Features::from_text("Graph networks", "graph networks for graph search");
        // words: graph networks graph networks graph search
        let get = |ws: &[&str]| f.terms.iter().find(|(h, _)| *h == hash_term(ws)).map(|(_, n)| *n);
        assert_eq!(get(&["graph"]), Some(3.0));
        assert_eq!(get(&["networks"]), Some(2.0));
        assert_eq!(get(&["graph", "networks"]), Some(2.0));
        assert_eq!(get(&["networks", "graph"]), Some(2.0));
        assert_eq!(get(&["graph", "search"]), Some(1.0));
        assert_eq!(f.len(), 6);
        assert!(Features::from_text("", "of the").is_empty());
    }
}
