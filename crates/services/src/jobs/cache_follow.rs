//! The response-cache follower: a few times a second, every server reads
//! the community change feed (votes, comments, suspensions:
//! [`Catalog::community_changes_since`](paperboy_store::Catalog::community_changes_since))
//! and hands what is new to its response cache, which drops exactly the
//! pages those changes made stale. Catalog changes (imports, harvests,
//! submissions, hidden papers) need no follower: the cache compares the
//! catalog's change number on every request.
//!
//! The feed's numbers come from a sequence that, on PostgreSQL, several
//! servers draw from at once, so number 10 may commit after number 11. The
//! [`Cursor`] keeps the highest number below which it has seen everything,
//! and the numbers it has seen above it; it reads from that number on, so a
//! late commit is still picked up, and gives up on a missing number after
//! [`GAP_WAIT`] (a rolled-back transaction leaves a hole for good). Old rows
//! are swept every [`SWEEP_EVERY`], once [`KEEP`] old.
//!
//! The cache itself is the web layer's; this job knows it only as
//! [`FollowChanges`], so services does not depend on HTTP.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_store::{CommunityChange, Database, StoreError};

use super::{Job, JobContext, JobError, Ran, Retry, Schedule, chrono_duration};

/// How long a missing change number is waited for before the cursor moves
/// past it: far longer than a vote's or a comment's transaction takes.
pub const GAP_WAIT: Duration = Duration::from_secs(10);
/// How long community changes are kept.
pub const KEEP: Duration = Duration::from_secs(600);
/// How often a server sweeps old community changes.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// Changes read per query.
pub const READ_LIMIT: u32 = 500;
/// How far before the newest change a new cursor starts, so that changes
/// still being committed when it starts are not skipped (re-reading a few
/// old ones costs nothing: dropping a page twice is harmless).
pub const START_BACK: u64 = 200;

/// What follows the community change feed: the web layer's response cache.
#[async_trait]
pub trait FollowChanges: Send + Sync + 'static {
    /// Reads the changes not seen yet from `db` and applies them; returns
    /// how many were new. Called by [`CacheFollow`] (`from_job`) and by the
    /// cache itself after a write through its own server.
    async fn follow(&self, db: &dyn Database, from_job: bool) -> Result<usize, StoreError>;
}

/// A reading position in the community change feed that tolerates numbers
/// committed out of order (see the module documentation).
#[derive(Debug, Default)]
pub struct Cursor {
    /// Every number up to this one has been seen or given up on; `None`
    /// before [`Cursor::start`].
    done: Option<u64>,
    /// Numbers above `done` already seen.
    seen: BTreeSet<u64>,
    /// The number `done + 1` missing since when.
    gap: Option<(u64, Instant)>,
}

impl Cursor {
    /// Whether [`Cursor::start`] was called.
    pub fn started(&self) -> bool {
        self.done.is_some()
    }

    /// Starts reading after number `at`.
    pub fn start(&mut self, at: u64) {
        *self = Cursor { done: Some(at), ..Cursor::default() };
    }

    /// The number to read after.
    pub fn after(&self) -> u64 {
        self.done.unwrap_or(0)
    }

    /// Of `changes` (read after [`Cursor::after`], in number order), the ones
    /// not seen before; moves the position on, past holes older than
    /// [`GAP_WAIT`] at `now`.
    pub fn take(&mut self, changes: Vec<CommunityChange>, now: Instant) -> Vec<CommunityChange> {
        let done = self.after();
        let fresh: Vec<CommunityChange> =
            changes.into_iter().filter(|c| c.seq > done && self.seen.insert(c.seq)).collect();
        self.advance();
        if let Some(&first) = self.seen.first() {
            let missing = self.after() + 1;
            match self.gap {
                Some((seq, since)) if seq == missing => {
                    if now.duration_since(since) >= GAP_WAIT {
                        tracing::debug!(missing, first, "community changes given up on");
                        self.done = Some(first - 1);
                        self.advance();
                        self.gap = self.seen.first().map(|_| (self.after() + 1, now));
                    }
                }
                _ => self.gap = Some((missing, now)),
            }
        } else {
            self.gap = None;
        }
        fresh
    }

    fn advance(&mut self) {
        let mut done = self.after();
        while self.seen.remove(&(done + 1)) {
            done += 1;
        }
        if self.done.is_some() || done > 0 {
            self.done = Some(done);
        }
    }
}

/// See the module documentation.
pub struct CacheFollow {
    cache: Arc<dyn FollowChanges>,
    every: Duration,
    last_sweep: Mutex<Option<DateTime<Utc>>>,
}

impl CacheFollow {
    /// Follows the feed into `cache` every `every` (a few hundred
    /// milliseconds: what other servers change shows here that late at most).
    pub fn new(cache: Arc<dyn FollowChanges>, every: Duration) -> CacheFollow {
        CacheFollow { cache, every, last_sweep: Mutex::new(None) }
    }

    /// Whether a sweep is due at `now` (and, if so, notes it as done).
    fn sweep_due(&self, now: DateTime<Utc>) -> bool {
        let mut last = self.last_sweep.lock().unwrap_or_else(|p| p.into_inner());
        match *last {
            Some(at) if now - at < chrono_duration(SWEEP_EVERY) => false,
            _ => {
                *last = Some(now);
                true
            }
        }
    }
}

#[async_trait]
impl Job for CacheFollow {
    fn name(&self) -> &str {
        "cache-follow"
    }

    fn schedule(&self) -> Schedule {
        Schedule::Every(self.every)
    }

    fn retry(&self) -> Retry {
        Retry { first: self.every, max: Duration::from_secs(5), attempts: u32::MAX }
    }

    async fn run(&self, ctx: &JobContext) -> Result<Ran, JobError> {
        // Runs several times a second: applied changes are not worth a log line.
        self.cache.follow(ctx.db.as_ref(), true).await?;
        let now = ctx.clock.now();
        if self.sweep_due(now) {
            let swept = ctx.db.sweep_community_changes(now - chrono_duration(KEEP)).await?;
            if swept > 0 {
                return Ok(Ran::did(format!("swept {swept} old community changes")));
            }
        }
        Ok(Ran::idle())
    }
}

#[cfg(test)]
mod tests {
    use paperboy_store::CommunityKind;

    use super::*;

    fn change(seq: u64) -> CommunityChange {
        CommunityChange { seq, kind: CommunityKind::Vote, paper_id: None, listed_on: None, user: None }
    }

    fn seqs(changes: &[CommunityChange]) -> Vec<u64> {
        changes.iter().map(|c| c.seq).collect()
    }

    #[test]
    fn changes_are_taken_once_in_order() {
        let mut c = Cursor::default();
        c.start(3);
        let t = Instant::now();
        assert_eq!(seqs(&c.take(vec![change(4), change(5)], t)), [4, 5]);
        assert_eq!(c.after(), 5);
        assert_eq!(seqs(&c.take(vec![change(5), change(6)], t)), [6], "5 again is not new");
        assert_eq!(c.after(), 6);
    }

    #[test]
    fn a_late_commit_below_a_seen_number_is_still_taken() {
        let mut c = Cursor::default();
        c.start(0);
        let t = Instant::now();
        // 2 committed before 1.
        assert_eq!(seqs(&c.take(vec![change(2)], t)), [2]);
        assert_eq!(c.after(), 0, "waits for 1");
        assert_eq!(seqs(&c.take(vec![change(2)], t + Duration::from_secs(1))), Vec::<u64>::new());
        assert_eq!(seqs(&c.take(vec![change(1), change(2), change(3)], t + Duration::from_secs(2))), [1, 3]);
        assert_eq!(c.after(), 3);
    }

    #[test]
    fn a_hole_is_given_up_on_after_the_wait() {
        let mut c = Cursor::default();
        c.start(0);
        let t = Instant::now();
        c.take(vec![change(2), change(3)], t);
        assert_eq!(c.after(), 0);
        c.take(vec![change(2), change(3)], t + GAP_WAIT / 2);
        assert_eq!(c.after(), 0, "not yet");
        assert_eq!(seqs(&c.take(vec![change(2), change(3)], t + GAP_WAIT)), Vec::<u64>::new());
        assert_eq!(c.after(), 3, "1 given up on");
        // A new hole gets its own full wait.
        c.take(vec![change(5)], t + GAP_WAIT);
        c.take(vec![change(5)], t + GAP_WAIT + GAP_WAIT / 2);
        assert_eq!(c.after(), 3);
        c.take(vec![change(5)], t + GAP_WAIT * 2);
        assert_eq!(c.after(), 5);
    }
}
