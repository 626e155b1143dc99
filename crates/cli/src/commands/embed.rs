//! `paperboy embed`: an embedding worker. It needs only the database
//! (`--database-url`, or the data directory's SQLite file) and the model:
//! it claims batches of papers waiting for a vector, embeds them and stores
//! the vectors, sharing the backlog with every `paperboy serve` and any
//! number of other workers on the same database (on other machines too).
//! Every server loads the stored vectors into its own index.
//!
//! With `--once` it stops when nothing is left to claim; by default it keeps
//! watching for new papers. Ctrl-C (or SIGTERM) releases the batch in hand
//! and stops. `--prune --yes` deletes the vectors of every other model.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use paperboy_services::jobs::JobError;
use paperboy_services::jobs::embed::EmbedWorker;
use paperboy_services::lease::holder_id;

use crate::config::Settings;
use crate::progress::count_bar;

#[derive(Debug, Args)]
pub struct EmbedArgs {
    /// Stop when no paper is left waiting (default: keep watching for new ones)
    #[arg(long)]
    pub once: bool,

    /// Seconds to wait before looking again when nothing is waiting
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub idle: u64,

    /// Delete the stored vectors of every other model (after a model change), then stop; needs --yes
    #[arg(long)]
    pub prune: bool,

    /// Confirms --prune
    #[arg(long)]
    pub yes: bool,
}

pub async fn run(args: &EmbedArgs, settings: &Settings) -> Result<ExitCode> {
    let embedder = super::load_embedder(settings)?
        .context("`paperboy embed` needs the embedding model: run `paperboy model fetch` or pass --model-dir")?;
    let store = super::open_store(settings).await?;
    let db = store.into_database();
    let worker = EmbedWorker::new(Arc::clone(&db), embedder, settings.search.embed_batch);
    let key = worker.key().clone();
    if args.prune {
        if !args.yes {
            bail!(
                "--prune deletes the vectors of every model but {} ({}): add --yes to confirm",
                key.name,
                key.fingerprint
            );
        }
        let deleted = db.prune_other_embeddings(&key).await?;
        println!("deleted {deleted} vectors of other models; kept {} ({})", key.name, key.fingerprint);
        return Ok(ExitCode::SUCCESS);
    }
    let reg = worker.register().await?;
    let holder = format!("{}/embed", holder_id());
    println!(
        "embedding with {} ({}): {} papers have a vector, {} waiting (press Ctrl-C to stop)",
        key.name, key.fingerprint, reg.current, reg.waiting
    );
    let bar = count_bar(reg.waiting, "embedding");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        super::shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let stopped = || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let mut stored = 0u64;
    loop {
        if *stop_rx.borrow() {
            break;
        }
        match worker.turn(&holder, stopped()).await {
            Ok(turn) => {
                stored += turn.stored;
                bar.inc(turn.stored + turn.dropped);
                if turn.claimed > 0 {
                    continue;
                }
            }
            Err(JobError::Cancelled) => break,
            Err(e) => return Err(e).context("embedding failed"),
        }
        // Nothing free to claim: the backlog is empty, or what waits is
        // claimed by others right now (a claim that runs out is taken over
        // here, so look again soon).
        let backlog = db.embedding_backlog(&key).await?;
        if backlog.waiting == 0 && args.once {
            break;
        }
        bar.set_length(bar.position() + backlog.waiting);
        let mut rx = stop_rx.clone();
        let pause = if backlog.waiting > 0 { Duration::from_secs(1) } else { Duration::from_secs(args.idle.max(1)) };
        tokio::select! {
            _ = rx.wait_for(|s| *s) => break,
            () = tokio::time::sleep(pause) => {}
        }
    }
    bar.finish_and_clear();
    println!("stored {stored} vectors");
    Ok(ExitCode::SUCCESS)
}
