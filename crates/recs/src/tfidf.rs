//! tf-idf over the papers being ranked: document frequencies from the
//! candidates and the liked papers handed to one `rank` call (so serving and
//! `paperboy eval recs` weigh terms the same way), terms kept when they occur
//! in at least `min_df` papers and at most `max_df` of them, weights
//! `(1 + ln tf) · idf` with the smoothed `idf = ln((1 + n) / (1 + df)) + 1`,
//! every vector L2-normalised; cosines through an inverted index.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::text::Features;

/// A sparse unit vector: (term hash, weight), sorted by hash.
pub(crate) type Sparse = Vec<(u64, f32)>;

/// The term hashes are already well mixed: hash maps keyed by them use the
/// hash itself.
#[derive(Default)]
pub(crate) struct Passthrough(u64);

impl Hasher for Passthrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type TermMap<V> = HashMap<u64, V, BuildHasherDefault<Passthrough>>;

/// The inverse document frequencies of the kept terms of one ranking.
pub(crate) struct Idf {
    idf: TermMap<f32>,
}

impl Idf {
    /// Counts document frequencies over `docs` and keeps the terms with
    /// `min_df <= df <= max_df · n`.
    pub(crate) fn fit<'a>(docs: impl Iterator<Item = &'a Features> + Clone, min_df: u32, max_df: f32) -> Idf {
        // Sized once: growing a table of a few hundred thousand terms
        // (most word pairs occur once) rehashes it several times.
        let terms: usize = docs.clone().map(Features::len).sum();
        let mut df: TermMap<u32> = TermMap::with_capacity_and_hasher(terms / 2, Default::default());
        let mut n = 0usize;
        for doc in docs {
            n += 1;
            for (term, _) in doc.terms.iter() {
                *df.entry(*term).or_insert(0) += 1;
            }
        }
        let max_count = f64::from(max_df) * n as f64;
        let idf = df
            .into_iter()
            .filter(|(_, d)| *d >= min_df && f64::from(*d) <= max_count)
            .map(|(t, d)| (t, (((1 + n) as f64 / (1 + d as usize) as f64).ln() + 1.0) as f32))
            .collect();
        Idf { idf }
    }

    /// A paper's unit tf-idf vector (empty when none of its terms is kept).
    pub(crate) fn vector(&self, doc: &Features) -> Sparse {
        let mut v: Sparse =
            doc.terms.iter().filter_map(|(t, tf)| self.idf.get(t).map(|idf| (*t, (1.0 + tf.ln()) * idf))).collect();
        let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
        if norm > 0.0 {
            for (_, w) in &mut v {
                *w /= norm;
            }
        }
        v
    }
}

/// An inverted index of a few vectors (the liked or the disliked papers),
/// to take one vector's cosines to all of them at once.
pub(crate) struct Postings {
    lists: TermMap<Vec<(u32, f32)>>,
    len: usize,
}

impl Postings {
    pub(crate) fn new(vectors: &[Sparse]) -> Postings {
        let mut lists: TermMap<Vec<(u32, f32)>> = TermMap::default();
        for (i, v) in vectors.iter().enumerate() {
            for (t, w) in v {
                lists.entry(*t).or_default().push((i as u32, *w));
            }
        }
        Postings { lists, len: vectors.len() }
    }

    /// How many vectors are indexed.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Writes the cosine of `v` to every indexed vector into `row`
    /// (`row.len() == self.len()`).
    pub(crate) fn cosines(&self, v: &Sparse, row: &mut [f32]) {
        row.fill(0.0);
        for (t, w) in v {
            if let Some(list) = self.lists.get(t) {
                for (j, wj) in list {
                    row[*j as usize] += w * wj;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rare_and_ubiquitous_terms_are_dropped_and_vectors_are_unit_length() {
        let docs = [
            Features::from_text("graph neural networks", "message passing on graphs"),
            Features::from_text("graph transformers", "attention on graphs"),
            Features::from_text("protein folding", "graph of contacts"),
            Features::from_text("speech recognition", "attention for audio"),
        ];
        let idf = Idf::fit(docs.iter(), 2, 0.5);
        // "graph" is in 3 of 4 papers (> 0.5), "protein" in one (< 2):
        // neither is kept; "graphs" and "attention" (2 of 4) are.
        let v = idf.vector(&docs[1]);
        let kept: Vec<u64> = v.iter().map(|(t, _)| *t).collect();
        assert_eq!(kept.len(), 2, "graphs and attention: {kept:?}");
        let norm: f32 = v.iter().map(|(_, w)| w * w).sum();
        assert!((norm - 1.0).abs() < 1e-5);
        // Only rare or ubiquitous terms: nothing left.
        assert!(idf.vector(&docs[2]).is_empty());
        let p = Postings::new(&[idf.vector(&docs[0]), idf.vector(&docs[3])]);
        let mut row = vec![0.0; p.len()];
        p.cosines(&v, &mut row);
        assert!(row[0] > 0.0 && row[1] > 0.0, "{row:?}");
    }
}
