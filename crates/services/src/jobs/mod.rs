//! The one home of background work: what a job is, and the [`Supervisor`]
//! that `paperboy serve` starts and stops.
//!
//! A [`Job`] has a name, a [`Schedule`] (every so often, continuously with
//! an idle pause, or at a local time of day in a time zone), optionally the
//! name of a database lease it must hold while it runs (so that of several
//! servers on one database one does the work), and a `run` that does one
//! turn of the work with a [`JobContext`]: the database, the clock, the
//! cancellation signal and this job's lease-holder name. The supervisor runs
//! every registered job on its schedule, logs each run (name, duration,
//! outcome), retries a failed run with backoff, keeps each job's
//! [`JobStatus`], and on shutdown cancels them and waits (with a bound).
//!
//! The jobs themselves, one file each: [`index_follow`] (keyword side of the
//! search index), [`embed`] (vectors for waiting papers, claimed from the
//! store and stored there once per deployment), [`vector_follow`] (the
//! stored vectors into this server's vector index), [`harvest`] (the
//! daily arXiv harvest), [`digest`] (building a period's digests, with
//! [`picks`] for a member's recommendations),
//! [`outbox`] (sending what is due), [`sweep`] (expired sessions, links,
//! old rate-limit records), [`signals_github`] and [`signals_hf`] (trending
//! signals from GitHub and Hugging Face).
//!
//! Adding a job: a new file here with a type that implements [`Job`], a
//! `pub mod` line below, and one `supervisor.register(...)` line where
//! `serve` builds its job list.

pub mod cache_follow;
pub mod clock;
mod supervisor;

pub mod digest;
pub mod embed;
pub mod harvest;
pub mod index_follow;
pub mod outbox;
pub mod picks;
pub mod signals_github;
pub mod signals_hf;
pub mod sweep;
pub mod vector_follow;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_store::{Database, StoreError};
use thiserror::Error;
use tokio::sync::watch;

use crate::harvest::HarvestError;
use crate::indexer::IndexError;
use crate::lease::LeaseError;

pub use clock::{Clock, ManualClock, SystemClock};
pub use supervisor::{Outcome, Running, StatusBoard, Supervisor};

/// One kind of background work (see the module documentation).
#[async_trait]
pub trait Job: Send + Sync + 'static {
    /// A short, stable name: in logs, in [`JobStatus`], in lease holders.
    fn name(&self) -> &str;

    /// When the job runs.
    fn schedule(&self) -> Schedule;

    /// The database lease a run must hold, if any; a run that finds it held
    /// by another process does not run (see [`Job::when_busy`]).
    fn lease(&self) -> Option<&str> {
        None
    }

    /// What to do when another process holds [`Job::lease`].
    fn when_busy(&self) -> WhenBusy {
        WhenBusy::Skip
    }

    /// How a failed run is retried.
    fn retry(&self) -> Retry {
        Retry::default()
    }

    /// One turn of the work. It may stop early once
    /// [`JobContext::is_cancelled`]; a run that does not is dropped at its
    /// next await point when the shutdown bound passes, so the work must be
    /// safe to stop there (as work under a lease must be anyway).
    async fn run(&self, ctx: &JobContext) -> Result<Ran, JobError>;

    /// Called once after the last run, when the supervisor stops the job.
    async fn stopped(&self, _ctx: &JobContext) {}
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ran {
    /// A line for the log and the status; empty when there was nothing to do
    /// (such runs are logged at debug level only).
    pub note: String,
    /// Work is left: a [`Schedule::Continuous`] job runs again at once.
    pub more: bool,
}

impl Ran {
    /// Nothing to do this time.
    pub fn idle() -> Ran {
        Ran::default()
    }

    /// Did something worth a log line.
    pub fn did(note: impl Into<String>) -> Ran {
        Ran { note: note.into(), more: false }
    }

    /// Marks whether work is left.
    pub fn with_more(self, more: bool) -> Ran {
        Ran { more, ..self }
    }
}

/// When a job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// At start, then this long after each run ends.
    Every(Duration),
    /// At start, then again at once while a run reports [`Ran::more`], and
    /// `idle` after a run that left nothing.
    Continuous { idle: Duration },
    /// At each firing of a local time of day (`paperboy_core::schedule`).
    /// With `catch_up`, a firing less than that long before the start runs
    /// at once (for idempotent work that a restart must not skip).
    At { times: paperboy_core::schedule::Schedule, catch_up: Option<chrono::Duration> },
}

impl Schedule {
    /// When the first run is due, for a supervisor started at `now`.
    pub fn first_due(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Schedule::Every(_) | Schedule::Continuous { .. } => now,
            Schedule::At { times, catch_up } => match catch_up {
                Some(window) if times.next_after(now - *window) <= now => now,
                _ => times.next_after(now),
            },
        }
    }

    /// When the next run is due after one that ended at `now`.
    pub fn next_due(&self, now: DateTime<Utc>, more: bool) -> DateTime<Utc> {
        match self {
            Schedule::Every(every) => now + chrono_duration(*every),
            Schedule::Continuous { .. } if more => now,
            Schedule::Continuous { idle } => now + chrono_duration(*idle),
            Schedule::At { times, .. } => times.next_after(now),
        }
    }

    /// Whether runs belong to firings of a calendar (retries then stop at
    /// [`Retry::attempts`] and wait for the next firing).
    pub fn is_calendar(&self) -> bool {
        matches!(self, Schedule::At { .. })
    }

    /// For status output: `every 3600s`, `continuous (idle 2s)`, `07:00 Europe/Berlin Weekdays`.
    pub fn describe(&self) -> String {
        match self {
            Schedule::Every(d) => format!("every {}s", d.as_secs_f64()),
            Schedule::Continuous { idle } => format!("continuous (idle {}s)", idle.as_secs_f64()),
            Schedule::At { times, .. } => format!("{} {} {:?}", times.at.format("%H:%M"), times.tz, times.days),
        }
    }
}

/// A `std` duration as a `chrono` one (saturating: a century for absurd values).
pub(crate) fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or_else(|_| chrono::Duration::days(36_500))
}

/// What a job does when another process holds its lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenBusy {
    /// The other process does this turn; wait for the next one.
    Skip,
    /// Try again after the supervisor's busy pause until the run happens
    /// here (for idempotent work: a holder that dies leaves the rest).
    Retry,
}

/// Retries of a failed run: `first`, then twice as long each time, at most
/// `max`. A calendar job gives up after `attempts` failed runs and waits for
/// its next firing; the others keep retrying at the capped delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub first: Duration,
    pub max: Duration,
    pub attempts: u32,
}

impl Default for Retry {
    fn default() -> Self {
        Retry { first: Duration::from_secs(5), max: Duration::from_secs(600), attempts: 5 }
    }
}

impl Retry {
    /// The pause after the failed attempt number `attempt` (1 for the first).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(20);
        self.first.saturating_mul(factor).min(self.max)
    }
}

/// Why a run failed.
#[derive(Debug, Error)]
pub enum JobError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Mail(#[from] paperboy_mail::MailError),
    #[error(transparent)]
    Harvest(#[from] HarvestError),
    #[error(transparent)]
    Lease(#[from] LeaseError),
    /// The run stopped because the supervisor is shutting down.
    #[error("stopped: the server is shutting down")]
    Cancelled,
    #[error("{0}")]
    Failed(String),
}

/// What a run gets from the supervisor.
#[derive(Clone)]
pub struct JobContext {
    /// The database every job shares.
    pub db: Arc<dyn Database>,
    /// Now, and waiting; a manual clock in tests.
    pub clock: Arc<dyn Clock>,
    /// This job's name as a lease holder: the process's holder id and the
    /// job name (two jobs of one process never share a lease).
    pub holder: String,
    /// When this run was due: the firing it belongs to (retries keep it).
    pub due: DateTime<Utc>,
    /// 1 for the first attempt at `due`, then 2, 3, … for retries.
    pub attempt: u32,
    cancel: watch::Receiver<bool>,
}

impl JobContext {
    /// Whether the supervisor is shutting down.
    pub fn is_cancelled(&self) -> bool {
        *self.cancel.borrow()
    }

    /// Resolves when the supervisor shuts down (at once if it has).
    pub async fn cancelled(&self) {
        let mut rx = self.cancel.clone();
        // An error means the supervisor is gone: cancelled too.
        let _ = rx.wait_for(|c| *c).await;
    }
}

/// One job's state, for a `status` command and metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct JobStatus {
    pub name: String,
    pub schedule: String,
    pub lease: Option<String>,
    /// A run is under way.
    pub running: bool,
    /// Runs that ended (done or failed; not those skipped for a busy lease).
    pub runs: u64,
    /// Runs that failed.
    pub failures: u64,
    /// Failures since the last success.
    pub failures_in_row: u32,
    /// Turns left to another process holding the lease.
    pub busy: u64,
    pub last_started: Option<DateTime<Utc>>,
    pub last_finished: Option<DateTime<Utc>>,
    pub last_duration: Option<Duration>,
    pub last_outcome: Option<Outcome>,
    /// When the next run is due (`None` once stopped).
    pub next_run: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use paperboy_core::schedule::Days;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn schedules_say_when_runs_are_due() {
        let now = utc("2026-12-03T06:00:00Z");
        let every = Schedule::Every(Duration::from_secs(60));
        assert_eq!((every.first_due(now), every.next_due(now, true)), (now, utc("2026-12-03T06:01:00Z")));
        let cont = Schedule::Continuous { idle: Duration::from_secs(2) };
        assert_eq!(cont.next_due(now, true), now, "again at once while work is left");
        assert_eq!(cont.next_due(now, false), utc("2026-12-03T06:00:02Z"));
        let times = paperboy_core::schedule::Schedule::parse("05:00", "UTC", Days::Every).unwrap();
        let at = Schedule::At { times, catch_up: None };
        assert_eq!(at.first_due(now), utc("2026-12-04T05:00:00Z"), "no catch-up: the next firing");
        let catch_up = Schedule::At { times, catch_up: Some(chrono::Duration::hours(2)) };
        assert_eq!(catch_up.first_due(now), now, "fired an hour ago: at once");
        let short = Schedule::At { times, catch_up: Some(chrono::Duration::minutes(30)) };
        assert_eq!(short.first_due(now), utc("2026-12-04T05:00:00Z"), "fired before the window");
        assert!(at.is_calendar() && !every.is_calendar());
        assert_eq!(at.describe(), "05:00 UTC Every");
    }

    #[test]
    fn retry_pauses_double_up_to_the_cap() {
        let r = Retry { first: Duration::from_secs(5), max: Duration::from_secs(30), attempts: 3 };
        let pauses: Vec<u64> = (1..=5).map(|a| r.delay(a).as_secs()).collect();
        assert_eq!(pauses, vec![5, 10, 20, 30, 30]);
        assert_eq!(r.delay(u32::MAX), Duration::from_secs(30), "no overflow");
    }
}
