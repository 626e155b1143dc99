//! Running work under a lease in the database, so that of all the processes
//! sharing a database (several servers, a server and the CLI) only one does
//! it at a time: the harvest, the building of a digest period.
//!
//! [`with_lease`] takes the lease (or answers [`LeaseError::Busy`] with who
//! holds it and until when), renews it every third of its length while the
//! work runs, and gives it up when the work ends. A holder that dies stops
//! renewing, and its lease runs out; the next process to try takes over. A
//! holder that cannot renew (the lease was taken after all, or the database
//! stayed unreachable for a whole lease length) drops its work and answers
//! [`LeaseError::Lost`]: the work must be safe to stop at any await point and
//! to resume elsewhere (the harvest has its checkpoints, digest building its
//! unique outbox rows).

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use paperboy_store::{Coordination, StoreError};
use thiserror::Error;
use tracing::{debug, warn};

/// Lease length unless configured otherwise (`lease_seconds`).
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// The lease the harvester holds.
pub const HARVEST_LEASE: &str = "harvest";
/// The lease held while digests of a period are built.
pub const DIGEST_LEASE: &str = "digest";

/// Why work did not run, or did not finish, under its lease.
#[derive(Debug, Error)]
pub enum LeaseError {
    #[error(
        "another process holds the {name} lease ({holder}) until {until}; it renews the lease while it works. \
         If that process is gone, try again after {until}"
    )]
    Busy { name: String, holder: String, until: DateTime<Utc> },
    #[error("lost the {name} lease (taken over, or the database was unreachable for a whole lease); the work stopped")]
    Lost { name: String },
    #[error("the database failed while taking the {name} lease: {source}")]
    Store {
        name: String,
        #[source]
        source: StoreError,
    },
}

/// A name for this process as a lease holder: host, process id and a random
/// suffix (two processes never share one, even across restarts).
pub fn holder_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string());
    let mut random = [0u8; 4];
    let suffix = match getrandom::fill(&mut random) {
        Ok(()) => u32::from_le_bytes(random),
        Err(_) => Utc::now().timestamp_subsec_nanos(),
    };
    format!("{host}:{}:{suffix:08x}", std::process::id())
}

/// Runs `work` holding lease `name` as `holder` (see the module docs).
pub async fn with_lease<S, F>(
    store: &S,
    name: &str,
    holder: &str,
    ttl: Duration,
    work: F,
) -> Result<F::Output, LeaseError>
where
    S: Coordination + ?Sized,
    F: Future,
{
    let store_error = |source| LeaseError::Store { name: name.to_string(), source };
    let lease = store.acquire_lease(name, holder, ttl).await.map_err(store_error)?;
    if !lease.is_held_by(holder) {
        return Err(LeaseError::Busy { name: name.to_string(), holder: lease.holder, until: lease.expires_at });
    }
    debug!(lease = name, holder, until = %lease.expires_at, "lease taken");
    let outcome = tokio::select! {
        output = work => Ok(output),
        () = keep(store, name, holder, ttl) => Err(LeaseError::Lost { name: name.to_string() }),
    };
    if outcome.is_ok()
        && let Err(e) = store.release_lease(name, holder).await
    {
        warn!(lease = name, error = %e, "could not release the lease; it runs out by itself");
    }
    outcome
}

/// Renews the lease every third of `ttl`; returns when it is lost.
async fn keep<S: Coordination + ?Sized>(store: &S, name: &str, holder: &str, ttl: Duration) {
    let every = (ttl / 3).max(Duration::from_millis(50));
    let mut renewed = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(every).await;
        match store.renew_lease(name, holder, ttl).await {
            Ok(true) => renewed = tokio::time::Instant::now(),
            Ok(false) => {
                warn!(lease = name, holder, "the lease was taken over; stopping");
                return;
            }
            Err(e) if renewed.elapsed() + every >= ttl => {
                warn!(lease = name, error = %e, "could not renew the lease before it ran out; stopping");
                return;
            }
            Err(e) => warn!(lease = name, error = %e, "could not renew the lease; trying again"),
        }
    }
}

/// Runs `work` under the lease, waiting while another process holds it
/// (looking again every second, or when the lease runs out if sooner). For one-shot commands whose work is idempotent,
/// such as building a digest period: the waiter finds the holder's work done.
pub async fn wait_for_lease<S, F, W>(
    store: &S,
    name: &str,
    holder: &str,
    ttl: Duration,
    mut work: W,
) -> Result<F::Output, LeaseError>
where
    S: Coordination + ?Sized,
    F: Future,
    W: FnMut() -> F,
{
    let mut announced = false;
    loop {
        match with_lease(store, name, holder, ttl, work()).await {
            Err(LeaseError::Busy { holder: other, until, .. }) => {
                if !announced {
                    tracing::info!(lease = name, holder = %other, until = %until, "waiting for the lease");
                    announced = true;
                }
                let left = (until - Utc::now()).to_std().unwrap_or_default();
                tokio::time::sleep(left.min(Duration::from_secs(1)) + Duration::from_millis(10)).await;
            }
            other => return other,
        }
    }
}
