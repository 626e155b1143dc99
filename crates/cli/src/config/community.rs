//! `[community]`: the rules for what members may do.

use anyhow::Result;
use serde::Deserialize;

use super::env::Env;
use super::key::{DefaultValue, Key, pick};

pub const DEFAULT_SUBMIT_WINDOW_DAYS: u32 = 14;
/// Windows outside this range are brought into it.
const SUBMIT_WINDOWS: std::ops::RangeInclusive<u32> = 1..=3650;

pub const SUBMIT_WINDOW_DAYS: Key = Key::new(
    "community",
    "submit_window_days",
    "PAPERBOY_SUBMIT_WINDOW_DAYS",
    DefaultValue::Whole(DEFAULT_SUBMIT_WINDOW_DAYS as u64),
    "papers whose first version is older than this many days cannot be submitted, 1 to 3650",
);

pub const DEFAULT_COMMENTS_PER_MINUTE: u32 = 5;

pub const COMMENTS_PER_MINUTE: Key = Key::new(
    "community",
    "comments_per_minute",
    "PAPERBOY_COMMENTS_PER_MINUTE",
    DefaultValue::Whole(DEFAULT_COMMENTS_PER_MINUTE as u64),
    "comments and replies one member may post per minute, counted across servers; 0 turns the limit off",
);

pub const KEYS: &[Key] = &[SUBMIT_WINDOW_DAYS, COMMENTS_PER_MINUTE];

/// `[community]` in `paperboy.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommunitySection {
    pub submit_window_days: Option<u32>,
    pub comments_per_minute: Option<u32>,
}

/// `[community]` after the merge.
#[derive(Debug, Clone)]
pub struct CommunitySettings {
    pub submit_window_days: u32,
    pub comments_per_minute: u32,
}

impl CommunitySettings {
    /// The environment over the file over the default.
    pub fn resolve(env: &Env, file: CommunitySection) -> Result<CommunitySettings> {
        let days = pick(&SUBMIT_WINDOW_DAYS, None, env, file.submit_window_days, DEFAULT_SUBMIT_WINDOW_DAYS)?.value;
        let comments =
            pick(&COMMENTS_PER_MINUTE, None, env, file.comments_per_minute, DEFAULT_COMMENTS_PER_MINUTE)?.value;
        Ok(CommunitySettings {
            submit_window_days: days.clamp(*SUBMIT_WINDOWS.start(), *SUBMIT_WINDOWS.end()),
            comments_per_minute: comments,
        })
    }
}
