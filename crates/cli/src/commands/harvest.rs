//! `paperboy harvest`: fetch new and updated papers from arXiv's OAI-PMH
//! interface by hand (with a progress bar and a summary), and
//! `paperboy harvest status`: the recent runs. The `[harvest]` settings
//! (which this command's flags override) are in `config::harvest`.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use chrono::{NaiveDate, Utc};
use clap::{Args, Subcommand};
use paperboy_arxiv::MetadataFormat;
use paperboy_services::harvest::{HarvestProgress, harvest};
use paperboy_store::{HarvestRun, HarvestTrigger};

use crate::commands::import::parse_date;
use crate::config::Settings;
use crate::config::harvest::{BASE_URL, CATEGORIES, ENABLED, FORMAT, PACING_SECONDS, SET};
use crate::progress::count_bar;
use paperboy_store::{Coordination, Harvests};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct HarvestArgs {
    #[command(subcommand)]
    pub command: Option<HarvestCommand>,

    /// First OAI datestamp to harvest, YYYY-MM-DD [default: the day before the last completed harvest]
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub from: Option<NaiveDate>,

    /// Last OAI datestamp to harvest, YYYY-MM-DD [default: no end]
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub until: Option<NaiveDate>,

    #[arg(long, value_name = "SET", help = SET.flag_help())]
    pub set: Option<String>,

    #[arg(long, value_name = "FORMAT", value_parser = parse_format, help = FORMAT.flag_help())]
    pub format: Option<MetadataFormat>,

    #[arg(long, value_name = "LIST", help = CATEGORIES.flag_help())]
    pub categories: Option<String>,

    #[arg(long, value_name = "URL", help = BASE_URL.flag_help())]
    pub base_url: Option<String>,

    #[arg(long, value_name = "SECONDS", help = PACING_SECONDS.flag_help())]
    pub pacing: Option<f64>,

    /// Start from the first page even if an unfinished run with the same arguments left a checkpoint
    #[arg(long)]
    pub restart: bool,
}

#[derive(Debug, Subcommand)]
pub enum HarvestCommand {
    /// Show the recent harvest runs and any checkpoint to resume
    Status {
        /// How many runs to show
        #[arg(long, default_value_t = 10)]
        limit: u32,
    },
}

fn parse_format(s: &str) -> Result<MetadataFormat, String> {
    s.parse()
}

pub async fn run(args: HarvestArgs, settings: &Settings) -> Result<ExitCode> {
    if let Some(HarvestCommand::Status { limit }) = args.command {
        return status(settings, limit).await;
    }
    // --set, --format, --categories, --base-url and --pacing are in settings.harvest already.
    let mut config = settings.harvest.config(HarvestTrigger::Manual, settings.lease);
    if let (Some(from), Some(until)) = (args.from, args.until)
        && from > until
    {
        bail!("--from {from} is after --until {until}: swap them");
    }
    (config.from, config.until) = (args.from, args.until);
    config.resume = !args.restart;

    let store = super::open_store(settings).await?;
    let bar = count_bar(0, "harvesting");
    let started = Instant::now();
    let result = harvest(store.database(), &config, |p: &HarvestProgress| {
        if let Some(total) = p.complete_list_size {
            bar.set_length(total);
        } else {
            bar.set_length(bar.length().unwrap_or(0).max(p.counts.records));
        }
        bar.set_position(p.position.unwrap_or(p.counts.records));
        bar.set_message(format!("page {}, {} new, {} updated", p.pages, p.counts.inserted, p.counts.updated));
    })
    .await;
    bar.finish_and_clear();
    let elapsed = started.elapsed();
    match result {
        Ok(run) => {
            println!("{}", summary(&run, elapsed));
            if run.counts.inserted + run.counts.updated > 0 {
                super::index_after_import(settings, store.database()).await;
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if let Some(id) = e.run()
                && let Ok(Some(run)) = store.harvest_run(id).await
            {
                println!("{}", summary(&run, elapsed));
                if run.counts.inserted + run.counts.updated > 0 {
                    super::index_after_import(settings, store.database()).await;
                }
            }
            Err(anyhow::Error::new(e).context("the harvest failed (run it again to resume from the last stored page)"))
        }
    }
}

/// One line about a run: what it did, and how it ended.
fn summary(run: &HarvestRun, elapsed: Duration) -> String {
    let c = &run.counts;
    let resumed = run.resumed_from.map(|r| format!(", resuming run {r}")).unwrap_or_default();
    format!(
        "harvest run {} {}{resumed}: {} page(s), {} record(s) in {:.2}s: {} new, {} updated, {} unchanged, \
         {} outside the categories, {} deleted upstream, {} rejected",
        run.id,
        run.status.as_str(),
        run.pages,
        c.records,
        elapsed.as_secs_f64(),
        c.inserted,
        c.updated,
        c.unchanged,
        c.filtered,
        c.deleted,
        c.rejected
    )
}

async fn status(settings: &Settings, limit: u32) -> Result<ExitCode> {
    let store = super::open_store(settings).await?;
    let runs = store.recent_harvests(limit.clamp(1, 1000)).await?;
    let h = &settings.harvest;
    if h.enabled {
        println!(
            "Scheduled: daily at {} {} (next {}); {} from {}",
            h.schedule.at.format("%H:%M"),
            h.schedule.tz,
            h.schedule.next_after(Utc::now()).format("%Y-%m-%d %H:%M UTC"),
            h.format,
            h.base_url
        );
    } else {
        println!("Scheduled: off (set {} = true, or {}=true, for `paperboy serve`)", ENABLED.file_key(), ENABLED.env);
    }
    match store.lease(paperboy_services::lease::HARVEST_LEASE).await? {
        Some(lease) if lease.expires_at > Utc::now() => println!(
            "Harvesting now: {} holds the harvest lease (since {}, renewed until {})",
            lease.holder,
            lease.acquired_at.format("%Y-%m-%d %H:%M:%S UTC"),
            lease.expires_at.format("%H:%M:%S UTC")
        ),
        _ => println!("Harvesting now: no one (the harvest lease is free)"),
    }
    if runs.is_empty() {
        println!("No harvest has run yet: run `paperboy harvest`.");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:>5}  {:<11}  {:<8}  {:<20}  {:>8}  {:>5}  {:>7}  {:>6}  {:>7}  {:>9}  {:>6}",
        "run",
        "status",
        "trigger",
        "started (UTC)",
        "duration",
        "pages",
        "records",
        "new",
        "updated",
        "unchanged",
        "errors"
    );
    for run in &runs {
        let end = run.finished_at.unwrap_or(run.updated_at);
        let secs = (end - run.started_at).num_milliseconds().max(0) as f64 / 1000.0;
        println!(
            "{:>5}  {:<11}  {:<8}  {:<20}  {:>7.1}s  {:>5}  {:>7}  {:>6}  {:>7}  {:>9}  {:>6}",
            run.id,
            run.status.as_str(),
            run.trigger.as_str(),
            run.started_at.format("%Y-%m-%d %H:%M:%S"),
            secs,
            run.pages,
            run.counts.records,
            run.counts.inserted,
            run.counts.updated,
            run.counts.unchanged,
            run.errors
        );
        if let Some(err) = &run.last_error {
            println!("       last error: {err}");
        }
    }
    if let Some(last) = runs.first()
        && last.status.as_str() != "completed"
        && let Some(token) = &last.next_token
    {
        println!(
            "Run {} stopped with checkpoint {token:?}: `paperboy harvest` with the same arguments resumes it.",
            last.id
        );
    }
    Ok(ExitCode::SUCCESS)
}
