//! [`Coordination`]: what Paperboy processes sharing one database agree on
//! through it — leases (one harvester, one digest builder at a time),
//! rate-limit failures (a limit holds whichever server a request hits) and
//! shared secrets (a mail link signed by one server verifies on all).
//!
//! Rate limits count attempts per key in a sliding window. An attempt is
//! counted *before* the work it limits (a password check) with
//! [`Coordination::reserve_attempt`], which checks the limit and counts in
//! one atomic step, so a burst of concurrent requests cannot all pass the
//! check before any of them is counted; a successful attempt is taken back
//! with [`Coordination::release_attempt`].
//!
//! Lease times are the holders' clocks (UTC): servers are expected to keep
//! them within a few seconds of each other (NTP), which is small against
//! lease lengths of a minute.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::StoreError;

/// A lease as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub name: String,
    pub holder: String,
    pub acquired_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl Lease {
    /// Whether `holder` holds it (at the time it was read).
    pub fn is_held_by(&self, holder: &str) -> bool {
        self.holder == holder
    }
}

/// One attempt counted under a rate-limit key by
/// [`Coordination::reserve_attempt`]: its row's id, to take it back with
/// [`Coordination::release_attempt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptId(pub String);

/// What [`Coordination::reserve_attempt`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// The attempt is counted; go ahead.
    Reserved(AttemptId),
    /// The key already has `max` attempts in the window; nothing was
    /// counted. `oldest` is when the oldest of the newest `max` was counted:
    /// the key is below the limit again once it leaves the window (at
    /// `oldest + window`), unless attempts are released before.
    Denied { oldest: DateTime<Utc> },
}

/// Coordination between processes through the database.
#[async_trait]
pub trait Coordination: Send + Sync + 'static {
    /// Takes lease `name` for `holder` until `now + ttl` when it is free,
    /// expired, or already `holder`'s (then it is extended). Returns the
    /// lease as it stands afterwards: [`Lease::is_held_by`] `holder` if
    /// taken, otherwise the other holder's lease and its expiry.
    async fn acquire_lease(&self, name: &str, holder: &str, ttl: Duration) -> Result<Lease, StoreError>;

    /// Extends `holder`'s lease `name` to `now + ttl`; `false` when `holder`
    /// no longer holds it (released, or taken over after it expired).
    async fn renew_lease(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError>;

    /// Gives lease `name` up if `holder` holds it.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError>;

    /// Lease `name` as stored (possibly expired), if anyone took it.
    async fn lease(&self, name: &str) -> Result<Option<Lease>, StoreError>;

    /// Records one failed attempt under rate-limit `key` at `at`.
    async fn record_failure(&self, key: &str, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// The times of `key`'s failures at or after `since`, newest first, at
    /// most `limit` of them.
    async fn recent_failures(
        &self,
        key: &str,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DateTime<Utc>>, StoreError>;

    /// Counts one attempt under `key` at `at` if `key` has fewer than `max`
    /// attempts counted at or after `since`; check and count are one atomic
    /// step for every process on the database, so at most `max` attempts are
    /// ever counted (in flight or failed) within the window, however many
    /// arrive at once. SQLite: one conditional `INSERT … SELECT … WHERE
    /// count < max`, run in the process's writer queue (SQLite has one
    /// writer). PostgreSQL: the same statement in a transaction that first
    /// takes a transaction-scoped advisory lock derived from `key` (64-bit
    /// FNV-1a), so reservations of one key take turns across servers while
    /// other keys go on in parallel (two keys that share a hash only wait for
    /// each other). Rows count as failures for [`Coordination::recent_failures`]
    /// and are swept like them.
    async fn reserve_attempt(
        &self,
        key: &str,
        max: u32,
        since: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<Reservation, StoreError>;

    /// Takes a reserved attempt back (it succeeded, or it was never made);
    /// `false` when it is gone already (released, cleared or swept).
    async fn release_attempt(&self, id: &AttemptId) -> Result<bool, StoreError>;

    /// Forgets `key`'s failures (after a successful login).
    async fn clear_failures(&self, key: &str) -> Result<(), StoreError>;

    /// Deletes every failure older than `before`; returns how many.
    async fn sweep_failures(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    /// The shared secret `name`. The first caller's `candidate` becomes it;
    /// every later call, from any process, returns that same value.
    async fn shared_secret(&self, name: &str, candidate: &str) -> Result<String, StoreError>;
}
