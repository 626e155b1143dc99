//! `paperboy signals fetch|status`: the trending-signal jobs run once from a
//! terminal (with a progress bar, under the same leases as `serve`'s), and
//! what each source fetched, when, and what waits and why. Also the jobs
//! `serve` registers when `[signals.*] enabled` is set.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand, ValueEnum};
use paperboy_services::jobs::signals_github::{self, GithubReport, GithubSignals, GithubTurn, fetch_github};
use paperboy_services::jobs::signals_hf::{self, HfReport, HfSignals, fetch_huggingface};
use paperboy_services::jobs::{Supervisor, SystemClock};
use paperboy_services::lease::{holder_id, with_lease};
use paperboy_signals::{GithubClient, HfClient};
use paperboy_store::{Database, SourceState};

use crate::config::Settings;
use crate::config::signals::SignalsSettings;
use crate::progress::count_bar;

/// How often `serve` runs a GitHub turn (each fetches what is due).
const GITHUB_EVERY: Duration = Duration::from_secs(300);
/// How often `serve` reads Hugging Face's recent daily lists.
const HF_EVERY: Duration = Duration::from_secs(3_600);
/// Daily lists a Hugging Face turn reads (today and the days before).
const HF_DAYS: u32 = 3;

#[derive(Debug, Subcommand)]
pub enum SignalsCommand {
    /// Fetch trending signals once: link papers to repositories, fetch the due ones from GitHub, read Hugging Face's recent days
    Fetch(FetchArgs),
    /// Show per source what was fetched, when, what is waiting and why
    Status,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Source {
    Github,
    Huggingface,
    All,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Which source to fetch
    #[arg(long, value_enum, default_value_t = Source::All)]
    pub source: Source,
    /// Hugging Face daily lists to read, today's and the days before
    #[arg(long, default_value_t = HF_DAYS)]
    pub days: u32,
    /// GitHub repositories to fetch at most (the most overdue first)
    #[arg(long, default_value_t = 100_000)]
    pub limit: u32,
}

/// Registers the signal jobs `settings` enables on `serve`'s supervisor.
pub fn register_jobs(jobs: &mut Supervisor, settings: &SignalsSettings) -> Result<()> {
    if settings.github_enabled {
        let client = GithubClient::new(settings.github.clone()).context("cannot set up the GitHub client")?;
        tracing::info!(api = %settings.github.base_url, token = settings.github.token.is_some(), "GitHub signals are on");
        jobs.register(GithubSignals::new(client, GithubTurn::default(), GITHUB_EVERY));
    }
    if settings.huggingface_enabled {
        let client = HfClient::new(settings.huggingface.clone()).context("cannot set up the Hugging Face client")?;
        tracing::info!(api = %settings.huggingface.base_url, "Hugging Face signals are on");
        jobs.register(HfSignals::new(client, HF_DAYS, HF_EVERY));
    }
    Ok(())
}

pub async fn run(cmd: SignalsCommand, settings: &Settings) -> Result<ExitCode> {
    let store = super::open_store(settings).await?;
    let db = store.into_database();
    match cmd {
        SignalsCommand::Fetch(args) => fetch(db.as_ref(), &args, settings).await,
        SignalsCommand::Status => status(db.as_ref(), settings).await,
    }
}

async fn fetch(db: &dyn Database, args: &FetchArgs, settings: &Settings) -> Result<ExitCode> {
    let holder = holder_id();
    if matches!(args.source, Source::Github | Source::All) {
        let client = GithubClient::new(settings.signals.github.clone()).context("cannot set up the GitHub client")?;
        if settings.signals.github.token.is_none() {
            eprintln!("No GitHub token (PAPERBOY_GITHUB_TOKEN): 60 requests an hour, one a minute.");
        }
        let turn = GithubTurn { batch: args.limit, ..GithubTurn::default() };
        let bar = count_bar(0, "repositories");
        let mut progress = |r: &GithubReport| {
            bar.set_length(r.due);
            bar.set_position(r.done());
        };
        let work = fetch_github(db, &client, &SystemClock, &turn, &mut progress);
        let report = with_lease(db, signals_github::LEASE, &holder, settings.lease, work)
            .await
            .map_err(|e| anyhow!("{e} (is a server fetching signals from GitHub?)"))?
            .context("fetching from GitHub failed (`paperboy signals status` shows where it stopped)")?;
        bar.finish_and_clear();
        println!("GitHub: {}", report.summary());
    }
    if matches!(args.source, Source::Huggingface | Source::All) {
        let client =
            HfClient::new(settings.signals.huggingface.clone()).context("cannot set up the Hugging Face client")?;
        let bar = count_bar(u64::from(args.days.max(1)), "days");
        let mut progress = |r: &HfReport| bar.set_position(r.days);
        let work = fetch_huggingface(db, &client, &SystemClock, args.days, &mut progress);
        let report = with_lease(db, signals_hf::LEASE, &holder, settings.lease, work)
            .await
            .map_err(|e| anyhow!("{e} (is a server fetching from Hugging Face?)"))?
            .context("fetching from Hugging Face failed (`paperboy signals status` shows where it stopped)")?;
        bar.finish_and_clear();
        println!("Hugging Face: {}", report.summary());
    }
    Ok(ExitCode::SUCCESS)
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "never".to_string(), |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
}

fn print_state(state: &SourceState, enabled: bool, now: DateTime<Utc>) {
    println!("  in `serve`:  {}", if enabled { "on" } else { "off" });
    println!("  last run:    {}", when(state.last_run_at));
    println!("  last success: {}", when(state.last_ok_at));
    if let Some(note) = &state.last_note {
        println!("  it did:      {note}");
    }
    if let Some(error) = &state.last_error {
        println!("  last error:  {error}");
    }
    match state.waiting_until {
        Some(until) if until > now => {
            let minutes = (until - now).num_minutes();
            let why = state.waiting_why.as_deref().unwrap_or("asked to wait");
            println!("  waiting:     until {} (in {minutes} min): {why}", when(Some(until)));
        }
        _ => println!("  waiting:     no"),
    }
}

async fn status(db: &dyn Database, settings: &Settings) -> Result<ExitCode> {
    let now = Utc::now();
    let census = db.repo_census(now).await?;
    let github = db.source_state(signals_github::SOURCE).await?;
    println!("GitHub ({})", settings.signals.github.base_url);
    print_state(&github, settings.signals.github_enabled, now);
    println!(
        "  repositories: {} known, {} due now ({} never fetched), {} failing, {} gone, {} renamed",
        census.total, census.due, census.never_fetched, census.failing, census.gone, census.renamed
    );
    println!("  change feed read up to #{}", github.cursor);
    let hf = db.source_state(signals_hf::SOURCE).await?;
    println!("Hugging Face ({})", settings.signals.huggingface.base_url);
    print_state(&hf, settings.signals.huggingface_enabled, now);
    println!("  papers with Hugging Face counts: {}", census.hf_papers);
    Ok(ExitCode::SUCCESS)
}
