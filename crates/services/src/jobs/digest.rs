//! Email digests: at the configured time (weekdays for daily digests,
//! Mondays for weekly ones), builds the period's digests into the outbox,
//! then starts a delivery pass (the [`super::outbox`] job sends the rest).
//!
//! A build holds the digest lease ([`DIGEST_LEASE`], shared with
//! `paperboy digest run`), so that of several servers one builds; the
//! others try again every few seconds until the build happens here too,
//! finding everything already queued once the holder is done (a digest's
//! outbox row is unique per subscriber and period), or building the rest
//! when the holder died and its lease ran out. A server that starts after
//! the time has passed catches up on the day's (or the week's) digests.
//!
//! Saved searches are matched by [`HybridMatcher`]: hybrid search over
//! the papers listed in the period, and a member's recommendations come
//! from [`super::picks::RecsPicks`], which is why the digest job lives here
//! and not in `paperboy-mail`. A digest that fails for one subscriber does
//! not stop the others; the run then fails, so the supervisor retries it,
//! and the retry builds only the digests still missing.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDate;
use paperboy_core::PaperId;
use paperboy_mail::{MailError, Period, Postman, SavedSearchMatcher};
use paperboy_search::{SearchEngine, SearchMode, SearchOptions};
use paperboy_store::Frequency;

use super::{Job, JobContext, JobError, Ran, Schedule, WhenBusy};
use crate::lease::DIGEST_LEASE;

/// Matches saved searches with hybrid search (keyword and vectors).
pub struct HybridMatcher(pub Arc<SearchEngine>);

#[async_trait]
impl SavedSearchMatcher for HybridMatcher {
    async fn matching(
        &self,
        query: &str,
        since: NaiveDate,
        until: NaiveDate,
        limit: usize,
    ) -> Result<Vec<PaperId>, MailError> {
        let opts = SearchOptions {
            mode: SearchMode::Hybrid,
            limit,
            since: Some(since),
            until: Some(until),
            highlights: false,
            ..SearchOptions::default()
        };
        let (engine, q) = (Arc::clone(&self.0), query.to_string());
        let hits = tokio::task::spawn_blocking(move || engine.search(&q, &opts))
            .await
            .map_err(|e| MailError::Search(e.to_string()))?
            .map_err(|e| MailError::Search(e.to_string()))?;
        Ok(hits.hits.into_iter().map(|h| h.id).collect())
    }
}

/// The digests of one frequency (see the module documentation).
pub struct Digest {
    postman: Arc<Postman>,
    frequency: Frequency,
    times: paperboy_core::schedule::Schedule,
}

impl Digest {
    /// Daily digests at `times` (weekdays, in the mail time zone).
    pub fn daily(postman: Arc<Postman>, times: paperboy_core::schedule::Schedule) -> Digest {
        Digest { postman, frequency: Frequency::Daily, times }
    }

    /// Weekly digests at `times` (Mondays, in the mail time zone).
    pub fn weekly(postman: Arc<Postman>, times: paperboy_core::schedule::Schedule) -> Digest {
        Digest { postman, frequency: Frequency::Weekly, times }
    }
}

#[async_trait]
impl Job for Digest {
    fn name(&self) -> &str {
        match self.frequency {
            Frequency::Daily => "digest-daily",
            Frequency::Weekly => "digest-weekly",
        }
    }

    fn schedule(&self) -> Schedule {
        // Fired within the last day (daily) or week (weekly) but maybe not built: catch up.
        let catch_up = match self.frequency {
            Frequency::Daily => chrono::Duration::hours(20),
            Frequency::Weekly => chrono::Duration::days(6),
        };
        Schedule::At { times: self.times, catch_up: Some(catch_up) }
    }

    fn lease(&self) -> Option<&str> {
        Some(DIGEST_LEASE)
    }

    fn when_busy(&self) -> WhenBusy {
        WhenBusy::Retry
    }

    async fn run(&self, ctx: &JobContext) -> Result<Ran, JobError> {
        let builder = &self.postman.builder;
        let period = Period::at(self.frequency, ctx.clock.now(), builder.site.tz);
        let r = builder.build_period(&period, None, false).await?;
        self.postman.kick();
        let note = format!(
            "digests for {} queued: {} (empty, not sent: {}, queued before: {}, not built: {})",
            period.key, r.built, r.empty, r.already_there, r.failed
        );
        if r.failed > 0 {
            // A failed run is retried with backoff; the retry builds only the
            // digests that are missing (each subscriber's row is unique).
            return Err(JobError::Failed(format!("{note}; the subscribers not built are retried")));
        }
        Ok(Ran::did(note))
    }
}
