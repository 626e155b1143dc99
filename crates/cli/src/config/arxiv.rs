//! `[arxiv]`: the arXiv API that member submissions are fetched from.

use anyhow::Result;
use paperboy_arxiv::DEFAULT_BASE_URL;
use serde::Deserialize;

use super::env::Env;
use super::key::{DefaultValue, Key, pick};

pub const BASE_URL: Key = Key::new(
    "arxiv",
    "base_url",
    "PAPERBOY_ARXIV_BASE_URL",
    DefaultValue::Text(DEFAULT_BASE_URL),
    "the arXiv API endpoint that member submissions are fetched from",
)
.flags(&["serve --arxiv-base-url", "demo --arxiv-base-url"]);

pub const KEYS: &[Key] = &[BASE_URL];

/// `[arxiv]` in `paperboy.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArxivSection {
    pub base_url: Option<String>,
}

/// `[arxiv]` after the merge.
#[derive(Debug, Clone)]
pub struct ArxivSettings {
    pub base_url: String,
}

impl ArxivSettings {
    /// `--arxiv-base-url` over the environment over the file over the default.
    pub fn resolve(base_url_flag: Option<String>, env: &Env, file: ArxivSection) -> Result<ArxivSettings> {
        Ok(ArxivSettings {
            base_url: pick(&BASE_URL, base_url_flag, env, file.base_url, DEFAULT_BASE_URL.to_string())?.value,
        })
    }
}
