//! `paperboy harvest`: fetch new and updated papers from arXiv's OAI-PMH
//! interface by hand (with a progress bar and a summary), and
//! `paperboy harvest status`: the recent runs. Also the `[harvest]` config
//! section and its `PAPERBOY_HARVEST_*` variables, which `paperboy serve`
//! uses for the daily scheduled harvest.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::{NaiveDate, Utc};
use clap::{Args, Subcommand};
use paperboy_arxiv::{ArxivConfig, DEFAULT_OAI_BASE_URL, MetadataFormat};
use paperboy_core::schedule::{Days, Schedule};
use paperboy_services::harvest::{DEFAULT_CATEGORIES, HarvestConfig, HarvestProgress, harvest};
use paperboy_store::{HarvestRun, HarvestTrigger};
use serde::Deserialize;

use crate::commands::import::parse_date;
use crate::config::Settings;
use crate::progress::count_bar;
use paperboy_store::{Coordination, Harvests};

/// Default local time of the daily harvest: after arXiv's 20:00 US/Eastern
/// announcement has reached the OAI-PMH interface.
pub const DEFAULT_AT: &str = "02:00";
pub const DEFAULT_TIME_ZONE: &str = "America/New_York";
pub const DEFAULT_SET: &str = "cs";
pub const DEFAULT_PACING_SECONDS: f64 = 3.0;
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 60;

/// `[harvest]` in `paperboy.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HarvestSection {
    /// Run the daily harvest inside `paperboy serve` (default false).
    pub enabled: Option<bool>,
    pub base_url: Option<String>,
    pub categories: Option<Vec<String>>,
    /// OAI set; "" for none.
    pub set: Option<String>,
    /// `arXiv` or `arXivRaw`.
    pub format: Option<String>,
    pub pacing_seconds: Option<f64>,
    pub timeout_seconds: Option<u64>,
    /// `HH:MM`, local time in `time_zone`.
    pub at: Option<String>,
    pub time_zone: Option<String>,
}

/// The merged `[harvest]` settings.
#[derive(Debug, Clone)]
pub struct HarvestSettings {
    pub enabled: bool,
    pub base_url: String,
    pub categories: Vec<String>,
    pub set: Option<String>,
    pub format: MetadataFormat,
    pub pacing: Duration,
    pub timeout: Duration,
    pub schedule: Schedule,
}

impl HarvestSettings {
    /// Environment (`PAPERBOY_HARVEST_*`, read through `env`) over the file over defaults.
    pub fn resolve(file: HarvestSection, env: impl Fn(&str) -> Option<String>) -> Result<HarvestSettings> {
        let var = |k: &str| env(&format!("PAPERBOY_HARVEST_{k}"));
        let enabled = match var("ENABLED") {
            Some(v) => parse_bool(&v).context("PAPERBOY_HARVEST_ENABLED")?,
            None => file.enabled.unwrap_or(false),
        };
        let categories = match var("CATEGORIES") {
            Some(v) => split_list(&v),
            None => file.categories.unwrap_or_else(|| DEFAULT_CATEGORIES.iter().map(|c| c.to_string()).collect()),
        };
        let set = var("SET").or(file.set).unwrap_or_else(|| DEFAULT_SET.to_string());
        let format = var("FORMAT").or(file.format).unwrap_or_else(|| "arXivRaw".to_string());
        let format: MetadataFormat =
            format.parse().map_err(|e: String| anyhow::anyhow!(e)).context("[harvest] format")?;
        let pacing = match var("PACING") {
            Some(v) => v
                .trim()
                .parse::<f64>()
                .with_context(|| format!("PAPERBOY_HARVEST_PACING={v:?} is not a number of seconds"))?,
            None => file.pacing_seconds.unwrap_or(DEFAULT_PACING_SECONDS),
        };
        if !(0.0..=3600.0).contains(&pacing) {
            bail!("[harvest] pacing_seconds must be between 0 and 3600 (arXiv asks for 3), not {pacing}");
        }
        let timeout = match var("TIMEOUT") {
            Some(v) => v
                .trim()
                .parse::<u64>()
                .with_context(|| format!("PAPERBOY_HARVEST_TIMEOUT={v:?} is not a number of seconds"))?,
            None => file.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS),
        };
        let at = var("AT").or(file.at).unwrap_or_else(|| DEFAULT_AT.to_string());
        let tz = var("TIME_ZONE").or(file.time_zone).unwrap_or_else(|| DEFAULT_TIME_ZONE.to_string());
        let schedule = Schedule::parse(&at, &tz, Days::Every).context("invalid [harvest] at / time_zone")?;
        Ok(HarvestSettings {
            enabled,
            base_url: var("BASE_URL").or(file.base_url).unwrap_or_else(|| DEFAULT_OAI_BASE_URL.to_string()),
            categories,
            set: Some(set.trim().to_string()).filter(|s| !s.is_empty()),
            format,
            pacing: Duration::from_secs_f64(pacing),
            timeout: Duration::from_secs(timeout.max(1)),
            schedule,
        })
    }

    /// The harvester's configuration (incremental, resuming).
    /// The harvester's configuration, holding its lease for `lease`.
    pub fn config(&self, trigger: HarvestTrigger, lease: Duration) -> HarvestConfig {
        HarvestConfig {
            client: ArxivConfig {
                base_url: self.base_url.clone(),
                interval: self.pacing,
                timeout: self.timeout,
                ..ArxivConfig::default()
            },
            format: self.format,
            set: self.set.clone(),
            from: None,
            until: None,
            categories: self.categories.clone(),
            resume: true,
            trigger,
            lease,
        }
    }
}

fn parse_bool(v: &str) -> Result<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        other => bail!("{other:?} is not a yes/no value: use true or false"),
    }
}

fn split_list(v: &str) -> Vec<String> {
    v.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

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

    /// OAI set, e.g. cs, math, physics:hep-th; "" for the whole archive [default: [harvest] set, cs]
    #[arg(long, value_name = "SET")]
    pub set: Option<String>,

    /// Metadata format: arXivRaw (exact announcement days) or arXiv [default: [harvest] format, arXivRaw]
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    pub format: Option<MetadataFormat>,

    /// Keep papers in these categories or archives, comma-separated; "" keeps all [default: [harvest] categories]
    #[arg(long, value_name = "LIST")]
    pub categories: Option<String>,

    /// The OAI-PMH endpoint [default: [harvest] base_url, https://oaipmh.arxiv.org/oai]
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,

    /// Seconds between requests [default: [harvest] pacing_seconds, 3]
    #[arg(long, value_name = "SECONDS")]
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
    let mut config = settings.harvest.config(HarvestTrigger::Manual, settings.lease);
    if let Some(url) = args.base_url {
        config.client.base_url = url;
    }
    if let Some(set) = args.set {
        config.set = Some(set.trim().to_string()).filter(|s| !s.is_empty());
    }
    if let Some(format) = args.format {
        config.format = format;
    }
    if let Some(list) = args.categories {
        config.categories = split_list(&list);
    }
    if let Some(p) = args.pacing {
        if !(0.0..=3600.0).contains(&p) {
            bail!("--pacing must be between 0 and 3600 seconds (arXiv asks for 3), not {p}");
        }
        config.client.interval = Duration::from_secs_f64(p);
    }
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
        println!(
            "Scheduled: off (set [harvest] enabled = true, or PAPERBOY_HARVEST_ENABLED=true, for `paperboy serve`)"
        );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_wins_over_the_file_and_the_file_over_defaults() {
        let d = HarvestSettings::resolve(HarvestSection::default(), |_| None).unwrap();
        assert!(!d.enabled, "off unless enabled");
        assert_eq!(d.base_url, DEFAULT_OAI_BASE_URL);
        assert_eq!(d.categories, DEFAULT_CATEGORIES);
        assert_eq!((d.set.as_deref(), d.format), (Some("cs"), MetadataFormat::ArxivRaw));
        assert_eq!(d.pacing, Duration::from_secs(3));
        let file: HarvestSection = toml::from_str(
            "enabled = true\nbase_url = \"http://127.0.0.1:9/oai\"\ncategories = [\"cs.LG\"]\nset = \"\"\n\
             format = \"arXiv\"\npacing_seconds = 0.5\nat = \"06:15\"\ntime_zone = \"Europe/Berlin\"\n",
        )
        .unwrap();
        let env = |k: &str| match k {
            "PAPERBOY_HARVEST_CATEGORIES" => Some("cs.CV, stat.ML".to_string()),
            "PAPERBOY_HARVEST_AT" => Some("07:00".to_string()),
            _ => None,
        };
        let s = HarvestSettings::resolve(file, env).unwrap();
        assert!(s.enabled);
        assert_eq!(s.base_url, "http://127.0.0.1:9/oai");
        assert_eq!(s.categories, ["cs.CV", "stat.ML"]);
        assert_eq!((s.set, s.format), (None, MetadataFormat::Arxiv));
        assert_eq!(s.pacing, Duration::from_millis(500));
        assert_eq!(s.schedule.at.format("%H:%M").to_string(), "07:00");
        assert_eq!(s.schedule.tz.name(), "Europe/Berlin");
    }

    #[test]
    fn bad_values_are_refused_with_the_key() {
        let bad = |toml_text: &str| {
            let file: HarvestSection = toml::from_str(toml_text).unwrap();
            format!("{:#}", HarvestSettings::resolve(file, |_| None).unwrap_err())
        };
        assert!(bad("format = \"oai_dc\"").contains("arXivRaw"));
        assert!(bad("pacing_seconds = -1").contains("pacing_seconds"));
        assert!(bad("at = \"25:00\"").contains("[harvest]"));
        assert!(bad("time_zone = \"Mars/Olympus\"").contains("IANA"));
        let env = |k: &str| (k == "PAPERBOY_HARVEST_ENABLED").then(|| "perhaps".to_string());
        assert!(
            format!("{:#}", HarvestSettings::resolve(HarvestSection::default(), env).unwrap_err()).contains("true")
        );
        assert!(toml::from_str::<HarvestSection>("cron = \"x\"").is_err());
    }
}
