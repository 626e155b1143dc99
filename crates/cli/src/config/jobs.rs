//! The top-level `job_lease_seconds`: how long a lease on shared work
//! (harvesting, building digests) lasts unless renewed, which is how long a
//! crashed holder keeps the other processes waiting.

use std::time::Duration;

use anyhow::Result;
use paperboy_services::lease::DEFAULT_LEASE;

use super::env::Env;
use super::key::{DefaultValue, Key, pick};

pub const JOB_LEASE_SECONDS: Key = Key::new(
    "",
    "job_lease_seconds",
    "PAPERBOY_JOB_LEASE_SECONDS",
    DefaultValue::Whole(DEFAULT_LEASE.as_secs()),
    "harvesting and digest building run in one process at a time; a crashed holder's lease runs out after this",
);

pub const KEYS: &[Key] = &[JOB_LEASE_SECONDS];

/// The environment over the file over the default; at least a second.
pub fn job_lease(env: &Env, file: Option<u64>) -> Result<Duration> {
    let seconds = pick(&JOB_LEASE_SECONDS, None, env, file, DEFAULT_LEASE.as_secs())?
        .check(|s| *s > 0, "a whole number of seconds, at least 1")?;
    Ok(Duration::from_secs(seconds))
}
