//! [`Coordination`]: what Paperboy processes sharing one database agree on
//! through it — leases (one harvester, one digest builder at a time),
//! rate-limit failures (a limit holds whichever server a request hits) and
//! shared secrets (a mail link signed by one server verifies on all).
//!
//! Both backends run the same portable statements (migration 0006), so the
//! implementation is written once, in `impl_coordination!`, and expanded
//! for [`SqliteStore`] (placeholders as written) and [`PgStore`] (renumbered
//! by [`numbered`]).
//!
//! Lease times are the holders' clocks (UTC): servers are expected to keep
//! them within a few seconds of each other (NTP), which is small against
//! lease lengths of a minute.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::sql_common::{as_written, numbered};
use crate::sqlite::{fmt_ts, parse_ts};
use crate::{PgStore, SqliteStore, StoreError};

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

    /// Forgets `key`'s failures (after a successful login).
    async fn clear_failures(&self, key: &str) -> Result<(), StoreError>;

    /// Deletes every failure older than `before`; returns how many.
    async fn sweep_failures(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    /// The shared secret `name`. The first caller's `candidate` becomes it;
    /// every later call, from any process, returns that same value.
    async fn shared_secret(&self, name: &str, candidate: &str) -> Result<String, StoreError>;
}

/// Takes the lease when the row is free: new, expired, or the holder's own.
/// `RETURNING` gives a row only when the insert or update happened.
/// Binds: name, holder, acquired (now), expires.
const ACQUIRE: &str = "INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?) \
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at, \
     acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at ELSE excluded.acquired_at END \
     WHERE leases.holder = excluded.holder OR leases.expires_at < excluded.acquired_at \
     RETURNING name, holder, acquired_at, expires_at";

/// Binds: name.
const LEASE: &str = "SELECT name, holder, acquired_at, expires_at FROM leases WHERE name = ?";

/// Binds: expires, name, holder.
const RENEW: &str = "UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ?";

/// Binds: name, holder.
const RELEASE: &str = "DELETE FROM leases WHERE name = ? AND holder = ?";

/// Binds: key, at.
const RECORD_FAILURE: &str = "INSERT INTO rate_limit_failures (key, failed_at) VALUES (?, ?)";

/// Binds: key, since, limit.
const RECENT_FAILURES: &str =
    "SELECT failed_at FROM rate_limit_failures WHERE key = ? AND failed_at >= ? ORDER BY failed_at DESC LIMIT ?";

/// Binds: key.
const CLEAR_FAILURES: &str = "DELETE FROM rate_limit_failures WHERE key = ?";

/// Binds: before.
const SWEEP_FAILURES: &str = "DELETE FROM rate_limit_failures WHERE failed_at < ?";

/// Binds: name, candidate value, created.
const INSERT_SECRET: &str =
    "INSERT INTO shared_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING";

/// Binds: name.
const SECRET: &str = "SELECT value FROM shared_secrets WHERE name = ?";

fn until(ttl: Duration) -> DateTime<Utc> {
    let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(365));
    Utc::now() + ttl
}

fn ts(s: String, what: &str) -> Result<DateTime<Utc>, StoreError> {
    parse_ts(Some(s.clone()))
        .ok_or_else(|| StoreError::Corrupt { paper_id: what.to_string(), why: format!("unreadable time {s:?}") })
}

fn to_lease((name, holder, acquired, expires): (String, String, String, String)) -> Result<Lease, StoreError> {
    let what = format!("lease {name}");
    Ok(Lease { acquired_at: ts(acquired, &what)?, expires_at: ts(expires, &what)?, name, holder })
}

/// Implements [`Coordination`] for a store with a `pool` field, running the
/// statements above through `$sql` (placeholder style of the backend).
macro_rules! impl_coordination {
    ($store:ty, $sql:path) => {
        #[async_trait]
        impl Coordination for $store {
            async fn acquire_lease(&self, name: &str, holder: &str, ttl: Duration) -> Result<Lease, StoreError> {
                // A lease released between the upsert and the read is tried once more.
                for _ in 0..2 {
                    if let Some(taken) = self.take_lease(name, holder, ttl).await? {
                        return Ok(taken);
                    }
                    if let Some(other) = self.lease(name).await? {
                        return Ok(other);
                    }
                }
                Err(StoreError::Corrupt {
                    paper_id: format!("lease {name}"),
                    why: "neither taken nor held by anyone, twice".to_string(),
                })
            }

            async fn renew_lease(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
                let done = sqlx::query(&$sql(RENEW))
                    .bind(fmt_ts(until(ttl)))
                    .bind(name)
                    .bind(holder)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
                sqlx::query(&$sql(RELEASE)).bind(name).bind(holder).execute(&self.pool).await?;
                Ok(())
            }

            async fn lease(&self, name: &str) -> Result<Option<Lease>, StoreError> {
                let row: Option<(String, String, String, String)> =
                    sqlx::query_as(&$sql(LEASE)).bind(name).fetch_optional(&self.pool).await?;
                row.map(to_lease).transpose()
            }

            async fn record_failure(&self, key: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
                sqlx::query(&$sql(RECORD_FAILURE)).bind(key).bind(fmt_ts(at)).execute(&self.pool).await?;
                Ok(())
            }

            async fn recent_failures(
                &self,
                key: &str,
                since: DateTime<Utc>,
                limit: u32,
            ) -> Result<Vec<DateTime<Utc>>, StoreError> {
                let rows: Vec<(String,)> = sqlx::query_as(&$sql(RECENT_FAILURES))
                    .bind(key)
                    .bind(fmt_ts(since))
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(|(at,)| ts(at, "rate-limit failure")).collect()
            }

            async fn clear_failures(&self, key: &str) -> Result<(), StoreError> {
                sqlx::query(&$sql(CLEAR_FAILURES)).bind(key).execute(&self.pool).await?;
                Ok(())
            }

            async fn sweep_failures(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
                let done = sqlx::query(&$sql(SWEEP_FAILURES)).bind(fmt_ts(before)).execute(&self.pool).await?;
                Ok(done.rows_affected())
            }

            async fn shared_secret(&self, name: &str, candidate: &str) -> Result<String, StoreError> {
                sqlx::query(&$sql(INSERT_SECRET))
                    .bind(name)
                    .bind(candidate)
                    .bind(fmt_ts(Utc::now()))
                    .execute(&self.pool)
                    .await?;
                let value: String = sqlx::query_scalar(&$sql(SECRET)).bind(name).fetch_one(&self.pool).await?;
                Ok(value)
            }
        }

        impl $store {
            /// The lease if the upsert took it, `None` if someone else holds it.
            async fn take_lease(&self, name: &str, holder: &str, ttl: Duration) -> Result<Option<Lease>, StoreError> {
                let row: Option<(String, String, String, String)> = sqlx::query_as(&$sql(ACQUIRE))
                    .bind(name)
                    .bind(holder)
                    .bind(fmt_ts(Utc::now()))
                    .bind(fmt_ts(until(ttl)))
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(to_lease).transpose()
            }
        }
    };
}

impl_coordination!(SqliteStore, as_written);
impl_coordination!(PgStore, numbered);
