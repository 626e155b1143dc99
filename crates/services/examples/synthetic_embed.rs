//! Stores a synthetic vector for every paper waiting for one, through the
//! store's claims exactly as a `paperboy embed` worker does, but with a
//! hashed bag-of-words projection of the title instead of the model (see
//! `crates/search/examples/common/synthetic.rs`): `bench/follow.sh` needs a
//! million stored vectors, and embedding a million texts with the model
//! takes hours on two cores. The vectors are stored under the real model's
//! key (fingerprint and dimension), so a server with that model follows
//! them and embeds nothing.
//!
//! ```text
//! cargo run --release -p paperboy-services --example synthetic_embed -- DATABASE_URL MODEL_DIR
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use paperboy_search::Embedder;
use paperboy_store::{Embeddings, NewEmbedding};

#[path = "../../search/examples/common/synthetic.rs"]
mod synthetic;

/// Papers per claim (the embed worker's default batch is smaller; larger
/// claims make fewer round trips, which is all this measures).
const CLAIM: u32 = 2_000;
/// Claims in flight at once.
const WORKERS: usize = 2;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: synthetic_embed DATABASE_URL MODEL_DIR";
    let url = args.next().ok_or(usage)?;
    let model_dir = args.next().ok_or(usage)?;
    let embedder = Embedder::load(std::path::Path::new(&model_dir))?;
    let model = paperboy_services::model::store_key(&embedder);
    drop(embedder);
    let store = Arc::new(paperboy_store::open(&url).await?);
    let reg = store.register_embedding_model(&model).await?;
    eprintln!("model {} registered: {} current, {} waiting", model.name, reg.current, reg.waiting);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..WORKERS {
        let (store, model) = (Arc::clone(&store), model.clone());
        tasks.push(tokio::spawn(async move {
            let holder = format!("synthetic-{w}");
            let mut stored = 0u64;
            while let Some(claim) = store.claim_embedding_work(&model, &holder, CLAIM, Duration::from_secs(600)).await?
            {
                let vectors: Vec<NewEmbedding> = claim
                    .tasks
                    .iter()
                    .map(|t| NewEmbedding {
                        id: t.id.clone(),
                        text_hash: t.text_hash,
                        vector: synthetic::project(&t.title, model.dim as usize),
                        evidence: Vec::new(),
                    })
                    .collect();
                let done = store.store_embeddings(&model, &claim.claim, &holder, &vectors).await?;
                stored += done.stored;
                if stored % 100_000 < u64::from(CLAIM) {
                    eprintln!("{holder}: {stored} stored ({:.0} s)", start.elapsed().as_secs_f64());
                }
            }
            Ok::<u64, paperboy_store::StoreError>(stored)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    let secs = start.elapsed().as_secs_f64();
    println!("stored {total} synthetic vectors in {secs:.1} s ({:.0} vectors/s)", total as f64 / secs);
    Ok(())
}
