//! The limits that protect the account and subscription workflows: rate
//! limits on attempts per client and per account, and a cap on concurrent
//! password hashing.
//!
//! * A [`Limiter`] counts attempts per key (`ip:…`, `user:…`) within a
//!   sliding window, in the database ([`paperboy_store::Coordination`]), so
//!   the limit holds whichever server a request reaches. An attempt is
//!   counted *before* the work it limits, with one atomic check-and-count
//!   ([`Coordination::reserve_attempt`]): a burst of concurrent wrong
//!   passwords cannot all pass a check before any is counted, so at most
//!   `max` attempts per key are ever in flight or failed within the window.
//!   A login that succeeds gives its attempt back. Each limiter keeps its
//!   keys under its own scope (`login:ip:…`); rows older than [`SWEEP_AFTER`]
//!   go in `paperboy serve`'s hourly sweep.
//! * [`Limits`] are the site's limiters; the workflows in `accounts.rs` and
//!   `subscriptions.rs` take them and apply them, so a web handler makes
//!   one call.
//! * Password hashing (argon2id, [`HASH_MEMORY_MIB`] each) runs only with a
//!   permit from one process-wide semaphore of [`HASH_PERMITS`], so hashing
//!   never holds more than about 256 MiB; a request that gets no permit
//!   within [`HASH_WAIT`] is refused ([`LimitError::Busy`], a 503 with
//!   `Retry-After`) instead of queueing without bound.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use paperboy_store::{AttemptId, Coordination, Reservation, StoreError};
use thiserror::Error;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub use crate::jobs::sweep::SWEEP_AFTER;

/// Failed logins (or password changes) per client address, and per
/// account, within [`LIMIT_WINDOW`]; also sign-ups and reset requests per
/// address.
pub const MAX_FAILURES: u32 = 5;
/// The rate-limiting window of the account forms and the subscribe form.
pub const LIMIT_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Subscribe requests per client address per window.
pub const SUBSCRIBE_MAX: u32 = 10;

/// Memory one argon2id hash or verification takes (the `argon2` crate's
/// default parameters, see `accounts.rs`).
pub const HASH_MEMORY_MIB: usize = 19;
/// Password hashes computed at once, process-wide: 13 × 19 MiB = 247 MiB,
/// under the 256 MiB that hashing may hold.
pub const HASH_PERMITS: usize = 256 / HASH_MEMORY_MIB;
/// How long a request waits for a hashing permit before it is refused.
pub const HASH_WAIT: Duration = Duration::from_secs(2);

// Hashing stays under 256 MiB, and more than one password is checked at once.
const _: () = assert!(HASH_PERMITS * HASH_MEMORY_MIB <= 256 && HASH_PERMITS >= 2);

/// Why an attempt was not let through.
#[derive(Debug, Error)]
pub enum LimitError {
    /// The key has had its attempts for this window: wait `retry_after`
    /// seconds (429).
    #[error("too many attempts: try again in {retry_after} seconds")]
    TooMany { retry_after: u64 },
    /// Every password-hashing permit is taken (the server is checking many
    /// passwords at once): try again after `retry_after` seconds (503).
    #[error("the server is busy checking passwords: try again in {retry_after} seconds")]
    Busy { retry_after: u64 },
    /// The database failed to count the attempt.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Counts attempts per key in a sliding window, in the database.
#[derive(Debug, Clone, Copy)]
pub struct Limiter {
    scope: &'static str,
    max: u32,
    window: Duration,
}

/// An attempt counted by [`Limiter::reserve`]: it stays counted (as a
/// failure) unless given back with [`Limiter::release`].
#[derive(Debug)]
#[must_use = "an attempt stays counted unless released"]
pub struct Attempt(AttemptId);

impl Limiter {
    /// At most `max` attempts per key within `window` (at most
    /// [`SWEEP_AFTER`]), keys kept under `scope`.
    pub const fn new(scope: &'static str, max: u32, window: Duration) -> Self {
        let max = if max == 0 { 1 } else { max };
        let window = if window.as_secs() > SWEEP_AFTER.as_secs() { SWEEP_AFTER } else { window };
        Limiter { scope, max, window }
    }

    /// The most attempts per key within the window.
    pub fn max(&self) -> u32 {
        self.max
    }

    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.scope)
    }

    /// Counts one attempt of `key` if it is below its limit, atomically for
    /// every server on the database; [`LimitError::TooMany`] (nothing
    /// counted) when it is not.
    pub async fn reserve(&self, db: &dyn Coordination, key: &str) -> Result<Attempt, LimitError> {
        let now = Utc::now();
        let window = chrono::Duration::from_std(self.window).unwrap_or(chrono::Duration::hours(1));
        match db.reserve_attempt(&self.key(key), self.max, now - window, now).await? {
            Reservation::Reserved(id) => Ok(Attempt(id)),
            Reservation::Denied { oldest } => {
                Err(LimitError::TooMany { retry_after: wait_for(oldest, self.window, now).as_secs() })
            }
        }
    }

    /// Gives a reserved attempt back: it succeeded, or it was never made
    /// (the server was busy).
    pub async fn release(&self, db: &dyn Coordination, attempt: Attempt) -> Result<(), StoreError> {
        db.release_attempt(&attempt.0).await?;
        Ok(())
    }

    /// Forgets every attempt of `key` (after a successful login).
    pub async fn clear(&self, db: &dyn Coordination, key: &str) -> Result<(), StoreError> {
        db.clear_failures(&self.key(key)).await
    }
}

/// How long until an attempt counted at `oldest` leaves `window`, at least
/// a second.
pub fn wait_for(oldest: DateTime<Utc>, window: Duration, now: DateTime<Utc>) -> Duration {
    let age = (now - oldest).to_std().unwrap_or_default();
    window.saturating_sub(age).max(Duration::from_secs(1))
}

/// The site's rate limits, shared by all requests (and, in the database,
/// by all servers).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Failed logins and password changes, per `ip:…` and per `user:…`.
    pub login: Limiter,
    /// Sign-up attempts (failed or not) per `ip:…`, and reset requests per
    /// `reset-ip:…`.
    pub signup: Limiter,
    /// Subscribe requests (every one counts) per `ip:…`.
    pub subscribe: Limiter,
    /// New email-confirmation links a member asks for, per `user:…`
    /// ([`VERIFY_MAILS`] an hour).
    pub verify_mail: Limiter,
}

/// Confirmation links a member may ask for per hour.
pub const VERIFY_MAILS: u32 = 3;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            login: Limiter::new("login", MAX_FAILURES, LIMIT_WINDOW),
            signup: Limiter::new("signup", MAX_FAILURES, LIMIT_WINDOW),
            subscribe: Limiter::new("subscribe", SUBSCRIBE_MAX, LIMIT_WINDOW),
            verify_mail: Limiter::new("verify-mail", VERIFY_MAILS, Duration::from_secs(3600)),
        }
    }
}

/// A permit to hash one password; hashing holds it until it is done.
pub struct HashPermit {
    _permit: OwnedSemaphorePermit,
}

/// A cap on password hashes computed at once: `permits` at a time, a
/// request waiting at most `wait` for its turn.
pub struct HashGate {
    permits: Arc<Semaphore>,
    wait: Duration,
}

impl HashGate {
    pub fn new(permits: usize, wait: Duration) -> Self {
        HashGate { permits: Arc::new(Semaphore::new(permits.max(1))), wait }
    }

    /// The process's gate, [`HASH_PERMITS`] and [`HASH_WAIT`]: every
    /// password hash and verification in `accounts.rs` goes through it.
    pub fn global() -> &'static HashGate {
        static GATE: OnceLock<HashGate> = OnceLock::new();
        GATE.get_or_init(|| HashGate::new(HASH_PERMITS, HASH_WAIT))
    }

    /// A permit, waiting at most the gate's wait for one;
    /// [`LimitError::Busy`] when none came free.
    pub async fn permit(&self) -> Result<HashPermit, LimitError> {
        // A free permit is taken at once, with no timer (so this works on a
        // runtime without one as long as nobody waits).
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Ok(HashPermit { _permit: permit });
        }
        match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(HashPermit { _permit: permit }),
            // Timed out (or, never, the semaphore closed).
            _ => Err(LimitError::Busy { retry_after: self.wait.as_secs().max(1) }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_is_until_the_oldest_counted_attempt_leaves_the_window() {
        let t0 = Utc::now();
        let window = Duration::from_secs(900);
        let at = |s: i64| t0 + chrono::Duration::seconds(s);
        assert_eq!(wait_for(at(1), window, at(10)), Duration::from_secs(891));
        assert_eq!(wait_for(at(1), window, at(900)), Duration::from_secs(1), "at least a second");
    }

    #[tokio::test]
    async fn a_full_hashing_cap_refuses_after_the_wait() {
        let gate = HashGate::new(3, Duration::from_millis(300));
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(gate.permit().await.unwrap());
        }
        let started = std::time::Instant::now();
        match gate.permit().await {
            Err(LimitError::Busy { retry_after }) => assert!(retry_after >= 1),
            Err(other) => panic!("not busy: {other:?}"),
            Ok(_) => panic!("a permit beyond the cap"),
        }
        assert!(started.elapsed() >= Duration::from_millis(300), "it waited before refusing");
        held.pop();
        assert!(gate.permit().await.is_ok(), "a returned permit is handed on");
    }

    #[tokio::test]
    async fn limiters_share_their_state_through_the_database_and_keep_scopes_apart() {
        let dir = tempfile::tempdir().unwrap();
        let store = paperboy_store::SqlStore::open_sqlite(&dir.path().join("p.db")).await.unwrap();
        let other_server = paperboy_store::SqlStore::open_sqlite(&dir.path().join("p.db")).await.unwrap();
        let login = Limiter::new("login", 3, Duration::from_secs(900));
        let signup = Limiter::new("signup", 3, Duration::from_secs(900));
        let first = login.reserve(&store, "ip:192.0.2.7").await.unwrap();
        let _second = login.reserve(&other_server, "ip:192.0.2.7").await.unwrap();
        let _third = login.reserve(&store, "ip:192.0.2.7").await.unwrap();
        match login.reserve(&other_server, "ip:192.0.2.7").await {
            Err(LimitError::TooMany { retry_after }) => assert!((890..=900).contains(&retry_after)),
            other => panic!("the fourth attempt, on another server, was let through: {other:?}"),
        }
        assert!(login.reserve(&store, "ip:192.0.2.8").await.is_ok(), "keys are independent");
        assert!(signup.reserve(&store, "ip:192.0.2.7").await.is_ok(), "scopes are independent");
        login.release(&store, first).await.unwrap();
        assert!(login.reserve(&other_server, "ip:192.0.2.7").await.is_ok(), "a released attempt makes room");
        login.clear(&store, "ip:192.0.2.7").await.unwrap();
        assert!(login.reserve(&store, "ip:192.0.2.7").await.is_ok());
    }
}
