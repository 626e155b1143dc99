//! Composing mails into the outbox: a period's digests, confirmation and
//! account mails, and the signed links in them.
//!
//! A digest build is for one period (`daily` on a date, `weekly` in an ISO
//! week, in the configured time zone). It asks the store for active
//! subscribers of that frequency who have no outbox row for the period yet,
//! composes each one's digest (the member's own recommendations from a
//! [`PersonalPicks`] when the subscription asks for them, the trending
//! papers of the period unless it asks for recommendations only, then one
//! section per saved search, matched by a [`SavedSearchMatcher`] over papers
//! listed in the period, and one per followed category), renders it, and
//! inserts it into the outbox. The unique key makes a second build, or one
//! racing this one, skip what is already there; empty digests are not
//! inserted. A subscriber whose digest cannot be built (search or
//! recommendations failed) gets no row, the others are built all the same,
//! and the report counts the failure so that the caller runs the build
//! again, which builds only what is missing. Sending is
//! [`crate::deliver`]'s job; when a build runs (at the configured time,
//! under a database lease) is the digest job's, in `paperboy-services`,
//! which also brings the search engine as the matcher and the recommender
//! as the picks: this crate knows nothing of search or recommendations.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use lettre::message::Mailbox;
use paperboy_core::text::percent_encode;
use paperboy_core::{Email, FeedSort, PaperId, UserId};
use paperboy_store::{
    Database, DigestContent, FeedQuery, Frequency, MailKind, NewMail, SavedSearch, StoredPaper, Subscriber,
    SubscriberId,
};

use crate::MailError;
use crate::digest::{ConfirmMail, Digest, DigestPaper, LinkMail, Section};
use crate::message::{Outgoing, build, id_domain, message_id};
use crate::token::{Purpose, Signer};

/// Trending papers at the top of every digest.
pub const TRENDING_PAPERS: u32 = 5;
/// Papers in a digest's "Recommended for you" section.
pub const RECOMMENDED_PAPERS: usize = 5;
/// Papers per saved-search or category section.
pub const SECTION_PAPERS: usize = 5;
/// How long unsubscribe and manage links in a mail work.
pub const LINK_DAYS: i64 = 90;
/// How long a confirmation link works.
pub const CONFIRM_HOURS: i64 = 48;

/// Finds the papers that match a saved search among those listed from
/// `since` to `until` (inclusive), best first, at most `limit`. The services
/// layer implements it with hybrid search; without one, digests have no
/// saved-search sections.
#[async_trait]
pub trait SavedSearchMatcher: Send + Sync {
    async fn matching(
        &self,
        query: &str,
        since: NaiveDate,
        until: NaiveDate,
        limit: usize,
    ) -> Result<Vec<PaperId>, MailError>;
}

/// One paper recommended to a member, with the line that says why
/// (`Like: …`, `By …, whom you follow`).
#[derive(Debug, Clone, PartialEq)]
pub struct PersonalPick {
    pub paper: StoredPaper,
    pub reason: String,
}

/// A member's own recommendations among the papers listed from
/// `period.since` to `period.until` (inclusive), best first, at most
/// `limit`, each with its reason. No picks (a member with no signals yet,
/// or nothing in the period for them) is an empty list, not an error. The
/// services layer implements it with its recommender; without one, digests
/// carry trending papers only.
#[async_trait]
pub trait PersonalPicks: Send + Sync {
    async fn picks(&self, user: UserId, period: &Period, limit: usize) -> Result<Vec<PersonalPick>, MailError>;
}

/// Who sends, from where, in which time zone.
#[derive(Debug, Clone)]
pub struct Site {
    pub name: String,
    /// Without trailing slash.
    pub base_url: String,
    pub from: Mailbox,
    pub tz: Tz,
}

/// One digest period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub frequency: Frequency,
    pub kind: MailKind,
    /// `2026-11-27` (daily) or `2026-W48` (weekly).
    pub key: String,
    /// First listing day covered.
    pub since: NaiveDate,
    /// Last listing day covered (inclusive).
    pub until: NaiveDate,
    pub label: String,
}

impl Period {
    /// The period a run at `now` delivers: today's (in `tz`) daily digest,
    /// covering the days since the previous weekday's; or this ISO week's
    /// weekly digest, covering the last seven days.
    pub fn at(frequency: Frequency, now: DateTime<Utc>, tz: Tz) -> Period {
        let today = now.with_timezone(&tz).date_naive();
        match frequency {
            Frequency::Daily => {
                let back = match today.weekday() {
                    Weekday::Mon => 3,
                    Weekday::Sun => 2,
                    _ => 1,
                };
                Period {
                    frequency,
                    kind: MailKind::Daily,
                    key: today.format("%Y-%m-%d").to_string(),
                    since: today - chrono::Days::new(back),
                    until: today,
                    label: today.format("%A %-d %B %Y").to_string(),
                }
            }
            Frequency::Weekly => {
                let week = today.iso_week();
                let monday = NaiveDate::from_isoywd_opt(week.year(), week.week(), Weekday::Mon).unwrap_or(today);
                Period {
                    frequency,
                    kind: MailKind::Weekly,
                    key: format!("{}-W{:02}", week.year(), week.week()),
                    since: today - chrono::Days::new(7),
                    until: today,
                    label: format!("week of {}", monday.format("%-d %B %Y")),
                }
            }
        }
    }
}

/// What a build run did, and where its time went.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BuildReport {
    /// Digests inserted into the outbox (or, in a dry run, that would be).
    pub built: u64,
    /// Subscribers whose digest had no paper: nothing is sent.
    pub empty: u64,
    /// Digests another run inserted first.
    pub already_there: u64,
    /// Subscribers whose digest could not be built this time (logged with
    /// the reason): they have no outbox row, so a later build makes theirs.
    pub failed: u64,
    pub search_time: Duration,
    pub render_time: Duration,
    pub store_time: Duration,
}

/// Builds digests and the other mails (see the module documentation).
#[derive(Clone)]
pub struct DigestBuilder {
    pub db: Arc<dyn Database>,
    /// Matches saved searches; `None` leaves their sections out.
    pub search: Option<Arc<dyn SavedSearchMatcher>>,
    /// A member's own recommendations; `None` mails trending papers to
    /// every subscriber, whatever their [`DigestContent`].
    pub picks: Option<Arc<dyn PersonalPicks>>,
    pub signer: Signer,
    pub site: Site,
}

impl DigestBuilder {
    fn link(&self, path: &str, purpose: Purpose, sub: SubscriberId, valid: chrono::Duration) -> String {
        let token = self.signer.sign(purpose, sub, Utc::now() + valid);
        format!("{}/{path}/{token}", self.site.base_url)
    }

    /// The signed unsubscribe link for a subscriber.
    pub fn unsubscribe_url(&self, sub: SubscriberId) -> String {
        self.link("unsubscribe", Purpose::Unsubscribe, sub, chrono::Duration::days(LINK_DAYS))
    }

    /// The signed manage link for a subscriber.
    pub fn manage_url(&self, sub: SubscriberId) -> String {
        self.link("subscription", Purpose::Manage, sub, chrono::Duration::days(LINK_DAYS))
    }

    /// The trending papers of a period, as every digest of the run shows them.
    pub async fn trending(&self, period: &Period) -> Result<Vec<DigestPaper>, MailError> {
        let page = self
            .db
            .feed(&FeedQuery {
                from: Some(period.since),
                until: period.until.succ_opt(),
                sort: FeedSort::Trending,
                has_code: false,
                limit: TRENDING_PAPERS,
                ..FeedQuery::default()
            })
            .await?;
        Ok(page.items.iter().map(|p| DigestPaper::from_stored(p, &self.site.base_url)).collect())
    }

    async fn search_section(
        &self,
        matcher: &dyn SavedSearchMatcher,
        saved: &SavedSearch,
        period: &Period,
    ) -> Result<Section, MailError> {
        let ids = matcher.matching(&saved.query, period.since, period.until, SECTION_PAPERS).await?;
        let mut papers = Vec::new();
        for id in ids {
            if let Some(p) = self.db.get_paper(&id).await? {
                papers.push(DigestPaper::from_stored(&p, &self.site.base_url));
            }
        }
        Ok(Section {
            title: format!("Your search: {}", saved.query),
            more_url: format!("{}/search?q={}", self.site.base_url, percent_encode(&saved.query)),
            papers,
        })
    }

    async fn category_section(&self, category: &str, period: &Period) -> Result<Section, MailError> {
        let page = self
            .db
            .feed(&FeedQuery {
                from: Some(period.since),
                until: period.until.succ_opt(),
                category: Some(category.to_string()),
                sort: FeedSort::Top,
                has_code: false,
                limit: SECTION_PAPERS as u32,
                ..FeedQuery::default()
            })
            .await?;
        Ok(Section {
            title: format!("New in {category}"),
            more_url: format!("{}/?cat={}", self.site.base_url, percent_encode(category)),
            papers: page.items.iter().map(|p| DigestPaper::from_stored(p, &self.site.base_url)).collect(),
        })
    }

    /// What `sub`'s digest carries with this builder: recommendations need
    /// a member and a [`PersonalPicks`]; without either, trending papers.
    pub fn content_of(&self, sub: &Subscriber) -> DigestContent {
        match (sub.user, &self.picks) {
            (Some(_), Some(_)) => sub.content,
            _ => DigestContent::Trending,
        }
    }

    /// The member's recommendations for the period, as the digest shows them.
    async fn recommended(&self, user: UserId, period: &Period) -> Result<Vec<DigestPaper>, MailError> {
        let Some(picks) = &self.picks else { return Ok(Vec::new()) };
        let mut shown = picks.picks(user, period, RECOMMENDED_PAPERS).await?;
        shown.truncate(RECOMMENDED_PAPERS);
        Ok(shown.iter().map(|p| DigestPaper::recommended(&p.paper, &p.reason, &self.site.base_url)).collect())
    }

    /// One subscriber's digest; `search_time` gets the time spent in search
    /// and recommendations. `trending` is the period's list
    /// ([`DigestBuilder::trending`]); a subscription that asked for
    /// recommendations only leaves it out, one that asked for both shows
    /// both lists as they are.
    pub async fn digest_for(
        &self,
        sub: &Subscriber,
        period: &Period,
        trending: &[DigestPaper],
        search_time: &mut Duration,
    ) -> Result<Digest, MailError> {
        let started = Instant::now();
        let content = self.content_of(sub);
        let recommended = match (content, sub.user) {
            (DigestContent::Recommended | DigestContent::Both, Some(user)) => self.recommended(user, period).await?,
            _ => Vec::new(),
        };
        let trending = match content {
            DigestContent::Recommended => Vec::new(),
            DigestContent::Trending | DigestContent::Both => trending.to_vec(),
        };
        let mut sections = Vec::new();
        if let Some(matcher) = &self.search {
            for saved in self.db.saved_searches(sub.id).await? {
                sections.push(self.search_section(matcher.as_ref(), &saved, period).await?);
            }
        }
        for c in &sub.categories {
            sections.push(self.category_section(c, period).await?);
        }
        *search_time += started.elapsed();
        Ok(Digest {
            site_name: self.site.name.clone(),
            base_url: self.site.base_url.clone(),
            period_label: period.label.clone(),
            recommended,
            trending,
            sections,
            manage_url: self.manage_url(sub.id),
            unsubscribe_url: self.unsubscribe_url(sub.id),
        })
    }

    /// The outbox row of a rendered digest.
    pub fn digest_mail(&self, sub: &Subscriber, period: &Period, digest: &Digest) -> Result<NewMail, MailError> {
        let id = message_id(period.kind.as_str(), &period.key, sub.id.0, &id_domain(&self.site.base_url));
        let message = build(&Outgoing {
            from: &self.site.from,
            to: sub.email.as_str(),
            subject: &digest.subject(),
            message_id: &id,
            text: digest.text(),
            html: digest.html(),
            unsubscribe_url: Some(&digest.unsubscribe_url),
        })?;
        Ok(NewMail {
            subscriber: sub.id,
            kind: period.kind,
            period_key: period.key.clone(),
            recipient: sub.email.as_str().to_string(),
            message_id: id,
            message,
        })
    }

    /// Builds and inserts the period's digests for every subscriber who has
    /// none yet (only `only`'s when given); with `dry_run`, builds and
    /// renders but inserts nothing. One subscriber's failure (search,
    /// recommendations, rendering, the insert) is logged and counted in
    /// [`BuildReport::failed`], and the others are built all the same; only
    /// a failure to list the subscribers (or to rank the trending papers
    /// every digest shares) stops the build.
    pub async fn build_period(
        &self,
        period: &Period,
        only: Option<&Email>,
        dry_run: bool,
    ) -> Result<BuildReport, MailError> {
        let mut report = BuildReport::default();
        let t = Instant::now();
        let trending = self.trending(period).await?;
        report.search_time += t.elapsed();
        let mut after = SubscriberId(0);
        loop {
            let t = Instant::now();
            let batch = self.db.digest_candidates(period.frequency, period.kind, &period.key, after, 200).await?;
            report.store_time += t.elapsed();
            let Some(last) = batch.last() else { break };
            after = last.id;
            for sub in batch.iter().filter(|s| only.is_none_or(|e| e.key() == s.email.key())) {
                if let Err(e) = self.build_one(sub, period, &trending, dry_run, &mut report).await {
                    report.failed += 1;
                    tracing::warn!(
                        subscriber = %sub.id, period = %period.key, error = %e,
                        "digest not built for this subscriber; a later run builds it"
                    );
                }
            }
        }
        Ok(report)
    }

    /// Builds, renders and (unless `dry_run`) inserts one subscriber's
    /// digest, counting it in `report`.
    async fn build_one(
        &self,
        sub: &Subscriber,
        period: &Period,
        trending: &[DigestPaper],
        dry_run: bool,
        report: &mut BuildReport,
    ) -> Result<(), MailError> {
        let digest = self.digest_for(sub, period, trending, &mut report.search_time).await?;
        if digest.is_empty() {
            report.empty += 1;
            return Ok(());
        }
        let t = Instant::now();
        let mail = self.digest_mail(sub, period, &digest)?;
        report.render_time += t.elapsed();
        if dry_run {
            report.built += 1;
            return Ok(());
        }
        let t = Instant::now();
        let inserted = self.db.enqueue_mail(&mail).await;
        report.store_time += t.elapsed();
        if inserted? {
            report.built += 1;
        } else {
            report.already_there += 1;
        }
        Ok(())
    }

    /// The double opt-in mail for a subscriber, due now. `request_key`
    /// names the request (one mail per key).
    pub fn confirm_mail(&self, sub: &Subscriber, request_key: &str) -> Result<NewMail, MailError> {
        let mail = ConfirmMail {
            site_name: self.site.name.clone(),
            base_url: self.site.base_url.clone(),
            confirm_url: self.link(
                "subscribe/confirm",
                Purpose::Confirm,
                sub.id,
                chrono::Duration::hours(CONFIRM_HOURS),
            ),
            hours_valid: CONFIRM_HOURS,
        };
        let id = message_id("confirm", request_key, sub.id.0, &id_domain(&self.site.base_url));
        let message = build(&Outgoing {
            from: &self.site.from,
            to: sub.email.as_str(),
            subject: &mail.subject(),
            message_id: &id,
            text: mail.text(),
            html: mail.html(),
            unsubscribe_url: None,
        })?;
        Ok(NewMail {
            subscriber: sub.id,
            kind: MailKind::Confirm,
            period_key: request_key.to_string(),
            recipient: sub.email.as_str().to_string(),
            message_id: id,
            message,
        })
    }

    /// An account mail with one link (verification, password reset).
    pub fn link_mail(
        &self,
        to: &Email,
        subject: &str,
        intro: &str,
        button: &str,
        url: &str,
    ) -> Result<String, MailError> {
        let mail = LinkMail {
            site_name: self.site.name.clone(),
            subject: subject.to_string(),
            intro: intro.to_string(),
            button: button.to_string(),
            url: url.to_string(),
        };
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce).map_err(|e| MailError::Random(e.to_string()))?;
        let key: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
        let id = message_id("account", &key, 0, &id_domain(&self.site.base_url));
        build(&Outgoing {
            from: &self.site.from,
            to: to.as_str(),
            subject,
            message_id: &id,
            text: mail.text(),
            html: mail.html(),
            unsubscribe_url: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_cover_the_days_since_the_last_digest() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        // Monday 30 November 2026, 06:00 in Berlin.
        let mon = DateTime::parse_from_rfc3339("2026-11-30T05:00:00Z").unwrap().with_timezone(&Utc);
        let p = Period::at(Frequency::Daily, mon, tz);
        assert_eq!(p.key, "2026-11-30");
        assert_eq!(p.since, NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(), "Friday");
        assert_eq!(p.label, "Monday 30 November 2026");
        let w = Period::at(Frequency::Weekly, mon, tz);
        assert_eq!(w.key, "2026-W49");
        assert_eq!(w.label, "week of 30 November 2026");
        // 23:30 UTC on Sunday is already Monday in Berlin.
        let late = DateTime::parse_from_rfc3339("2026-11-29T23:30:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(Period::at(Frequency::Daily, late, tz).key, "2026-11-30");
        assert_eq!(percent_encode("a b&c/ü"), "a%20b%26c%2F%C3%BC");
    }
}
