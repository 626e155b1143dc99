//! `[harvest]`: the arXiv OAI-PMH harvester (docs/HARVESTING.md), run by
//! hand with `paperboy harvest` (whose flags override these keys for one
//! run) and daily inside `paperboy serve` when enabled.

use std::time::Duration;

use anyhow::{Context, Result};
use paperboy_arxiv::{ArxivSettings, DEFAULT_OAI_BASE_URL, MetadataFormat};
use paperboy_core::schedule::{Days, Schedule};
use paperboy_services::harvest::{self as harvester, DEFAULT_CATEGORIES};
use paperboy_store::HarvestTrigger;
use serde::Deserialize;

use super::env::{Env, split_list};
use super::key::{DefaultValue, Key, parse_file, pick, pick_opt};

pub const DEFAULT_SET: &str = "cs";
pub const DEFAULT_FORMAT: &str = "arXivRaw";
pub const DEFAULT_PACING_SECONDS: f64 = 3.0;
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 60;
/// Default local time of the daily harvest: after arXiv's 20:00 US/Eastern
/// announcement has reached the OAI-PMH interface.
pub const DEFAULT_AT: &str = "02:00";
pub const DEFAULT_TIME_ZONE: &str = "America/New_York";
/// The pacing arXiv accepts, in seconds (it asks for 3).
const PACINGS: std::ops::RangeInclusive<f64> = 0.0..=3600.0;

pub const ENABLED: Key = Key::new(
    "harvest",
    "enabled",
    "PAPERBOY_HARVEST_ENABLED",
    DefaultValue::Bool(false),
    "true: `paperboy serve` harvests daily at `at`",
);
pub const BASE_URL: Key = Key::new(
    "harvest",
    "base_url",
    "PAPERBOY_HARVEST_BASE_URL",
    DefaultValue::Text(DEFAULT_OAI_BASE_URL),
    "the OAI-PMH endpoint",
)
.flags(&["harvest --base-url"]);
pub const CATEGORIES: Key = Key::new(
    "harvest",
    "categories",
    "PAPERBOY_HARVEST_CATEGORIES",
    DefaultValue::List(DEFAULT_CATEGORIES),
    "keep papers in these categories or archives (primary or cross-list); empty keeps all",
)
.flags(&["harvest --categories"])
.empty_is_a_value();
pub const SET: Key = Key::new(
    "harvest",
    "set",
    "PAPERBOY_HARVEST_SET",
    DefaultValue::Text(DEFAULT_SET),
    "OAI set, e.g. cs, math, physics:hep-th; empty for the whole archive",
)
.flags(&["harvest --set"])
.empty_is_a_value();
pub const FORMAT: Key = Key::new(
    "harvest",
    "format",
    "PAPERBOY_HARVEST_FORMAT",
    DefaultValue::Text(DEFAULT_FORMAT),
    "metadata format: arXivRaw (exact announcement days) or arXiv (dates only)",
)
.flags(&["harvest --format"]);
pub const PACING_SECONDS: Key = Key::new(
    "harvest",
    "pacing_seconds",
    "PAPERBOY_HARVEST_PACING",
    DefaultValue::Number(DEFAULT_PACING_SECONDS),
    "seconds between requests, 0 to 3600 (arXiv asks for 3)",
)
.flags(&["harvest --pacing"]);
pub const TIMEOUT_SECONDS: Key = Key::new(
    "harvest",
    "timeout_seconds",
    "PAPERBOY_HARVEST_TIMEOUT",
    DefaultValue::Whole(DEFAULT_TIMEOUT_SECONDS),
    "limit for one request, in seconds",
);
pub const AT: Key = Key::new(
    "harvest",
    "at",
    "PAPERBOY_HARVEST_AT",
    DefaultValue::Text(DEFAULT_AT),
    "local time of the daily harvest, HH:MM",
);
pub const TIME_ZONE: Key = Key::new(
    "harvest",
    "time_zone",
    "PAPERBOY_HARVEST_TIME_ZONE",
    DefaultValue::Text(DEFAULT_TIME_ZONE),
    "IANA time zone of `at`",
);

pub const KEYS: &[Key] = &[ENABLED, BASE_URL, CATEGORIES, SET, FORMAT, PACING_SECONDS, TIMEOUT_SECONDS, AT, TIME_ZONE];

/// `[harvest]` in `paperboy.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HarvestSection {
    pub enabled: Option<bool>,
    pub base_url: Option<String>,
    pub categories: Option<Vec<String>>,
    pub set: Option<String>,
    pub format: Option<String>,
    pub pacing_seconds: Option<f64>,
    pub timeout_seconds: Option<u64>,
    pub at: Option<String>,
    pub time_zone: Option<String>,
}

/// `paperboy harvest`'s flags that override `[harvest]` for one run.
#[derive(Debug, Default, Clone)]
pub struct HarvestFlags {
    pub base_url: Option<String>,
    /// As typed: comma- or space-separated; `""` keeps all.
    pub categories: Option<String>,
    pub set: Option<String>,
    pub format: Option<MetadataFormat>,
    pub pacing: Option<f64>,
}

/// `[harvest]` after the merge.
#[derive(Debug, Clone)]
pub struct HarvestSettings {
    pub enabled: bool,
    pub base_url: String,
    pub categories: Vec<String>,
    /// `None`: the whole archive.
    pub set: Option<String>,
    pub format: MetadataFormat,
    pub pacing: Duration,
    pub timeout: Duration,
    pub schedule: Schedule,
}

impl HarvestSettings {
    /// Flags over the environment (`PAPERBOY_HARVEST_*`) over the file over the defaults.
    pub fn resolve(flags: HarvestFlags, env: &Env, file: HarvestSection) -> Result<HarvestSettings> {
        let default_categories = DEFAULT_CATEGORIES.iter().map(|c| c.to_string()).collect();
        let file_format = parse_file(&FORMAT, file.format)?;
        let format = match pick_opt(&FORMAT, flags.format, env, file_format)? {
            Some(picked) => picked.value,
            None => DEFAULT_FORMAT.parse().map_err(anyhow::Error::msg)?,
        };
        let pacing = pick(&PACING_SECONDS, flags.pacing, env, file.pacing_seconds, DEFAULT_PACING_SECONDS)?
            .check(|p| PACINGS.contains(p), "seconds between 0 and 3600 (arXiv asks for 3)")?;
        let timeout = pick(&TIMEOUT_SECONDS, None, env, file.timeout_seconds, DEFAULT_TIMEOUT_SECONDS)?.value;
        let at = pick(&AT, None, env, file.at, DEFAULT_AT.to_string())?;
        let tz = pick(&TIME_ZONE, None, env, file.time_zone, DEFAULT_TIME_ZONE.to_string())?;
        let schedule = Schedule::parse(&at.value, &tz.value, Days::Every)
            .with_context(|| format!("invalid harvest time ({}; {})", at.given(), tz.given()))?;
        let set = pick(&SET, flags.set, env, file.set, DEFAULT_SET.to_string())?.value;
        Ok(HarvestSettings {
            enabled: pick(&ENABLED, None, env, file.enabled, false)?.value,
            base_url: pick(&BASE_URL, flags.base_url, env, file.base_url, DEFAULT_OAI_BASE_URL.to_string())?.value,
            categories: pick(
                &CATEGORIES,
                flags.categories.map(|c| split_list(&c)),
                env,
                file.categories,
                default_categories,
            )?
            .value,
            set: Some(set.trim().to_string()).filter(|s| !s.is_empty()),
            format,
            pacing: Duration::from_secs_f64(pacing),
            timeout: Duration::from_secs(timeout.max(1)),
            schedule,
        })
    }

    /// The harvester's configuration (incremental, resuming), holding its lease for `lease`.
    pub fn config(&self, trigger: HarvestTrigger, lease: Duration) -> harvester::HarvestSettings {
        harvester::HarvestSettings {
            client: ArxivSettings {
                base_url: self.base_url.clone(),
                interval: self.pacing,
                timeout: self.timeout,
                ..ArxivSettings::default()
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
