//! `[ranking]`: the parameters of the trending score (docs/RANKING.md),
//! `votes / (age_hours + base_hours)^gravity`, the weights of the trending
//! signals in it (local votes, Hugging Face upvotes, stars this week) and
//! the age limit of the code-trending view. The defaults and the checks are
//! the domain's ([`RankingSettings`], [`SignalWeights`]).

use anyhow::{Context, Result};
use paperboy_core::ranking::RankingSettings;
use paperboy_core::trending::{DEFAULT_MAX_AGE_DAYS, SignalWeights};
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

pub const LOCAL_VOTE: Key = Key::new(
    "ranking",
    "local_vote",
    "PAPERBOY_RANKING_LOCAL_VOTE",
    DefaultValue::Number(1.0),
    "the weight of one vote here in the trending score, 0 to 1000",
);
pub const HF_UPVOTE: Key = Key::new(
    "ranking",
    "hf_upvote",
    "PAPERBOY_RANKING_HF_UPVOTE",
    DefaultValue::Number(0.5),
    "the weight of one Hugging Face upvote, in local votes, 0 to 1000",
);
pub const WEEKLY_STAR: Key = Key::new(
    "ranking",
    "weekly_star",
    "PAPERBOY_RANKING_WEEKLY_STAR",
    DefaultValue::Number(0.5),
    "the weight of one GitHub star gained this week, in local votes, 0 to 1000",
);
pub const MAX_AGE_DAYS: Key = Key::new(
    "ranking",
    "max_age_days",
    "PAPERBOY_RANKING_MAX_AGE_DAYS",
    DefaultValue::Whole(DEFAULT_MAX_AGE_DAYS as u64),
    "the oldest papers (days since listed) the code-trending view shows",
);

pub const KEYS: &[Key] = &[GRAVITY, BASE_HOURS, LOCAL_VOTE, HF_UPVOTE, WEEKLY_STAR, MAX_AGE_DAYS];

/// `[ranking]` in `paperboy.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RankingSection {
    pub gravity: Option<f64>,
    pub base_hours: Option<f64>,
    pub local_vote: Option<f64>,
    pub hf_upvote: Option<f64>,
    pub weekly_star: Option<f64>,
    pub max_age_days: Option<u32>,
}

/// The signal weights and the code-trending age limit: the environment over
/// the file over the defaults, weights checked by the domain.
pub fn resolve_signals(env: &Env, file: &RankingSection) -> Result<(SignalWeights, u32)> {
    let d = SignalWeights::default();
    let local = pick(&LOCAL_VOTE, None, env, file.local_vote, d.local_vote)?;
    let hf = pick(&HF_UPVOTE, None, env, file.hf_upvote, d.hf_upvote)?;
    let star = pick(&WEEKLY_STAR, None, env, file.weekly_star, d.weekly_star)?;
    let given = format!("{}; {}; {}", local.given(), hf.given(), star.given());
    let weights = SignalWeights::new(local.value, hf.value, star.value)
        .with_context(|| format!("invalid ranking weights ({given})"))?;
    let days = pick(&MAX_AGE_DAYS, None, env, file.max_age_days, DEFAULT_MAX_AGE_DAYS)?
        .check(|d| (1..=36_500).contains(d), "a number of days from 1 to 36500")?;
    Ok((weights, days))
}

/// The environment over the file over the defaults, checked by the domain.
pub fn resolve(env: &Env, file: RankingSection) -> Result<RankingSettings> {
    let gravity = pick(&GRAVITY, None, env, file.gravity, RankingSettings::DEFAULT_GRAVITY)?;
    let base_hours = pick(&BASE_HOURS, None, env, file.base_hours, RankingSettings::DEFAULT_BASE_HOURS)?;
    let given = format!("{}; {}", gravity.given(), base_hours.given());
    RankingSettings::new(gravity.value, base_hours.value)
        .with_context(|| format!("invalid ranking parameters ({given})"))
}
