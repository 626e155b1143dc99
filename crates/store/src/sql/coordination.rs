//! [`Coordination`] in portable SQL (migrations 0006 and 0007): leases,
//! rate-limit attempts and shared secrets, the same statements on both
//! backends. Every method is one conditional statement, except a rate-limit
//! reservation, whose statement runs after the backend's
//! `lock_rate_limit_key` (an advisory lock on PostgreSQL).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::exec::{Query, Row};
use super::rows::Cells;
use super::{SqlStore, fmt_ts, parse_ts};
use crate::secret::random_hex;
use crate::{AttemptId, Coordination, Lease, Reservation, StoreError};

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

/// Binds: id, key, at.
const RECORD_FAILURE: &str = "INSERT INTO rate_limit_failures (id, key, failed_at) VALUES (?, ?, ?)";

/// Counts an attempt only while the key is below the limit: one statement,
/// so the count and the insert see the same rows.
/// Binds: id, key, at, key, since, max.
const RESERVE_ATTEMPT: &str = "INSERT INTO rate_limit_failures (id, key, failed_at) SELECT ?, ?, ? \
     WHERE (SELECT COUNT(*) FROM rate_limit_failures WHERE key = ? AND failed_at >= ?) < ?";

/// Binds: id.
const RELEASE_ATTEMPT: &str = "DELETE FROM rate_limit_failures WHERE id = ?";

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

/// Reads a `name, holder, acquired_at, expires_at` row.
fn to_lease(r: Row) -> Result<Lease, StoreError> {
    let (name, holder) = (r.text(0), r.text(1));
    let what = format!("lease {name}");
    Ok(Lease { acquired_at: ts(r.text(2), &what)?, expires_at: ts(r.text(3), &what)?, name, holder })
}

#[async_trait]
impl Coordination for SqlStore {
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
        let done = Query::new(RENEW).bind(fmt_ts(until(ttl))).bind(name).bind(holder).execute(self.pool()).await?;
        Ok(done > 0)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        Query::new(RELEASE).bind(name).bind(holder).execute(self.pool()).await?;
        Ok(())
    }

    async fn lease(&self, name: &str) -> Result<Option<Lease>, StoreError> {
        let row = Query::new(LEASE).bind(name).fetch_optional(self.pool()).await?;
        row.map(to_lease).transpose()
    }

    async fn record_failure(&self, key: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        Query::new(RECORD_FAILURE).bind(random_hex()?).bind(key).bind(fmt_ts(at)).execute(self.pool()).await?;
        Ok(())
    }

    async fn reserve_attempt(
        &self,
        key: &str,
        max: u32,
        since: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<Reservation, StoreError> {
        let id = random_hex()?;
        let since = fmt_ts(since);
        let mut tx = self.backend().begin_write().await?;
        self.backend().lock_rate_limit_key(&mut tx, key).await?;
        let counted = Query::new(RESERVE_ATTEMPT)
            .bind(&id)
            .bind(key)
            .bind(fmt_ts(at))
            .bind(key)
            .bind(&since)
            .bind(i64::from(max))
            .execute(&mut tx)
            .await?;
        if counted == 1 {
            tx.commit().await?;
            return Ok(Reservation::Reserved(AttemptId(id)));
        }
        let rows = Query::new(RECENT_FAILURES).bind(key).bind(&since).bind(i64::from(max)).fetch_all(&mut tx).await?;
        tx.commit().await?;
        // The last of the newest `max` (there are at least `max`: the insert was refused).
        let oldest = match rows.last() {
            Some(r) => ts(r.text(0), "rate-limit attempt")?,
            None => at,
        };
        Ok(Reservation::Denied { oldest })
    }

    async fn release_attempt(&self, id: &AttemptId) -> Result<bool, StoreError> {
        let done = Query::new(RELEASE_ATTEMPT).bind(id.0.as_str()).execute(self.pool()).await?;
        Ok(done > 0)
    }

    async fn recent_failures(
        &self,
        key: &str,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        let rows = Query::new(RECENT_FAILURES)
            .bind(key)
            .bind(fmt_ts(since))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| ts(r.text(0), "rate-limit failure")).collect()
    }

    async fn clear_failures(&self, key: &str) -> Result<(), StoreError> {
        Query::new(CLEAR_FAILURES).bind(key).execute(self.pool()).await?;
        Ok(())
    }

    async fn sweep_failures(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = Query::new(SWEEP_FAILURES).bind(fmt_ts(before)).execute(self.pool()).await?;
        Ok(done)
    }

    async fn shared_secret(&self, name: &str, candidate: &str) -> Result<String, StoreError> {
        Query::new(INSERT_SECRET).bind(name).bind(candidate).bind(fmt_ts(Utc::now())).execute(self.pool()).await?;
        let row = Query::new(SECRET).bind(name).fetch_one(self.pool()).await?;
        Ok(row.text(0))
    }
}

impl SqlStore {
    /// The lease if the upsert took it, `None` if someone else holds it.
    async fn take_lease(&self, name: &str, holder: &str, ttl: Duration) -> Result<Option<Lease>, StoreError> {
        let row = Query::new(ACQUIRE)
            .bind(name)
            .bind(holder)
            .bind(fmt_ts(Utc::now()))
            .bind(fmt_ts(until(ttl)))
            .fetch_optional(self.pool())
            .await?;
        row.map(to_lease).transpose()
    }
}
