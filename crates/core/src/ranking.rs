//! The trending score: how the `trending` feeds order papers.
//!
//! Hacker News gravity, applied to upvotes and to the time since a paper was
//! listed on our feed:
//!
//! ```text
//! score = votes / (age_hours + base_hours) ^ gravity
//! ```
//!
//! * `votes` is the paper's upvote count: every member's vote, the
//!   submitter's own included (submitting a paper upvotes it). Hacker News
//!   subtracts the submitter's point because every story has one; here
//!   imported papers have no submitter, so subtracting would rank an imported
//!   paper with one vote above a submitted paper with the same one vote.
//! * `age_hours` runs from the moment the paper was listed on our feed
//!   ([`listed_at`]): the submission time for a paper a member submitted,
//!   midnight UTC of its feed day otherwise. Never negative.
//! * `base_hours` (default 2) keeps brand-new papers from dividing by zero and
//!   damps the first hours; `gravity` (default 1.8) is how fast age wins over
//!   votes. Both live in [`RankingSettings`]; docs/RANKING.md has the reasoning
//!   and worked numbers.
//!
//! Ties (equal scores, which includes every paper without votes) are broken
//! by more votes, then the later feed day, then the greater paper id, so that
//! papers nobody voted for keep the `new` feed's order. Everything here is a
//! pure function of its inputs: the caller passes `now`.

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use crate::error::CoreError;

/// The tunable parameters of the trending score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankingSettings {
    /// The exponent on age: larger values make papers fall off faster.
    /// Default 1.8, as on Hacker News. 0 ranks by votes alone.
    pub gravity: f64,
    /// Hours added to every paper's age. Default 2.
    pub base_hours: f64,
}

impl RankingSettings {
    pub const DEFAULT_GRAVITY: f64 = 1.8;
    pub const DEFAULT_BASE_HOURS: f64 = 2.0;

    /// Checked parameters: `gravity` between 0 and 10, `base_hours` above 0
    /// and at most a year.
    pub fn new(gravity: f64, base_hours: f64) -> Result<Self, CoreError> {
        if !gravity.is_finite() || !(0.0..=10.0).contains(&gravity) {
            return Err(CoreError::BadRanking { why: "gravity must be a number from 0 to 10 (the default is 1.8)" });
        }
        if !base_hours.is_finite() || base_hours <= 0.0 || base_hours > 8_784.0 {
            return Err(CoreError::BadRanking {
                why: "base_hours must be a number above 0 and at most 8784 (the default is 2)",
            });
        }
        Ok(RankingSettings { gravity, base_hours })
    }
}

impl Default for RankingSettings {
    fn default() -> Self {
        RankingSettings { gravity: Self::DEFAULT_GRAVITY, base_hours: Self::DEFAULT_BASE_HOURS }
    }
}

/// When a paper was listed on our feed: when a member submitted it, else
/// midnight UTC of its feed day.
pub fn listed_at(listed_on: NaiveDate, submitted_at: Option<DateTime<Utc>>) -> DateTime<Utc> {
    submitted_at.unwrap_or_else(|| listed_on.and_time(NaiveTime::MIN).and_utc())
}

/// Hours from `listed` to `now`, fractional, and 0 when `listed` is in the future.
pub fn age_hours(listed: DateTime<Utc>, now: DateTime<Utc>) -> f64 {
    let ms = (now - listed).num_milliseconds().max(0);
    ms as f64 / 3_600_000.0
}

/// `votes / (age_hours + base_hours) ^ gravity`. Negative vote counts count as 0.
pub fn trending_score(votes: i64, age_hours: f64, params: &RankingSettings) -> f64 {
    let votes = votes.max(0) as f64;
    let age = if age_hours.is_finite() { age_hours.max(0.0) } else { 0.0 };
    votes / (age + params.base_hours).powf(params.gravity)
}

/// One paper competing for a place in a trending feed.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The canonical paper id (compared byte-wise for the last tie-break,
    /// as SQL compares it for the `new` order).
    pub id: String,
    pub votes: i64,
    /// The paper's feed day.
    pub listed_on: NaiveDate,
    /// See [`listed_at`].
    pub listed_at: DateTime<Utc>,
}

impl Candidate {
    /// This candidate's score at `now`.
    pub fn score(&self, now: DateTime<Utc>, params: &RankingSettings) -> f64 {
        trending_score(self.votes, age_hours(self.listed_at, now), params)
    }
}

/// The trending order of two scored candidates: higher score first, then
/// more votes, then the later feed day, then the greater id.
pub fn trending_order(a: (&Candidate, f64), b: (&Candidate, f64)) -> Ordering {
    b.1.total_cmp(&a.1)
        .then_with(|| b.0.votes.cmp(&a.0.votes))
        .then_with(|| b.0.listed_on.cmp(&a.0.listed_on))
        .then_with(|| b.0.id.cmp(&a.0.id))
}

/// Sorts `candidates` into trending order at `now` and returns them with
/// their scores.
pub fn rank_trending(
    candidates: Vec<Candidate>,
    now: DateTime<Utc>,
    params: &RankingSettings,
) -> Vec<(Candidate, f64)> {
    let mut scored: Vec<(Candidate, f64)> = candidates
        .into_iter()
        .map(|c| {
            let s = c.score(now, params);
            (c, s)
        })
        .collect();
    scored.sort_by(|a, b| trending_order((&a.0, a.1), (&b.0, b.1)));
    scored
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-12T12:00:00Z").unwrap().with_timezone(&Utc)
    }

    fn cand(id: &str, votes: i64, hours_ago: i64) -> Candidate {
        let listed_at = now() - Duration::hours(hours_ago);
        Candidate { id: id.into(), votes, listed_on: listed_at.date_naive(), listed_at }
    }

    fn order(cands: Vec<Candidate>) -> Vec<String> {
        rank_trending(cands, now(), &RankingSettings::default()).into_iter().map(|(c, _)| c.id).collect()
    }

    #[test]
    fn the_formula_gives_the_documented_numbers() {
        let p = RankingSettings::default();
        // docs/RANKING.md, "Worked numbers".
        assert!((trending_score(10, 0.0, &p) - 2.8717).abs() < 1e-4);
        assert!((trending_score(10, 6.0, &p) - 0.2368).abs() < 1e-4);
        assert!((trending_score(10, 22.0, &p) - 0.0328).abs() < 1e-4);
        assert!((trending_score(50, 46.0, &p) - 0.0471).abs() < 1e-4);
        assert!((trending_score(3, 4.0, &p) - 0.1192).abs() < 1e-4);
        assert_eq!(trending_score(0, 1.0, &p), 0.0);
        assert_eq!(trending_score(-3, 1.0, &p), 0.0, "negative counts are clamped");
        let flat = RankingSettings::new(0.0, 2.0).unwrap();
        assert_eq!(trending_score(7, 1_000.0, &flat), 7.0, "gravity 0 is votes alone");
    }

    #[test]
    fn more_votes_rank_higher_at_equal_age() {
        for age in [0, 1, 5, 24, 24 * 30] {
            let ids = order(vec![cand("2603.00001", 3, age), cand("2603.00002", 10, age), cand("2603.00003", 4, age)]);
            assert_eq!(ids, ["2603.00002", "2603.00003", "2603.00001"], "age {age}h");
        }
    }

    #[test]
    fn older_ranks_lower_at_equal_votes() {
        let ids = order(vec![cand("a", 5, 30), cand("b", 5, 1), cand("c", 5, 10)]);
        assert_eq!(ids, ["b", "c", "a"]);
        let p = RankingSettings::default();
        let mut last = f64::INFINITY;
        for h in 0..200 {
            let s = trending_score(5, h as f64, &p);
            assert!(s < last, "strictly falling with age");
            last = s;
        }
    }

    #[test]
    fn fresh_papers_with_fewer_votes_can_beat_old_popular_ones() {
        // 10 votes now beat 50 votes two days ago: see docs/RANKING.md.
        assert_eq!(order(vec![cand("old", 50, 46), cand("new", 10, 0)]), ["new", "old"]);
    }

    #[test]
    fn ties_are_broken_deterministically() {
        // Equal score and votes: the later feed day, then the greater id.
        let mut a = cand("2603.00001", 2, 5);
        let b = cand("2603.00002", 2, 5);
        assert_eq!(order(vec![a.clone(), b.clone()]), ["2603.00002", "2603.00001"]);
        assert_eq!(order(vec![b.clone(), a.clone()]), ["2603.00002", "2603.00001"]);
        a.listed_on = a.listed_on.succ_opt().unwrap();
        assert_eq!(order(vec![b.clone(), a.clone()]), ["2603.00001", "2603.00002"]);
        // No votes at all: the `new` order (later day, then greater id).
        let z = vec![cand("x1", 0, 50), cand("x3", 0, 50), cand("x2", 0, 2)];
        assert_eq!(order(z), ["x2", "x3", "x1"]);
    }

    #[test]
    fn future_listings_count_as_brand_new() {
        let listed = now() + Duration::hours(3);
        assert_eq!(age_hours(listed, now()), 0.0);
        assert_eq!(age_hours(now() - Duration::minutes(90), now()), 1.5);
    }

    #[test]
    fn listing_time_is_the_submission_or_the_start_of_the_day() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 11).unwrap();
        assert_eq!(listed_at(day, None).to_rfc3339(), "2026-03-11T00:00:00+00:00");
        assert_eq!(listed_at(day, Some(now())), now());
    }

    #[test]
    fn parameters_are_checked() {
        assert!(RankingSettings::new(1.8, 2.0).is_ok());
        for (g, b) in [(-1.0, 2.0), (f64::NAN, 2.0), (11.0, 2.0), (1.8, 0.0), (1.8, f64::INFINITY), (1.8, -2.0)] {
            let e = RankingSettings::new(g, b).unwrap_err().to_string();
            assert!(e.contains("default"), "{g} {b}: {e}");
        }
    }
}
