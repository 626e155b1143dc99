//! The synthetic vector of the scale benchmarks (`bench/scale.sh`,
//! `bench/follow.sh`), shared by `synthetic_vectors` (into an index
//! directory) and `paperboy-services`' `synthetic_embed` (into the store).
//!
//! A hashed bag-of-words projection of a title: every lower-cased word of
//! three letters or more adds ±1 on eight dimensions chosen by a hash of the
//! word, and the sum is scaled to unit length. Papers that share words are
//! close, so a graph over them has the clustered shape of real embeddings
//! (random vectors would make approximate search artificially hard); the
//! vectors are not in the model's space, so relevance means nothing, only
//! the time and memory of vector search do.

use std::hash::{Hash, Hasher};

fn word_hash(w: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    w.hash(&mut h);
    h.finish()
}

/// The unit vector of `title` in `dim` dimensions.
pub fn project(title: &str, dim: usize) -> Vec<f32> {
    let mut v = vec![0f32; dim];
    for w in title.split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() > 2) {
        let mut h = word_hash(&w.to_lowercase());
        for _ in 0..8 {
            let i = (h % dim as u64) as usize;
            v[i] += if (h >> 32) & 1 == 0 { 1.0 } else { -1.0 };
            h = h.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
        }
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm == 0.0 {
        v[0] = 1.0;
    } else {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}
