//! Fills a search index's vector index with cheap synthetic vectors, for
//! `bench/scale.sh` at a million papers, where even titles-only embedding
//! would take hours on two cores.
//!
//! ```text
//! cargo run --release -p paperboy-search --example synthetic_vectors -- INDEX_DIR
//! ```
//! Each paper's vector is a hashed bag-of-words projection of its title: every
//! lower-cased word adds ±1 on eight dimensions chosen by a hash of the word,
//! and the sum is scaled to unit length. Papers that share words are close, so
//! the graph has the clustered shape of real embeddings (random vectors would
//! make approximate search artificially hard), but the vectors are not in the
//! model's space: relevance means nothing, only the time and memory of
//! vector search over a million 384-dimension vectors do. Each vector is
//! recorded as current for the paper's text hash, so a server started over
//! the index embeds nothing.

use std::path::PathBuf;
use std::time::Instant;

use paperboy_search::engine::DEFAULT_DIM;
use paperboy_search::keyword::KeywordIndex;
use paperboy_search::vectors::VectorIndex;

#[path = "common/synthetic.rs"]
mod synthetic;
use synthetic::project;

/// Vectors upserted between checkpoints.
const CHUNK: usize = 20_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir: PathBuf = std::env::args().nth(1).ok_or("usage: synthetic_vectors INDEX_DIR")?.into();
    let start = Instant::now();
    let keyword = KeywordIndex::open(&dir.join("keyword"))?;
    let mut vectors = VectorIndex::open(&dir.join("vectors"), DEFAULT_DIM)?;
    let pending: Vec<_> =
        keyword.all_keys_with_hash()?.into_iter().filter(|(k, h, _)| vectors.hash_of(k) != Some(*h)).collect();
    let searcher = keyword.searcher();
    let total = pending.len();
    let mut done = 0;
    for chunk in pending.chunks(CHUNK) {
        let mut items = Vec::with_capacity(chunk.len());
        for (key, hash, addr) in chunk {
            let text = keyword.stored_text(&searcher, *addr)?;
            items.push((key.clone(), *hash, project(&text.title, DEFAULT_DIM)));
        }
        vectors.upsert(&items)?;
        vectors.checkpoint(false)?;
        done += chunk.len();
        eprintln!("synthetic vectors: {done}/{total} ({:.0} s)", start.elapsed().as_secs_f64());
    }
    vectors.checkpoint(true)?;
    println!(
        "wrote {total} synthetic vectors in {:.1} s ({} in the index)",
        start.elapsed().as_secs_f64(),
        vectors.len()
    );
    Ok(())
}
