//! Paperboy's email: digests of trending papers and of each subscriber's
//! saved searches and categories, delivered exactly once (see docs/EMAIL.md).
//!
//! * [`digest`]: the mails as values, rendered to HTML (inline CSS) and text.
//! * [`message`]: RFC 5322 messages with one-click unsubscribe headers.
//! * [`token`]: HMAC-signed, expiring confirm / unsubscribe / manage links.
//! * [`smtp`]: delivery through lettre (plain, STARTTLS or TLS over rustls).
//! * [`compose`]: a period's digests and the other mails, composed into the
//!   store's outbox (saved searches matched through [`SavedSearchMatcher`],
//!   a member's recommendations through [`PersonalPicks`]).
//! * [`deliver`]: the outbox sender (leases, rate limit, retries, bounces).
//!
//! [`Postman`] bundles what the web layer and the digest job need. When
//! digests are built and the outbox is sent is decided in
//! `paperboy-services` (its `jobs` module); this crate is transport,
//! templates and tokens, and knows nothing of search.

pub mod compose;
pub mod deliver;
pub mod digest;
mod error;
pub mod message;
pub mod smtp;
pub mod token;

use std::sync::Arc;

use paperboy_core::Email;
use paperboy_store::Subscriber;
use tokio::sync::Mutex;

pub use compose::{BuildReport, DigestBuilder, Period, PersonalPick, PersonalPicks, SavedSearchMatcher, Site};
pub use deliver::{DeliveryReport, DeliverySettings, deliver_due};
pub use error::MailError;
pub use smtp::{Mailer, Security, SendError, SmtpSettings};
pub use token::{Purpose, Signer, TokenError};

/// Everything needed to build and send mail on a configured site.
pub struct Postman {
    pub builder: DigestBuilder,
    pub mailer: Mailer,
    pub delivery: DeliverySettings,
    /// One delivery pass at a time in this process.
    sending: Mutex<()>,
}

impl Postman {
    pub fn new(builder: DigestBuilder, mailer: Mailer, delivery: DeliverySettings) -> Self {
        Postman { builder, mailer, delivery, sending: Mutex::new(()) }
    }

    pub fn signer(&self) -> &Signer {
        &self.builder.signer
    }

    /// Sends what is due now; passes in this process take turns, so a row
    /// queued while another pass finishes is sent by the next one.
    pub async fn deliver_now(&self) -> Result<DeliveryReport, MailError> {
        let _turn = self.sending.lock().await;
        deliver_due(self.builder.db.as_ref(), &self.mailer, &self.delivery).await
    }

    /// Delivers in the background, logging the outcome.
    pub fn kick(self: &Arc<Self>) {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            if let Err(e) = me.deliver_now().await {
                tracing::warn!(error = %e, "mail delivery pass failed; the next pass retries");
            }
        });
    }

    /// Queues the confirmation mail for `sub` and starts delivery. At most
    /// one per subscriber and minute (a second request in the same minute
    /// is the same mail).
    pub async fn send_confirmation(self: &Arc<Self>, sub: &Subscriber) -> Result<(), MailError> {
        let key = chrono::Utc::now().format("%Y%m%dT%H%M").to_string();
        let mail = self.builder.confirm_mail(sub, &key)?;
        self.builder.db.enqueue_mail(&mail).await?;
        self.kick();
        Ok(())
    }

    /// Sends an account mail (verification, password reset) directly; these
    /// are not digests and have no outbox row. Failures are logged.
    pub fn send_account_mail(self: &Arc<Self>, to: &Email, subject: &str, intro: &str, button: &str, url: &str) {
        let me = Arc::clone(self);
        let message = match self.builder.link_mail(to, subject, intro, button, url) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "cannot build an account mail");
                return;
            }
        };
        let to = to.as_str().to_string();
        tokio::spawn(async move {
            match me.mailer.send_raw(&to, message.as_bytes()).await {
                Ok(()) => tracing::info!(%to, "account mail sent"),
                Err(e) => tracing::warn!(%to, error = %e, "account mail not sent"),
            }
        });
    }
}
