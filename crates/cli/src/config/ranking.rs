//! `[ranking]`: the parameters of the trending score (docs/RANKING.md),
//! `votes / (age_hours + base_hours)^gravity`. The defaults and the checks
//! are the domain's ([`RankingSettings`]).

use anyhow::{Context, Result};
use paperboy_core::ranking::RankingSettings;
use serde::Deserialize;

use super::env::Env;
use super::key::{DefaultValue, Key, pick};

pub const GRAVITY: Key = Key::new(
    "ranking",
    "gravity",
    "PAPERBOY_RANKING_GRAVITY",
    DefaultValue::Number(RankingSettings::DEFAULT_GRAVITY),
    "how fast age wins over votes, 0 to 10",
);
pub const BASE_HOURS: Key = Key::new(
    "ranking",
    "base_hours",
    "PAPERBOY_RANKING_BASE_HOURS",
    DefaultValue::Number(RankingSettings::DEFAULT_BASE_HOURS),
    "hours added to every paper's age, above 0",
);

pub const KEYS: &[Key] = &[GRAVITY, BASE_HOURS];

/// `[ranking]` in `paperboy.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RankingSection {
    pub gravity: Option<f64>,
    pub base_hours: Option<f64>,
}

/// The environment over the file over the defaults, checked by the domain.
pub fn resolve(env: &Env, file: RankingSection) -> Result<RankingSettings> {
    let gravity = pick(&GRAVITY, None, env, file.gravity, RankingSettings::DEFAULT_GRAVITY)?;
    let base_hours = pick(&BASE_HOURS, None, env, file.base_hours, RankingSettings::DEFAULT_BASE_HOURS)?;
    let given = format!("{}; {}", gravity.given(), base_hours.given());
    RankingSettings::new(gravity.value, base_hours.value)
        .with_context(|| format!("invalid ranking parameters ({given})"))
}
