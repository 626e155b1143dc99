//! Settings: command-line flags win over `PAPERBOY_*` environment variables
//! (both handled by clap), which win over `paperboy.toml`, which wins over
//! the built-in defaults. This module holds the file format and the merge.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

pub const DEFAULT_DATA_DIR: &str = "./paperboy-data";
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_PAGE_SIZE: u32 = 30;

/// The contents of `paperboy.toml`. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    #[serde(default)]
    pub server: ServerSection,
    #[serde(default)]
    pub search: SearchSection,
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
    pub addr: String,
    pub base_url: Option<String>,
    pub page_size: u32,
    pub site_name: String,
    /// Explicitly configured model directory (flag, env or file).
    pub model_dir: Option<PathBuf>,
    pub embed_batch: usize,
}

impl Settings {
    pub fn merge(data_dir_flag: Option<PathBuf>, model_dir_flag: Option<PathBuf>, file: FileConfig) -> Settings {
        Settings {
            model_dir: model_dir_flag.or(file.search.model_dir),
            embed_batch: file.search.embed_batch.unwrap_or(64).clamp(1, 1024),
            data_dir: data_dir_flag.or(file.data_dir).unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            addr: file.server.addr.unwrap_or_else(|| DEFAULT_ADDR.to_string()),
            base_url: file.server.base_url,
            page_size: file.server.page_size.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, 100),
            site_name: file.server.site_name.unwrap_or_else(|| "Paperboy".to_string()),
        }
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
        let s = Settings::merge(Some("/tmp/flag".into()), None, file);
        assert_eq!(s.data_dir, PathBuf::from("/tmp/flag"));
        assert_eq!(s.addr, "0.0.0.0:9000");
        assert_eq!(s.page_size, 100, "page size is clamped");
        let d = Settings::merge(None, None, FileConfig::default());
        assert_eq!(d.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        assert_eq!(d.addr, DEFAULT_ADDR);
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<FileConfig>("datadir = 1").is_err());
    }
}
