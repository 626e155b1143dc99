//! Property tests of the announcement day: for any instant it is a weekday
//! after the submission's US/Eastern day, exactly the one arXiv's schedule
//! gives, never earlier for a later submission, and no instant chrono can
//! represent makes it panic. Cases per property: `PROPTEST_CASES` (64 by
//! default; `bench/fuzz.sh` runs many more).

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc, Weekday};
use proptest::prelude::*;
use proptest::test_runner::Config;

use super::{announcement_day, announcement_day_of_date, to_eastern};

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64);
    Config { cases, failure_persistence: None, ..Config::default() }
}

/// Instants from 1991 (arXiv's start) to 2100, to the second.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (662_688_000i64..4_102_444_800).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap_or_default())
}

/// The schedule as a table: the listing day for a submission at this
/// US/Eastern weekday, before or after the 14:00 cut-off.
fn by_the_table(local_date: NaiveDate, before_cutoff: bool) -> NaiveDate {
    let days = match (local_date.weekday(), before_cutoff) {
        (Weekday::Mon | Weekday::Tue | Weekday::Wed | Weekday::Thu, true) => 1,
        (Weekday::Mon | Weekday::Tue | Weekday::Wed, false) => 2,
        (Weekday::Thu, false) | (Weekday::Fri, true) => 4 - u64::from(before_cutoff),
        (Weekday::Fri, false) => 4,
        (Weekday::Sat, _) => 3,
        (Weekday::Sun, _) => 2,
    };
    local_date + Duration::days(days as i64)
}

proptest! {
    #![proptest_config(config())]

    /// The listing day follows the schedule's table.
    #[test]
    fn listing_day_follows_the_schedule(t in instant()) {
        let local = to_eastern(t);
        let offset = t.naive_utc() - local;
        prop_assert!(offset == Duration::hours(4) || offset == Duration::hours(5), "{offset}");
        let day = announcement_day(t);
        prop_assert!(!matches!(day.weekday(), Weekday::Sat | Weekday::Sun), "{day}");
        prop_assert_eq!(day, by_the_table(local.date(), local.hour() < 14), "{} (local {})", t, local);
    }

    /// A later submission is never listed earlier.
    #[test]
    fn later_submissions_are_not_listed_earlier(t in instant(), later in 0i64..(10 * 86_400)) {
        let u = t + Duration::seconds(later);
        prop_assert!(announcement_day(t) <= announcement_day(u), "{t} then {u}");
    }

    /// A date-only submission is listed on the next weekday after its day
    /// (or after the Monday when it falls on a weekend), like a submission
    /// made in the morning of that day.
    #[test]
    fn date_only_submissions(days in 0i64..40_000) {
        let d = NaiveDate::from_ymd_opt(1991, 1, 1).unwrap_or_default() + Duration::days(days);
        let day = announcement_day_of_date(d);
        prop_assert!(!matches!(day.weekday(), Weekday::Sat | Weekday::Sun));
        prop_assert!(day > d && day - d <= Duration::days(3), "{d} -> {day}");
        prop_assert_eq!(day, by_the_table(d, true));
    }

    /// Any instant chrono can represent, and any date: no panic.
    #[test]
    fn extreme_instants_never_panic(secs in any::<i64>(), days in any::<i32>()) {
        let t = DateTime::from_timestamp(secs, 0)
            .unwrap_or(if secs < 0 { DateTime::<Utc>::MIN_UTC } else { DateTime::<Utc>::MAX_UTC });
        let _ = announcement_day(t);
        let _ = announcement_day(DateTime::<Utc>::MIN_UTC + Duration::seconds(secs.rem_euclid(1_000_000)));
        let _ = announcement_day(DateTime::<Utc>::MAX_UTC - Duration::seconds(secs.rem_euclid(1_000_000)));
        let d = NaiveDate::from_num_days_from_ce_opt(days).unwrap_or(if days < 0 { NaiveDate::MIN } else { NaiveDate::MAX });
        let _ = announcement_day_of_date(d);
    }
}
