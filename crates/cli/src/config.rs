//! Settings: command-line flags win over `PAPERBOY_*` environment variables
//! (both handled by clap), which win over `paperboy.toml`, which wins over
//! the built-in defaults. This module holds the file format and the merge.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

pub const DEFAULT_DATA_DIR: &str = "./paperboy-data";
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_PAGE_SIZE: u32 = 30;
pub const DEFAULT_SUBMIT_WINDOW_DAYS: u32 = 14;
pub const DEFAULT_JOB_LEASE_SECONDS: u64 = 60;

/// The contents of `paperboy.toml`. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    /// `postgres://…` to keep the catalog in PostgreSQL instead of
    /// `DATA_DIR/paperboy.db`.
    pub database_url: Option<String>,
    /// Seconds a lease (harvest, digest building) lasts unless renewed: how
    /// long a crashed holder keeps other processes waiting.
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
    pub harvest: crate::commands::harvest::HarvestSection,
    #[serde(default)]
    pub mail: crate::commands::digest::MailSection,
}

/// `[ranking]`: the trending formula's parameters (docs/RANKING.md).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RankingSection {
    /// How fast age wins over votes (default 1.8).
    pub gravity: Option<f64>,
    /// Hours added to every paper's age (default 2).
    pub base_hours: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArxivSection {
    /// The arXiv API endpoint submissions are fetched from.
    pub base_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommunitySection {
    /// Papers whose first version is older than this many days cannot be submitted.
    pub submit_window_days: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchSection {
    /// Directory with model.safetensors and tokenizer.json.
    pub model_dir: Option<PathBuf>,
    /// Papers embedded per batch by the background job.
    pub embed_batch: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    pub addr: Option<String>,
    pub base_url: Option<String>,
    pub page_size: Option<u32>,
    pub site_name: Option<String>,
    pub trusted_proxies: Option<Vec<String>>,
}

impl FileConfig {
    /// Loads the config file: the one named explicitly (which must exist), or
    /// `./paperboy.toml` when present, or nothing.
    pub fn load(explicit: Option<&Path>) -> Result<(FileConfig, Option<PathBuf>)> {
        let path = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => Some(PathBuf::from("paperboy.toml")).filter(|p| p.is_file()),
        };
        let Some(path) = path else {
            return Ok((FileConfig::default(), None));
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the config file {}", path.display()))?;
        let cfg: FileConfig = toml::from_str(&text).with_context(|| {
            format!("{} is not a valid Paperboy config (see `paperboy --help` for the keys)", path.display())
        })?;
        Ok((cfg, Some(path)))
    }
}

/// Settings every command needs, after the merge.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    /// `--database-url` / `PAPERBOY_DATABASE_URL` / `database_url`: the
    /// PostgreSQL database; `None` keeps SQLite in the data directory.
    pub database_url: Option<String>,
    /// `job_lease_seconds` / `PAPERBOY_JOB_LEASE_SECONDS`: see [`FileConfig::job_lease_seconds`].
    pub lease: std::time::Duration,
    pub addr: String,
    pub base_url: Option<String>,
    pub page_size: u32,
    pub site_name: String,
    /// `[server] trusted_proxies` or `PAPERBOY_TRUSTED_PROXIES` (comma-separated).
    pub trusted_proxies: Vec<paperboy_core::net::IpBlock>,
    /// Explicitly configured model directory (flag, env or file).
    pub model_dir: Option<PathBuf>,
    pub embed_batch: usize,
    /// `[arxiv] base_url` (the flag and `PAPERBOY_ARXIV_BASE_URL` are `serve`'s).
    pub arxiv_base_url: Option<String>,
    pub submit_window_days: u32,
    /// The trending formula's parameters (checked when the file is loaded).
    pub ranking: paperboy_core::ranking::RankingParams,
    /// `[harvest]` with `PAPERBOY_HARVEST_*` applied.
    pub harvest: crate::commands::harvest::HarvestSettings,
    /// `[mail]` with `PAPERBOY_SMTP_*` / `PAPERBOY_MAIL_*` applied.
    pub mail: crate::commands::digest::MailSettings,
}

impl Settings {
    pub fn merge(
        data_dir_flag: Option<PathBuf>,
        model_dir_flag: Option<PathBuf>,
        file: FileConfig,
    ) -> Result<Settings> {
        let defaults = paperboy_core::ranking::RankingParams::default();
        let ranking = paperboy_core::ranking::RankingParams::new(
            file.ranking.gravity.unwrap_or(defaults.gravity),
            file.ranking.base_hours.unwrap_or(defaults.base_hours),
        )
        .context("invalid [ranking] section in the config file")?;
        let harvest = crate::commands::harvest::HarvestSettings::resolve(file.harvest, |k| std::env::var(k).ok())?;
        let mail = crate::commands::digest::MailSettings::resolve(file.mail, |k| std::env::var(k).ok())?;
        let proxies = match std::env::var("PAPERBOY_TRUSTED_PROXIES") {
            Ok(list) => list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect(),
            Err(_) => file.server.trusted_proxies.unwrap_or_default(),
        };
        let trusted_proxies = proxies
            .iter()
            .map(|p| p.parse::<paperboy_core::net::IpBlock>().map_err(anyhow::Error::msg))
            .collect::<Result<Vec<_>>>()
            .context("invalid trusted proxies ([server] trusted_proxies or PAPERBOY_TRUSTED_PROXIES)")?;
        let lease_seconds = match std::env::var("PAPERBOY_JOB_LEASE_SECONDS") {
            Ok(v) => v.trim().parse::<u64>().ok().filter(|s| *s > 0).with_context(|| {
                format!("PAPERBOY_JOB_LEASE_SECONDS is {v:?}: give a whole number of seconds, at least 1 (default 60)")
            })?,
            Err(_) => file.job_lease_seconds.unwrap_or(DEFAULT_JOB_LEASE_SECONDS),
        };
        anyhow::ensure!(lease_seconds > 0, "job_lease_seconds must be at least 1 (default 60)");
        Ok(Settings {
            database_url: file.database_url.filter(|u| !u.trim().is_empty()),
            lease: std::time::Duration::from_secs(lease_seconds),
            trusted_proxies,
            ranking,
            harvest,
            mail,
            model_dir: model_dir_flag.or(file.search.model_dir),
            embed_batch: file.search.embed_batch.unwrap_or(64).clamp(1, 1024),
            data_dir: data_dir_flag.or(file.data_dir).unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            addr: file.server.addr.unwrap_or_else(|| DEFAULT_ADDR.to_string()),
            base_url: file.server.base_url,
            page_size: file.server.page_size.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, 100),
            site_name: file.server.site_name.unwrap_or_else(|| "Paperboy".to_string()),
            arxiv_base_url: file.arxiv.base_url,
            submit_window_days: file.community.submit_window_days.unwrap_or(DEFAULT_SUBMIT_WINDOW_DAYS).clamp(1, 3650),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_file_and_file_over_defaults() {
        let file: FileConfig =
            toml::from_str("data_dir = \"/srv/pb\"\n[server]\naddr = \"0.0.0.0:9000\"\npage_size = 500\n").unwrap();
        let s = Settings::merge(Some("/tmp/flag".into()), None, file).unwrap();
        assert_eq!(s.data_dir, PathBuf::from("/tmp/flag"));
        assert_eq!(s.addr, "0.0.0.0:9000");
        assert_eq!(s.page_size, 100, "page size is clamped");
        let d = Settings::merge(None, None, FileConfig::default()).unwrap();
        assert_eq!(d.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        assert_eq!(d.addr, DEFAULT_ADDR);
        assert_eq!(d.submit_window_days, DEFAULT_SUBMIT_WINDOW_DAYS);
        let file: FileConfig =
            toml::from_str("[arxiv]\nbase_url = \"http://127.0.0.1:9/q\"\n[community]\nsubmit_window_days = 30\n")
                .unwrap();
        let s = Settings::merge(None, None, file).unwrap();
        assert_eq!(s.arxiv_base_url.as_deref(), Some("http://127.0.0.1:9/q"));
        assert_eq!(s.submit_window_days, 30);
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<FileConfig>("datadir = 1").is_err());
    }

    #[test]
    fn ranking_section_is_read_and_checked() {
        let file: FileConfig = toml::from_str("[ranking]\ngravity = 1.5\nbase_hours = 3\n").unwrap();
        let s = Settings::merge(None, None, file).unwrap();
        assert_eq!((s.ranking.gravity, s.ranking.base_hours), (1.5, 3.0));
        let d = Settings::merge(None, None, FileConfig::default()).unwrap();
        assert_eq!(d.ranking, paperboy_core::ranking::RankingParams::default());
        let bad: FileConfig = toml::from_str("[ranking]\ngravity = -1\n").unwrap();
        let err = format!("{:#}", Settings::merge(None, None, bad).unwrap_err());
        assert!(err.contains("[ranking]") && err.contains("gravity"), "{err}");
    }
}
