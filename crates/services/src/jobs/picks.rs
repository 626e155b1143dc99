//! The digest's "Recommended for you" section: [`RecsPicks`] answers the
//! mail crate's [`PersonalPicks`] with [`RecsService::for_member`], the
//! same ranking `/for-you` shows, each pick with its reason line.
//!
//! A digest period is a span of listing days (`since..=until`: Friday to
//! Monday for a Monday daily, eight days for a weekly), not one of the
//! feeds' periods. It is split into the whole ISO weeks it contains and
//! the single days left over, each asked for separately, so that every
//! pick is a paper listed in the span; the picks are merged by score, best
//! first. A member with no signals yet (the recommender's cold start) gets
//! no picks: a digest that asked for recommendations only then says
//! nothing and is not sent, rather than mailing popular papers as if they
//! were the member's own.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{Datelike, Days, NaiveDate, Weekday};
use paperboy_core::UserId;
use paperboy_core::period::FeedPeriod;
use paperboy_mail::{MailError, Period, PersonalPick, PersonalPicks};
use paperboy_store::Database;

use crate::recommend::{Pick, RecsService};

/// A member's recommendations for their digest (see the module documentation).
#[derive(Clone)]
pub struct RecsPicks {
    recs: RecsService,
    db: Arc<dyn Database>,
}

impl RecsPicks {
    pub fn new(recs: RecsService, db: Arc<dyn Database>) -> RecsPicks {
        RecsPicks { recs, db }
    }
}

#[async_trait]
impl PersonalPicks for RecsPicks {
    async fn picks(&self, user: UserId, period: &Period, limit: usize) -> Result<Vec<PersonalPick>, MailError> {
        let mut found: Vec<Pick> = Vec::new();
        let asked = u32::try_from(limit).unwrap_or(u32::MAX);
        for span in spans(period.since, period.until) {
            let for_you = self
                .recs
                .for_member(self.db.as_ref(), user, span, asked)
                .await
                .map_err(|e| MailError::Picks(e.to_string()))?;
            if for_you.cold_start {
                return Ok(Vec::new());
            }
            found.extend(for_you.picks);
        }
        Ok(merge(found, period.since, period.until, limit)
            .into_iter()
            .map(|p| PersonalPick { reason: p.reason.line(), paper: p.paper })
            .collect())
    }
}

/// The picks listed from `since` to `until`, best first, each paper once,
/// at most `limit`.
fn merge(mut found: Vec<Pick>, since: NaiveDate, until: NaiveDate, limit: usize) -> Vec<Pick> {
    found.retain(|p| (since..=until).contains(&p.paper.paper.listed_on));
    found.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut seen = std::collections::HashSet::new();
    found.retain(|p| seen.insert(p.paper.paper.id.clone()));
    found.truncate(limit);
    found
}

/// `since..=until` as the whole ISO weeks it contains and the days left
/// over, in order; empty when `until` is before `since`.
fn spans(since: NaiveDate, until: NaiveDate) -> Vec<FeedPeriod> {
    let mut out = Vec::new();
    let mut day = since;
    while day <= until {
        let sunday = day + Days::new(6);
        if day.weekday() == Weekday::Mon && sunday <= until {
            out.push(FeedPeriod::week_of(day));
            day = sunday + Days::new(1);
        } else {
            out.push(FeedPeriod::Day(day));
            day = day + Days::new(1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_digest_period_is_split_into_whole_weeks_and_days() {
        // A weekly digest on Monday 30 November 2026: the week before and the Monday.
        assert_eq!(
            spans(d("2026-11-23"), d("2026-11-30")),
            vec![FeedPeriod::Week { year: 2026, week: 48 }, FeedPeriod::Day(d("2026-11-30"))]
        );
        // A Monday daily: Friday to Monday, day by day.
        let monday = spans(d("2026-11-27"), d("2026-11-30"));
        assert_eq!(monday.len(), 4);
        assert!(monday.iter().all(|p| matches!(p, FeedPeriod::Day(_))));
        assert_eq!(monday[0], FeedPeriod::Day(d("2026-11-27")));
        // A week that starts mid-week is days only; nothing for an empty span.
        assert_eq!(spans(d("2026-11-25"), d("2026-12-01")).len(), 7);
        assert!(spans(d("2026-11-30"), d("2026-11-29")).is_empty());
    }

    fn pick(id: &str, listed: &str, score: f32) -> Pick {
        let paper = paperboy_core::Paper::new(paperboy_core::PaperId::parse(id).unwrap(), "T", d(listed));
        Pick {
            paper: paperboy_store::StoredPaper {
                paper,
                upvotes: 0,
                submitted_by: None,
                hidden_at: None,
                signals: Default::default(),
            },
            score,
            reason: paperboy_recs::Reason::Popular,
        }
    }

    #[test]
    fn picks_from_several_spans_merge_by_score_within_the_period() {
        let found = vec![
            pick("2611.00001", "2026-11-24", 0.4),
            pick("2611.00002", "2026-11-30", 0.9),
            pick("2611.00003", "2026-11-22", 5.0),
            pick("2611.00001", "2026-11-24", 0.4),
            pick("2611.00004", "2026-11-25", 0.7),
        ];
        let ids = |v: Vec<Pick>| v.into_iter().map(|p| p.paper.paper.id.to_string()).collect::<Vec<_>>();
        let merged = merge(found.clone(), d("2026-11-23"), d("2026-11-30"), 5);
        assert_eq!(ids(merged), vec!["2611.00002", "2611.00004", "2611.00001"], "best first, once, in the span");
        assert_eq!(ids(merge(found, d("2026-11-23"), d("2026-11-30"), 2)), vec!["2611.00002", "2611.00004"]);
    }
}
