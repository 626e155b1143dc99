//! `paperboy eval beir DIR`: search quality on a BEIR-format data set
//! (corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv), indexed into a temporary
//! directory, one row per mode; `paperboy eval recs DIR`: recommendation
//! quality (the work is in `eval_recs`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;
use paperboy_search::SearchMode;

use crate::config::Settings;

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Evaluate keyword, semantic and hybrid search: nDCG@10, Recall@100, MRR@10
    Beir {
        /// The data set directory
        dir: PathBuf,
        /// Which qrels file to use (qrels/SPLIT.tsv)
        #[arg(long, default_value = "test")]
        split: String,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Evaluate the recommender: nDCG@10, Recall@50, MRR@10 over users
    Recs {
        /// The directory: papers.jsonl, users.jsonl, candidates.txt
        dir: PathBuf,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(cmd: EvalCommand, settings: &Settings) -> Result<ExitCode> {
    let (dir, split, json) = match cmd {
        EvalCommand::Beir { dir, split, json } => (dir, split, json),
        EvalCommand::Recs { dir, json } => return recs(dir, json, settings).await,
    };
    let embedder = super::load_embedder(settings)?;
    let modes = if embedder.is_some() {
        vec![SearchMode::Keyword, SearchMode::Semantic, SearchMode::Hybrid]
    } else {
        eprintln!("note: no embedding model, so only keyword search is evaluated; run `paperboy model fetch` first");
        vec![SearchMode::Keyword]
    };
    let label = dir.display().to_string();
    let report = tokio::task::spawn_blocking(move || paperboy_search::eval_beir(&dir, &split, &modes, embedder))
        .await?
        .with_context(|| format!("evaluating {label} failed"))?;
    print_report(&report, json)
}

async fn recs(dir: PathBuf, json: bool, settings: &Settings) -> Result<ExitCode> {
    let embedder = super::load_embedder(settings)?;
    if embedder.is_none() {
        eprintln!(
            "note: no embedding model, so the recommender runs on tf-idf alone; run `paperboy model fetch` first"
        );
    }
    let label = dir.display().to_string();
    let report = tokio::task::spawn_blocking(move || super::eval_recs::evaluate(&dir, embedder))
        .await?
        .with_context(|| format!("evaluating {label} failed"))?;
    print_report(&report, json)
}

/// Prints an evaluation report as its table, or as JSON with `--json`.
fn print_report(report: &(impl serde::Serialize + std::fmt::Display), json: bool) -> Result<ExitCode> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        print!("{report}");
    }
    Ok(ExitCode::SUCCESS)
}
