//! `paperboy search QUERY` and `paperboy reindex`: the search index from the
//! terminal. Both bring the index up to date with the catalog first.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::Args;
use paperboy_search::{SearchMode, SearchOptions};

use crate::commands::import::parse_date;
use crate::config::Settings;
use crate::progress::count_bar;
use paperboy_store::Catalog;

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words, "phrases", ti: abs: au:"Tri Dao" cat:cs.CV cat:cs.* -term since:2025-01-01 until: year:,
    /// or an arXiv id or URL
    pub query: String,
    /// keyword, semantic or hybrid
    #[arg(long, default_value = "hybrid", value_parser = parse_mode)]
    pub mode: SearchMode,
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    /// Only this category (primary or cross-list) or archive
    #[arg(long)]
    pub cat: Option<String>,
    #[arg(long, value_parser = parse_date)]
    pub since: Option<NaiveDate>,
    #[arg(long, value_parser = parse_date)]
    pub until: Option<NaiveDate>,
    /// One JSON object per hit
    #[arg(long)]
    pub json: bool,
}

fn parse_mode(s: &str) -> Result<SearchMode, String> {
    SearchMode::parse(s).ok_or_else(|| format!("{s:?} is not a search mode: use keyword, semantic or hybrid"))
}

pub async fn run(args: SearchArgs, settings: &Settings) -> Result<ExitCode> {
    let store = super::open_store(settings).await?;
    let embedder = if args.mode == SearchMode::Keyword { None } else { super::load_embedder(settings)? };
    let engine = super::open_engine(settings, embedder)?;
    super::sync_with_progress(store.database(), &engine).await?;
    let opts = SearchOptions {
        mode: args.mode,
        limit: args.limit.clamp(1, 200),
        offset: 0,
        category: args.cat.clone(),
        since: args.since,
        until: args.until,
        highlights: false,
    };
    let query = args.query.clone();
    let engine2 = engine.clone();
    let results = tokio::task::spawn_blocking(move || engine2.search(&query, &opts)).await??;
    if let Some(id) = &results.direct_id
        && let Some(p) = store.get_paper(id).await?
    {
        println!("{}  {}  {}", p.paper.id, p.paper.listed_on, p.paper.title);
        return Ok(ExitCode::SUCCESS);
    }
    if args.mode != SearchMode::Keyword && !results.semantic_available {
        eprintln!("note: semantic search is off (no model or no vectors yet); showing keyword matches");
    }
    let stats = engine.stats()?;
    if results.semantic_available && stats.pending_vectors > 0 {
        eprintln!(
            "note: {} papers are not embedded yet; `paperboy reindex --embed-only` or a running `paperboy serve` embeds them",
            stats.pending_vectors
        );
    }
    if !args.json {
        println!("{} matches ({} search)", results.total_estimate, results.mode_used);
    }
    for hit in &results.hits {
        let Some(p) = store.get_paper(&hit.id).await? else { continue };
        if args.json {
            println!("{}", serde_json::json!({ "score": hit.score, "paper": p }));
        } else {
            println!("{:<20} {}  {:>6.3}  {}", p.paper.id.to_string(), p.paper.listed_on, hit.score, p.paper.title);
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct ReindexArgs {
    /// Keep the keyword index; only embed the papers that have no vector yet
    #[arg(long)]
    pub embed_only: bool,
    /// Do not embed (keyword index only)
    #[arg(long, conflicts_with = "embed_only")]
    pub no_embed: bool,
}

pub async fn reindex(args: ReindexArgs, settings: &Settings) -> Result<ExitCode> {
    let store = super::open_store(settings).await?;
    if super::open_engine(settings, None)?.is_read_only() {
        bail!(
            "a running Paperboy process (`paperboy serve`?) uses the search index in {}: stop it before \
             rebuilding the index",
            settings.index_dir().display()
        );
    }
    if !args.embed_only {
        let dir = settings.index_dir();
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("cannot remove the old index {}", dir.display()))?;
        }
    }
    let embedder = if args.no_embed { None } else { super::load_embedder(settings)? };
    let has_model = embedder.is_some();
    // Keyword first (fast), vectors after: papers are searchable by keyword
    // long before the embedding is done.
    let keyword_engine = super::open_engine(settings, None)?;
    super::sync_with_progress(store.database(), &keyword_engine).await?;
    drop(keyword_engine);
    if has_model {
        let engine = super::open_engine(settings, embedder)?;
        let pending = engine.stats()?.pending_vectors;
        let bar = count_bar(pending, "embedding");
        let b = bar.clone();
        let done = paperboy_services::embed_pending(&engine, settings.search.embed_batch, move |done, _| {
            b.set_position(done as u64)
        })
        .await?;
        bar.finish_and_clear();
        println!("embedded {done} papers");
    }
    let stats = super::open_engine(settings, None)?.stats()?;
    println!(
        "index: {} papers, {} with vectors ({} evidence vectors), {} waiting for a vector, up to change {}",
        stats.docs, stats.vectors, stats.evidence_vectors, stats.pending_vectors, stats.applied_seq
    );
    Ok(ExitCode::SUCCESS)
}
