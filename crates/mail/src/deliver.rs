//! The outbox sender: claims due rows with a lease, hands each stored
//! message to SMTP (a few at once, over the connection pool) at no more
//! than the configured rate, and records the
//! outcome: sent; a temporary failure retried with exponential backoff; a
//! permanent failure (or too many temporary ones) recorded as failed, which
//! counts as a bounce and pauses the subscriber after a few in a row.

use std::time::{Duration, Instant};

use chrono::Utc;
use paperboy_store::{Mailing, OutboxMail};

use crate::MailError;
use crate::smtp::{Mailer, SendError};

/// How the sender behaves.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// Names this sender in leases (host, process id and a random part).
    pub owner: String,
    /// How long a claimed row stays ours; a crashed sender's rows are due
    /// again after this.
    pub lease: Duration,
    /// Messages per second at most.
    pub per_second: f64,
    /// Rows claimed at once.
    pub batch: u32,
    /// Messages in flight at once (over the SMTP connection pool).
    pub concurrency: usize,
    /// The first retry waits this long; each later one twice as long, up to 6 hours.
    pub retry_base: Duration,
    /// Attempts before a temporary failure is given up as failed.
    pub max_attempts: u32,
    /// Permanent failures in a row that pause a subscriber.
    pub pause_after: u32,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            owner: default_owner(),
            lease: Duration::from_secs(120),
            per_second: 10.0,
            batch: 50,
            concurrency: 4,
            retry_base: Duration::from_secs(60),
            max_attempts: 10,
            pause_after: 3,
        }
    }
}

/// `host-pid-random`: unique per sender process.
pub fn default_owner() -> String {
    let mut r = [0u8; 4];
    let _ = getrandom::fill(&mut r);
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    format!("{host}-{}-{:08x}", std::process::id(), u32::from_le_bytes(r))
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DeliveryReport {
    pub sent: u64,
    pub retrying: u64,
    pub failed: u64,
    pub paused: u64,
    /// Time spent talking to the SMTP server.
    pub smtp_time: Duration,
}

/// The wait before attempt `attempts + 1`.
pub fn backoff(base: Duration, attempts: u32) -> Duration {
    let factor = 1u32 << attempts.saturating_sub(1).min(16);
    base.saturating_mul(factor).min(Duration::from_secs(6 * 3600))
}

/// Sends every row that is due now, until none is left (rows waiting for a
/// retry later are left for a later pass).
pub async fn deliver_due(
    db: &dyn Mailing,
    mailer: &Mailer,
    opts: &DeliverySettings,
) -> Result<DeliveryReport, MailError> {
    let mut report = DeliveryReport::default();
    let gap = if opts.per_second > 0.0 { Duration::from_secs_f64(1.0 / opts.per_second) } else { Duration::ZERO };
    let mut next_slot = Instant::now();
    loop {
        let rows = db.claim_mail(&opts.owner, Utc::now(), opts.lease, opts.batch.max(1)).await?;
        if rows.is_empty() {
            return Ok(report);
        }
        let mut inflight = tokio::task::JoinSet::new();
        for row in rows {
            let now = Instant::now();
            if next_slot > now {
                tokio::time::sleep(next_slot - now).await;
            }
            next_slot = Instant::now().max(next_slot) + gap;
            while inflight.len() >= opts.concurrency.max(1) {
                if let Some(done) = inflight.join_next().await {
                    record(db, opts, &mut report, done).await?;
                }
            }
            let mailer = mailer.clone();
            inflight.spawn(async move {
                let started = Instant::now();
                let outcome = mailer.send_raw(&row.recipient, row.message.as_bytes()).await;
                (row, outcome, started.elapsed())
            });
        }
        while let Some(done) = inflight.join_next().await {
            record(db, opts, &mut report, done).await?;
        }
    }
}

type Sent = (OutboxMail, Result<(), SendError>, Duration);

/// Records one send's outcome in the outbox. A send task that panicked
/// leaves its row leased: it is retried when the lease runs out.
async fn record(
    db: &dyn Mailing,
    opts: &DeliverySettings,
    report: &mut DeliveryReport,
    done: Result<Sent, tokio::task::JoinError>,
) -> Result<(), MailError> {
    let (row, outcome, took) = match done {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "a send task failed; its mail is retried after the lease");
            return Ok(());
        }
    };
    report.smtp_time += took;
    match outcome {
        Ok(()) => {
            if db.mark_sent(row.id, &opts.owner, Utc::now()).await? {
                report.sent += 1;
            } else {
                tracing::warn!(row = row.id, "a sent mail's lease had passed to another sender");
            }
        }
        Err(SendError::Temporary(why)) if row.attempts < opts.max_attempts => {
            let wait = backoff(opts.retry_base, row.attempts);
            let at = Utc::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(6));
            tracing::warn!(row = row.id, to = %row.recipient, attempt = row.attempts, retry_in = ?wait, %why,
                "mail not delivered; will retry");
            db.mark_retry(row.id, &opts.owner, at, &why).await?;
            report.retrying += 1;
        }
        Err(e) => {
            tracing::warn!(row = row.id, to = %row.recipient, error = %e, "mail given up");
            let paused = db.mark_failed(row.id, &opts.owner, &e.to_string(), opts.pause_after).await?;
            report.failed += 1;
            if paused {
                tracing::warn!(subscriber = %row.subscriber, "subscription paused: mails keep bouncing");
                report.paused += 1;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let b = Duration::from_secs(60);
        assert_eq!(backoff(b, 1), Duration::from_secs(60));
        assert_eq!(backoff(b, 2), Duration::from_secs(120));
        assert_eq!(backoff(b, 4), Duration::from_secs(480));
        assert_eq!(backoff(b, 40), Duration::from_secs(6 * 3600));
    }
}
