//! The day arXiv announces a submission, which is the day a harvested paper
//! is listed on (its feed day), derived from its first version's submission
//! time.
//!
//! arXiv's schedule: submissions close at 14:00 US/Eastern on weekdays; what
//! came in since the previous cut-off is announced that evening (Monday to
//! Thursday) or on Sunday evening (for Friday's cut-off), and arXiv's
//! listings carry the next weekday's date ("new submissions for Tue, 5 Mar").
//! So: move the submission to the first weekday cut-off at or after it; the
//! announcement day is the weekday after that cut-off. Holidays are not
//! modelled (arXiv publishes a handful of skipped days a year; papers
//! submitted then land one listing early). US/Eastern is computed here with
//! the US daylight-saving rules (since 2007: second Sunday of March to first
//! Sunday of November; before: first Sunday of April to last Sunday of
//! October), so no time-zone database is needed.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};

/// Hour (US/Eastern) of arXiv's daily submission cut-off.
const CUTOFF_HOUR: u32 = 14;

/// The announcement (listing) day of a paper whose first version was
/// submitted at `submitted`.
pub fn announcement_day(submitted: DateTime<Utc>) -> NaiveDate {
    let local = to_eastern(submitted);
    let mut cutoff = local.date();
    if local.time() >= NaiveTime::from_hms_opt(CUTOFF_HOUR, 0, 0).unwrap_or(NaiveTime::MIN) {
        cutoff = cutoff.succ_opt().unwrap_or(cutoff);
    }
    next_weekday_after(first_weekday_from(cutoff))
}

/// [`announcement_day`] when only the submission's date is known (the
/// `arXiv` metadata format's `<created>`): the submission is taken to have
/// made that day's cut-off.
pub fn announcement_day_of_date(submitted_on: NaiveDate) -> NaiveDate {
    next_weekday_after(first_weekday_from(submitted_on))
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

fn first_weekday_from(mut d: NaiveDate) -> NaiveDate {
    while is_weekend(d) {
        match d.succ_opt() {
            Some(next) => d = next,
            None => break,
        }
    }
    d
}

fn next_weekday_after(d: NaiveDate) -> NaiveDate {
    match d.succ_opt() {
        Some(next) => first_weekday_from(next),
        None => d,
    }
}

/// US/Eastern wall-clock time of an instant (the instant itself in the
/// first hours chrono can represent, which have no earlier wall clock).
fn to_eastern(t: DateTime<Utc>) -> NaiveDateTime {
    let hours = if in_us_dst(t) { 4 } else { 5 };
    t.naive_utc().checked_sub_signed(Duration::hours(hours)).unwrap_or(t.naive_utc())
}

/// Whether US daylight-saving time is in force at `t` (changes at 02:00 local).
fn in_us_dst(t: DateTime<Utc>) -> bool {
    let year = t.year();
    let (start, end) = if year >= 2007 {
        (nth_sunday(year, 3, 2), nth_sunday(year, 11, 1))
    } else {
        (nth_sunday(year, 4, 1), last_sunday(year, 10))
    };
    let (Some(start), Some(end)) = (start, end) else { return false };
    // 02:00 EST is 07:00 UTC; 02:00 EDT is 06:00 UTC.
    let starts = start.and_hms_opt(7, 0, 0).map(|d| d.and_utc());
    let ends = end.and_hms_opt(6, 0, 0).map(|d| d.and_utc());
    matches!((starts, ends), (Some(s), Some(e)) if t >= s && t < e)
}

fn nth_sunday(year: i32, month: u32, n: u32) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Sun, n as u8)
}

fn last_sunday(year: i32, month: u32) -> Option<NaiveDate> {
    (1..=5).rev().find_map(|n| NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Sun, n))
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn before_the_cutoff_is_announced_the_next_weekday() {
        // Tue 5 Mar 2024 13:59 EST (18:59 UTC): announced Tue evening, listed Wed.
        assert_eq!(announcement_day(utc(2024, 3, 5, 18, 59)), ymd(2024, 3, 6));
        // 14:00 EST exactly misses it: listed Thu.
        assert_eq!(announcement_day(utc(2024, 3, 5, 19, 0)), ymd(2024, 3, 7));
    }

    #[test]
    fn friday_afternoon_and_weekends_wait_for_monday_cutoff() {
        // Fri 8 Mar 2024 15:00 EST: Monday's cut-off, listed Tue 12 Mar.
        assert_eq!(announcement_day(utc(2024, 3, 8, 20, 0)), ymd(2024, 3, 12));
        // Fri before the cut-off: announced Sunday evening, listed Mon.
        assert_eq!(announcement_day(utc(2024, 3, 8, 15, 0)), ymd(2024, 3, 11));
        // Saturday and Sunday: listed Tue.
        assert_eq!(announcement_day(utc(2024, 3, 9, 12, 0)), ymd(2024, 3, 12));
        assert_eq!(announcement_day(utc(2024, 3, 10, 23, 0)), ymd(2024, 3, 12));
    }

    #[test]
    fn daylight_saving_moves_the_cutoff_in_utc() {
        // Summer: cut-off is 18:00 UTC. Wed 3 Jul 2024 17:30 UTC = 13:30 EDT.
        assert_eq!(announcement_day(utc(2024, 7, 3, 17, 30)), ymd(2024, 7, 4));
        assert_eq!(announcement_day(utc(2024, 7, 3, 18, 30)), ymd(2024, 7, 5));
        // Winter: 18:30 UTC = 13:30 EST, still in time.
        assert_eq!(announcement_day(utc(2024, 1, 10, 18, 30)), ymd(2024, 1, 11));
        // Thu 03:00 UTC is Wed 22:00 EST: after Wednesday's cut-off, so Thursday's, listed Fri.
        assert_eq!(announcement_day(utc(2024, 1, 11, 3, 0)), ymd(2024, 1, 12));
        // Old rules: 2005's DST began on 3 April.
        assert!(!in_us_dst(utc(2005, 3, 20, 12, 0)));
        assert!(in_us_dst(utc(2005, 4, 4, 12, 0)));
        assert!(in_us_dst(utc(2024, 3, 10, 7, 0)) && !in_us_dst(utc(2024, 3, 10, 6, 59)));
    }

    #[test]
    fn matches_an_arxiv_datestamp() {
        // 0801.3673v1: "Wed, 23 Jan 2008 21:06:41 GMT"; arXiv's datestamp 2008-01-25.
        assert_eq!(announcement_day(utc(2008, 1, 23, 21, 6)), ymd(2008, 1, 25));
    }

    #[test]
    fn date_only_submissions_assume_the_cutoff_was_made() {
        assert_eq!(announcement_day_of_date(ymd(2014, 12, 29)), ymd(2014, 12, 30));
        assert_eq!(announcement_day_of_date(ymd(2024, 3, 8)), ymd(2024, 3, 11));
        assert_eq!(announcement_day_of_date(ymd(2024, 3, 9)), ymd(2024, 3, 12));
    }
}
