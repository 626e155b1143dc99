//! Settings, strongest first: command-line flags, then `PAPERBOY_*`
//! environment variables (read by [`env::Env`] only; blank counts as unset),
//! then `paperboy.toml`, then the built-in defaults. This module loads the
//! file and merges the layers into [`Settings`]; each section has a module
//! with its file section, its keys (name, variable, flags, default, meaning:
//! the table `paperboy --help` and docs/CONFIGURATION.md are made from) and
//! its resolve step.

pub mod arxiv;
pub mod community;
pub mod database;
pub mod env;
pub mod harvest;
pub mod jobs;
pub mod key;
pub mod mail;
pub mod ranking;
pub mod search;
pub mod server;
pub mod signals;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use paperboy_core::ranking::RankingSettings;
use paperboy_core::trending::SignalWeights;
use serde::Deserialize;

use self::arxiv::{ArxivSection, ArxivSettings};
use self::community::{CommunitySection, CommunitySettings};
use self::env::Env;
use self::harvest::{HarvestFlags, HarvestSection, HarvestSettings};
use self::key::{DefaultValue, Key, pick, pick_opt};
use self::mail::{MailSection, MailSettings};
use self::ranking::RankingSection;
use self::search::{SearchSection, SearchSettings};
use self::server::{ServerSection, ServerSettings};
use self::signals::{SignalsSection, SignalsSettings};

/// The config file looked for when none is named.
pub const DEFAULT_CONFIG_FILE: &str = "paperboy.toml";
pub const DEFAULT_LOG: &str = "info";

pub const CONFIG: Key =
    Key::outside_the_file("PAPERBOY_CONFIG", DefaultValue::Unset("./paperboy.toml when present"), "the config file")
        .flags(&["--config"]);
pub const LOG: Key = Key::outside_the_file(
    "PAPERBOY_LOG",
    DefaultValue::Text(DEFAULT_LOG),
    "log filter, e.g. info, debug, paperboy_web=debug",
)
.flags(&["--log"]);

/// Every key, by section (`""`: outside any section), in the order help shows them.
pub const SECTIONS: &[(&str, &[Key])] = &[
    ("", &[CONFIG, LOG]),
    ("", database::KEYS),
    ("", jobs::KEYS),
    ("server", server::KEYS),
    ("search", search::KEYS),
    ("arxiv", arxiv::KEYS),
    ("community", community::KEYS),
    ("ranking", ranking::KEYS),
    ("signals.github", signals::GITHUB_KEYS),
    ("signals.huggingface", signals::HF_KEYS),
    ("harvest", harvest::KEYS),
    ("mail", mail::KEYS),
];

/// Every key, in help order.
#[cfg(test)]
pub fn all_keys() -> impl Iterator<Item = &'static Key> {
    SECTIONS.iter().flat_map(|(_, keys)| keys.iter())
}

/// The contents of `paperboy.toml`. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub job_lease_seconds: Option<u64>,
    #[serde(default)]
    pub server: ServerSection,
    #[serde(default)]
    pub search: SearchSection,
    #[serde(default)]
    pub arxiv: ArxivSection,
    #[serde(default)]
    pub community: CommunitySection,
    #[serde(default)]
    pub ranking: RankingSection,
    #[serde(default)]
    pub signals: SignalsSection,
    #[serde(default)]
    pub harvest: HarvestSection,
    #[serde(default)]
    pub mail: MailSection,
}

impl ConfigFile {
    /// Loads the config file: the one named explicitly (which must exist), or
    /// `./paperboy.toml` when present, or nothing.
    pub fn load(explicit: Option<&Path>) -> Result<(ConfigFile, Option<PathBuf>)> {
        let path = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => Some(PathBuf::from(DEFAULT_CONFIG_FILE)).filter(|p| p.is_file()),
        };
        let Some(path) = path else {
            return Ok((ConfigFile::default(), None));
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the config file {}", path.display()))?;
        let file: ConfigFile = toml::from_str(&text).with_context(|| {
            format!("{} is not a valid Paperboy config (see `paperboy --help` for the keys)", path.display())
        })?;
        Ok((file, Some(path)))
    }
}

/// The values given on the command line (each `None` when its flag is absent).
#[derive(Debug, Default, Clone)]
pub struct Flags {
    pub config: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub model_dir: Option<PathBuf>,
    pub evidence: Option<paperboy_search::Evidence>,
    /// `serve --addr`.
    pub addr: Option<String>,
    /// `serve --base-url`, `digest run --base-url`.
    pub base_url: Option<String>,
    /// `serve --arxiv-base-url`.
    pub arxiv_base_url: Option<String>,
    /// `paperboy harvest`'s overrides.
    pub harvest: HarvestFlags,
}

/// `--log` over `PAPERBOY_LOG` over `info` (read before anything else, to log the rest).
pub fn log_filter(flag: Option<String>, env: &Env) -> Result<String> {
    Ok(pick(&LOG, flag, env, None, DEFAULT_LOG.to_string())?.value)
}

/// `--config` over `PAPERBOY_CONFIG`; `None` looks for `./paperboy.toml`.
pub fn config_path(flag: Option<PathBuf>, env: &Env) -> Result<Option<PathBuf>> {
    Ok(pick_opt(&CONFIG, flag, env, None)?.map(|p| p.value))
}

/// Settings every command needs, after the merge.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    /// The PostgreSQL database; `None` keeps SQLite in the data directory.
    pub database_url: Option<String>,
    /// `job_lease_seconds`: how long a lease on shared work lasts unless renewed.
    pub lease: Duration,
    pub server: ServerSettings,
    pub search: SearchSettings,
    pub arxiv: ArxivSettings,
    pub community: CommunitySettings,
    /// The trending formula's parameters (checked).
    pub ranking: RankingSettings,
    /// `[ranking]`'s signal weights (checked).
    pub weights: SignalWeights,
    /// `[ranking] max_age_days`: the code-trending view's age limit.
    pub code_trending_days: u32,
    /// `[signals.github]`, `[signals.huggingface]`.
    pub signals: SignalsSettings,
    pub harvest: HarvestSettings,
    pub mail: MailSettings,
}

impl Settings {
    /// Reads the config file the flags or the environment name (or
    /// `./paperboy.toml`), then merges.
    pub fn load(flags: Flags, env: &Env) -> Result<Settings> {
        let (file, path) = ConfigFile::load(config_path(flags.config.clone(), env)?.as_deref())?;
        if let Some(path) = path {
            tracing::debug!(config = %path.display(), "loaded config file");
        }
        Settings::resolve(flags, env, file)
    }

    /// Flags over the environment over the file over the defaults, key by key.
    pub fn resolve(flags: Flags, env: &Env, file: ConfigFile) -> Result<Settings> {
        let (weights, code_trending_days) = ranking::resolve_signals(env, &file.ranking)?;
        Ok(Settings {
            data_dir: database::data_dir(flags.data_dir, env, file.data_dir)?,
            database_url: database::database_url(flags.database_url, env, file.database_url)?,
            lease: jobs::job_lease(env, file.job_lease_seconds)?,
            server: ServerSettings::resolve(flags.addr, flags.base_url, env, file.server)?,
            search: SearchSettings::resolve(flags.model_dir, flags.evidence, env, file.search)?,
            arxiv: ArxivSettings::resolve(flags.arxiv_base_url, env, file.arxiv)?,
            community: CommunitySettings::resolve(env, file.community)?,
            ranking: ranking::resolve(env, file.ranking)?,
            weights,
            code_trending_days,
            signals: SignalsSettings::resolve(env, file.signals)?,
            harvest: HarvestSettings::resolve(flags.harvest, env, file.harvest)?,
            mail: MailSettings::resolve(env, file.mail)?,
        })
    }

    /// The SQLite database inside the data directory.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("paperboy.db")
    }

    /// The search index directory inside the data directory.
    pub fn index_dir(&self) -> PathBuf {
        self.data_dir.join("index")
    }

    /// Creates the data directory if it does not exist yet.
    pub fn ensure_data_dir(&self) -> Result<()> {
        std::fs::create_dir_all(&self.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {} (choose another with --data-dir or PAPERBOY_DATA_DIR)",
                self.data_dir.display()
            )
        })
    }
}

/// The configuration part of `paperboy --help`: the precedence and every
/// key, rendered from the key table.
pub fn help_text() -> String {
    let mut out = String::from(
        "Configuration, strongest first:\n  \
         1. command-line flags\n  \
         2. environment variables PAPERBOY_* (an empty one counts as unset)\n  \
         3. the config file: --config FILE (PAPERBOY_CONFIG), or ./paperboy.toml when present\n  \
         4. built-in defaults\n\
         Every key, as written in the file with its default, then its variable and flags \
         (also in docs/CONFIGURATION.md):\n",
    );
    let mut current = "";
    for (section, keys) in SECTIONS {
        if *section != current {
            let _ = writeln!(out, "  [{section}]");
            current = *section;
        }
        for key in *keys {
            let flag = key.flags.first().copied().unwrap_or_default();
            let _ = match (key.name, key.default) {
                (None, DefaultValue::Unset(meaning)) => writeln!(out, "  {flag}   (unset: {meaning})"),
                (None, default) => writeln!(out, "  {flag}   (default: {default})"),
                (Some(name), DefaultValue::Unset(meaning)) => writeln!(out, "  {name}   (unset: {meaning})"),
                (Some(name), default) => writeln!(out, "  {name} = {default}"),
            };
            let mut names = vec![key.env];
            names.extend(key.flags.iter().copied().filter(|f| key.name.is_some() || *f != flag));
            let _ = writeln!(out, "      {}: {}", names.join(", "), key.help);
        }
    }
    out.push_str("\nStart with `paperboy demo`: it imports the bundled demo papers and serves them.");
    out
}

#[cfg(test)]
mod tests;
