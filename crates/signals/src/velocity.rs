//! Star velocity and refresh timing, as pure functions of their inputs (the
//! caller passes `now`).
//!
//! Stars gained in a window (7 days by default) come from two sources:
//!
//! - **observations**: the star counts the fetcher recorded over time; the
//!   gain is the newest count minus the count at the start of the window
//!   (the newest observation at or before it). Exact once the series
//!   reaches back a whole window; until then it covers less.
//! - **stargazer timestamps** (`starred_at` of the newest stargazers): the
//!   gain is how many of them starred inside the window. Exact when the
//!   sample reaches back past the window's start (or holds every stargazer);
//!   otherwise a lower bound. This is what makes a repository seen for the
//!   first time rank right at once.
//!
//! [`weekly_stars`] picks the better of the two. [`refresh_interval`] says
//! when to look at a repository again: new and fast-rising ones often, quiet
//! ones rarely.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

/// The velocity window: stars gained "this week".
pub const WEEK: TimeDelta = TimeDelta::days(7);

/// A repository's star count at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    pub at: DateTime<Utc>,
    pub stars: u64,
}

/// Stars gained in a window, and how much of the window the data covered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gain {
    /// Stars gained (negative when more stars were taken back than given).
    pub stars: i64,
    /// The time the measurement covers, at most the window.
    pub covered: TimeDelta,
    /// True when the data spans the whole window, so `stars` is the
    /// window's gain; false when it is the gain over `covered` only (a
    /// lower bound for a stargazer sample cut short by its page budget).
    pub exact: bool,
    pub source: GainSource,
}

/// Where a [`Gain`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GainSource {
    Observations,
    Stargazers,
}

/// Stars gained in the `window` before `now` from a series of observations
/// (any order). `None` without an observation in the window's reach (no
/// observation at all, or none since `now - window` and none before).
pub fn gain_from_observations(observations: &[Observation], now: DateTime<Utc>, window: TimeDelta) -> Option<Gain> {
    let start = now - window;
    let upto_now = observations.iter().filter(|o| o.at <= now);
    let newest = upto_now.clone().max_by_key(|o| o.at)?;
    // The baseline: the newest observation at or before the window's start,
    // or, when the series is younger than the window, its oldest one.
    let baseline =
        upto_now.clone().filter(|o| o.at <= start).max_by_key(|o| o.at).or_else(|| upto_now.min_by_key(|o| o.at))?;
    let exact = baseline.at <= start;
    let covered = if exact { window } else { newest.at - baseline.at };
    Some(Gain { stars: newest.stars as i64 - baseline.stars as i64, covered, exact, source: GainSource::Observations })
}

/// Stars gained in the `window` before `now` from stargazers' `starred_at`
/// times (any order). `complete` says the sample holds every current
/// stargazer (the first page was read); otherwise the sample is exact only
/// if it reaches back past the window's start.
pub fn gain_from_stargazers(
    starred_at: &[DateTime<Utc>],
    complete: bool,
    now: DateTime<Utc>,
    window: TimeDelta,
) -> Gain {
    let start = now - window;
    let stars = starred_at.iter().filter(|t| **t > start && **t <= now).count() as i64;
    let oldest = starred_at.iter().min();
    let exact = complete || oldest.is_some_and(|t| *t <= start);
    let covered = if exact { window } else { oldest.map_or(TimeDelta::zero(), |t| (now - *t).min(window)) };
    Gain { stars, covered, exact, source: GainSource::Stargazers }
}

/// The stars gained this week: an exact measurement if there is one
/// (observations first: they also count stars taken back), otherwise the
/// one covering more of the week.
pub fn weekly_stars(from_observations: Option<Gain>, from_stargazers: Option<Gain>) -> Option<Gain> {
    match (from_observations, from_stargazers) {
        (Some(o), _) if o.exact => Some(o),
        (_, Some(s)) if s.exact => Some(s),
        (Some(o), Some(s)) => Some(if s.covered >= o.covered { s } else { o }),
        (o, s) => o.or(s),
    }
}

/// How often repositories are looked at again, by how fast they move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// The shortest interval, for new and fast-rising repositories. Default 1 h.
    pub fastest: Duration,
    /// The longest, for repositories that have not moved in weeks. Default 7 days.
    pub slowest: Duration,
    /// A repository first seen less than this long ago counts as new. Default 2 days.
    pub new_for: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        RefreshPolicy {
            fastest: Duration::from_secs(3_600),
            slowest: Duration::from_secs(7 * 86_400),
            new_for: Duration::from_secs(2 * 86_400),
        }
    }
}

/// What [`refresh_interval`] looks at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefreshInput {
    /// When the fetcher first saw the repository.
    pub first_seen: DateTime<Utc>,
    /// Stars gained this week, if known.
    pub weekly_stars: Option<i64>,
    /// The repository's star count.
    pub stars: u64,
    /// Its last push, if known.
    pub pushed_at: Option<DateTime<Utc>>,
}

/// When to fetch a repository again, from now.
///
/// | this week | interval |
/// |---|---|
/// | new (first seen within `new_for`), or ≥ 100 stars, or ≥ 5% of its stars | `fastest` (1 h) |
/// | ≥ 20 stars | 4 × fastest (4 h) |
/// | ≥ 1 star | 12 × fastest (12 h) |
/// | unknown | 24 × fastest (1 day) |
/// | none, pushed within 30 days | 72 × fastest (3 days) |
/// | none, no push in 30 days | `slowest` (7 days) |
///
/// Always between `fastest` and `slowest`.
pub fn refresh_interval(input: &RefreshInput, now: DateTime<Utc>, policy: &RefreshPolicy) -> Duration {
    let age = (now - input.first_seen).to_std().unwrap_or(Duration::ZERO);
    let times = |n: u32| policy.fastest.saturating_mul(n);
    let interval = if age < policy.new_for {
        policy.fastest
    } else {
        match input.weekly_stars {
            Some(w) if w >= 100 || (w > 0 && w as f64 >= 0.05 * input.stars as f64) => policy.fastest,
            Some(w) if w >= 20 => times(4),
            Some(w) if w >= 1 => times(12),
            None => times(24),
            Some(_) => {
                let pushed_lately = input.pushed_at.is_some_and(|p| now - p <= TimeDelta::days(30));
                if pushed_lately { times(72) } else { policy.slowest }
            }
        }
    };
    interval.clamp(policy.fastest, policy.slowest.max(policy.fastest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn now() -> DateTime<Utc> {
        t("2026-03-12T12:00:00Z")
    }

    fn obs(days_ago: i64, stars: u64) -> Observation {
        Observation { at: now() - TimeDelta::days(days_ago), stars }
    }

    #[test]
    fn a_series_spanning_the_week_gives_the_exact_gain() {
        let series = [obs(10, 900), obs(8, 1_000), obs(6, 1_100), obs(0, 1_312)];
        let g = gain_from_observations(&series, now(), WEEK).unwrap();
        assert_eq!((g.stars, g.exact, g.covered), (312, true, WEEK));
        // Order does not matter; observations after `now` are ignored.
        let mut shuffled = vec![obs(0, 1_312), obs(-1, 5_000), obs(8, 1_000), obs(10, 900)];
        shuffled.reverse();
        assert_eq!(gain_from_observations(&shuffled, now(), WEEK).unwrap().stars, 312);
    }

    #[test]
    fn a_young_series_covers_part_of_the_week() {
        let g = gain_from_observations(&[obs(2, 50), obs(0, 80)], now(), WEEK).unwrap();
        assert_eq!((g.stars, g.exact, g.covered), (30, false, TimeDelta::days(2)));
        let one = gain_from_observations(&[obs(0, 80)], now(), WEEK).unwrap();
        assert_eq!((one.stars, one.exact), (0, false));
        assert_eq!(gain_from_observations(&[], now(), WEEK), None);
        let lost = gain_from_observations(&[obs(9, 100), obs(1, 97)], now(), WEEK).unwrap();
        assert_eq!(lost.stars, -3, "stars taken back count");
    }

    #[test]
    fn stargazer_times_count_the_window() {
        let times: Vec<_> =
            [0, 1, 2, 6, 8, 30].iter().map(|d| now() - TimeDelta::days(*d) - TimeDelta::minutes(1)).collect();
        let g = gain_from_stargazers(&times, false, now(), WEEK);
        assert_eq!((g.stars, g.exact), (4, true), "the sample reaches past the window");
        let recent = &times[..3];
        let cut = gain_from_stargazers(recent, false, now(), WEEK);
        assert_eq!((cut.stars, cut.exact), (3, false), "a lower bound");
        assert_eq!(cut.covered, TimeDelta::days(2) + TimeDelta::minutes(1));
        let all = gain_from_stargazers(recent, true, now(), WEEK);
        assert_eq!((all.stars, all.exact), (3, true), "every stargazer read");
    }

    #[test]
    fn the_weekly_gain_prefers_exact_data() {
        let exact_s = gain_from_stargazers(&[now() - TimeDelta::days(8)], false, now(), WEEK);
        let young_o = gain_from_observations(&[obs(1, 10), obs(0, 12)], now(), WEEK);
        assert_eq!(weekly_stars(young_o, Some(exact_s)).unwrap().source, GainSource::Stargazers);
        let exact_o = gain_from_observations(&[obs(8, 10), obs(0, 12)], now(), WEEK);
        assert_eq!(weekly_stars(exact_o, Some(exact_s)).unwrap().source, GainSource::Observations);
        assert_eq!(weekly_stars(None, None), None);
        assert_eq!(weekly_stars(young_o, None), young_o);
    }

    #[test]
    fn refresh_is_frequent_for_new_and_rising_and_rare_for_quiet() {
        let p = RefreshPolicy::default();
        let h = |n: u64| Duration::from_secs(n * 3_600);
        let input = |first_days: i64, weekly: Option<i64>, stars: u64, pushed_days: i64| RefreshInput {
            first_seen: now() - TimeDelta::days(first_days),
            weekly_stars: weekly,
            stars,
            pushed_at: Some(now() - TimeDelta::days(pushed_days)),
        };
        assert_eq!(refresh_interval(&input(0, Some(0), 3, 400), now(), &p), h(1), "new");
        assert_eq!(refresh_interval(&input(30, Some(312), 50_000, 1), now(), &p), h(1), "fast");
        assert_eq!(refresh_interval(&input(30, Some(12), 200, 1), now(), &p), h(1), "6% of its stars");
        assert_eq!(refresh_interval(&input(30, Some(25), 10_000, 1), now(), &p), h(4));
        assert_eq!(refresh_interval(&input(30, Some(3), 10_000, 1), now(), &p), h(12));
        assert_eq!(refresh_interval(&input(30, None, 10_000, 1), now(), &p), h(24));
        assert_eq!(refresh_interval(&input(30, Some(0), 10_000, 3), now(), &p), h(72));
        assert_eq!(refresh_interval(&input(30, Some(0), 10_000, 300), now(), &p), h(168), "quiet");
        let tight = RefreshPolicy { slowest: h(6), ..p };
        assert_eq!(refresh_interval(&input(30, Some(0), 10_000, 3), now(), &tight), h(6), "clamped");
    }
}
