//! The outbox sender: every few seconds, sends the mails that are due
//! (fresh digests, retries after temporary failures, confirmations queued
//! while SMTP was down). No lease: the outbox hands each mail to one
//! sender, whichever server runs the pass. Sending is `paperboy_mail`'s
//! ([`Postman::deliver_now`]).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use paperboy_mail::Postman;

use super::{Job, JobContext, JobError, Ran, Retry, Schedule};

/// See the module documentation.
pub struct Outbox {
    postman: Arc<Postman>,
    every: Duration,
}

impl Outbox {
    /// Sends what is due every `every`.
    pub fn new(postman: Arc<Postman>, every: Duration) -> Outbox {
        Outbox { postman, every }
    }
}

#[async_trait]
impl Job for Outbox {
    fn name(&self) -> &str {
        "outbox"
    }

    fn schedule(&self) -> Schedule {
        Schedule::Every(self.every)
    }

    fn retry(&self) -> Retry {
        Retry { first: self.every, max: Duration::from_secs(300), attempts: u32::MAX }
    }

    async fn run(&self, _ctx: &JobContext) -> Result<Ran, JobError> {
        let r = self.postman.deliver_now().await?;
        if r.sent + r.retrying + r.failed + r.paused == 0 {
            return Ok(Ran::idle());
        }
        Ok(Ran::did(format!(
            "mail sent: {}, to retry: {}, failed: {}, subscriptions paused: {}",
            r.sent, r.retrying, r.failed, r.paused
        )))
    }
}
