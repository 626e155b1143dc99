//! `[signals.github]` and `[signals.huggingface]`: the trending-signal jobs
//! (docs/RANKING.md "Trending signals"): whether `serve` runs them, the API
//! base URLs (configurable so that tests and mirrors work) and GitHub's
//! token. The clients' settings types are `paperboy-signals`'.

use anyhow::Result;
use paperboy_signals::github::DEFAULT_GITHUB_URL;
use paperboy_signals::huggingface::DEFAULT_HF_URL;
use paperboy_signals::{GithubSettings, HfSettings};
use serde::Deserialize;

use super::env::Env;
use super::key::{DefaultValue, Key, pick, pick_opt};

pub const GITHUB_ENABLED: Key = Key::new(
    "signals.github",
    "enabled",
    "PAPERBOY_GITHUB_ENABLED",
    DefaultValue::Bool(false),
    "whether `serve` fetches GitHub stars of the papers' repositories",
);
pub const GITHUB_API_URL: Key = Key::new(
    "signals.github",
    "api_url",
    "PAPERBOY_GITHUB_API_URL",
    DefaultValue::Text(DEFAULT_GITHUB_URL),
    "the GitHub REST API (or a compatible server)",
);
pub const GITHUB_TOKEN: Key = Key::new(
    "signals.github",
    "token",
    "PAPERBOY_GITHUB_TOKEN",
    DefaultValue::Unset("no token: 60 requests an hour, paced one a minute"),
    "a GitHub token (5,000 requests an hour, paced at 0.72 s)",
);
pub const HF_ENABLED: Key = Key::new(
    "signals.huggingface",
    "enabled",
    "PAPERBOY_HF_ENABLED",
    DefaultValue::Bool(false),
    "whether `serve` fetches upvotes from Hugging Face Papers",
);
pub const HF_API_URL: Key = Key::new(
    "signals.huggingface",
    "api_url",
    "PAPERBOY_HF_API_URL",
    DefaultValue::Text(DEFAULT_HF_URL),
    "the Hugging Face site whose /api/daily_papers is read",
);

pub const GITHUB_KEYS: &[Key] = &[GITHUB_ENABLED, GITHUB_API_URL, GITHUB_TOKEN];
pub const HF_KEYS: &[Key] = &[HF_ENABLED, HF_API_URL];

/// `[signals]` in `paperboy.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalsSection {
    #[serde(default)]
    pub github: GithubSection,
    #[serde(default)]
    pub huggingface: HfSection,
}

/// `[signals.github]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubSection {
    pub enabled: Option<bool>,
    pub api_url: Option<String>,
    pub token: Option<String>,
}

/// `[signals.huggingface]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HfSection {
    pub enabled: Option<bool>,
    pub api_url: Option<String>,
}

/// `[signals]` after the merge.
#[derive(Debug, Clone)]
pub struct SignalsSettings {
    /// `serve` runs the GitHub job.
    pub github_enabled: bool,
    pub github: GithubSettings,
    /// `serve` runs the Hugging Face job.
    pub huggingface_enabled: bool,
    pub huggingface: HfSettings,
}

impl SignalsSettings {
    /// The environment over the file over the defaults.
    pub fn resolve(env: &Env, file: SignalsSection) -> Result<SignalsSettings> {
        let (gh, hf) = (file.github, file.huggingface);
        let token = pick_opt(&GITHUB_TOKEN, None, env, gh.token)?.map(|p| p.value);
        let github = GithubSettings {
            base_url: pick(&GITHUB_API_URL, None, env, gh.api_url, DEFAULT_GITHUB_URL.to_string())?.value,
            ..GithubSettings::with_token(token)
        };
        let huggingface = HfSettings {
            base_url: pick(&HF_API_URL, None, env, hf.api_url, DEFAULT_HF_URL.to_string())?.value,
            ..HfSettings::default()
        };
        Ok(SignalsSettings {
            github_enabled: pick(&GITHUB_ENABLED, None, env, gh.enabled, false)?.value,
            github,
            huggingface_enabled: pick(&HF_ENABLED, None, env, hf.enabled, false)?.value,
            huggingface,
        })
    }
}
