//! When a recurring job (the arXiv harvest, the email digests) runs next: a
//! local wall-clock time in an IANA time zone, on every day, on weekdays, or
//! on one day of the week.
//!
//! Pure arithmetic on instants, so it is tested without waiting. Daylight
//! saving is handled the way people expect of an alarm clock: a time that
//! does not exist on a day (the spring-forward gap) fires at the first
//! instant after the gap; a time that happens twice (the autumn fold) fires
//! once, at its first occurrence.

use chrono::{DateTime, Datelike, Days as ChronoDays, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

use crate::error::CoreError;

/// Which days a [`Schedule`] fires on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Days {
    /// Every day of the week.
    Every,
    /// Monday to Friday.
    Weekdays,
    /// Once a week, on this day.
    Weekly(Weekday),
}

impl Days {
    fn includes(self, day: Weekday) -> bool {
        match self {
            Days::Every => true,
            Days::Weekdays => !matches!(day, Weekday::Sat | Weekday::Sun),
            Days::Weekly(d) => d == day,
        }
    }
}

/// A local time of day in a time zone, on some days of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub at: NaiveTime,
    pub tz: Tz,
    pub days: Days,
}

impl Schedule {
    /// `at` is `HH:MM` (24-hour clock), `tz` an IANA name such as
    /// `Europe/Berlin` or `UTC`.
    pub fn parse(at: &str, tz: &str, days: Days) -> Result<Schedule, CoreError> {
        let at = NaiveTime::parse_from_str(at.trim(), "%H:%M")
            .map_err(|_| CoreError::BadSchedule { input: at.to_string(), why: "use a 24-hour time such as 07:30" })?;
        let tz = tz.trim().parse::<Tz>().map_err(|_| CoreError::BadSchedule {
            input: tz.to_string(),
            why: "use an IANA time zone name such as UTC, Europe/Berlin or America/New_York",
        })?;
        Ok(Schedule { at, tz, days })
    }

    /// The first instant strictly after `now` at which the schedule fires.
    pub fn next_after(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        // Start from the local day before `now` (a fold can put the previous
        // day's firing after `now` in UTC terms) and walk forward; eight days
        // always cover a full week plus that margin.
        let today = now.with_timezone(&self.tz).date_naive();
        let mut day = today.pred_opt().unwrap_or(today);
        for _ in 0..9 {
            if self.days.includes(day.weekday()) {
                let fire = self.fire_on(day);
                if fire > now {
                    return fire;
                }
            }
            day = day.checked_add_days(ChronoDays::new(1)).unwrap_or(day);
        }
        // Unreachable for any of the `Days` variants; a day later is the
        // safest answer if arithmetic at the end of time ever gets here.
        now + chrono::Duration::days(1)
    }

    /// The local day's firing instant, resolving gaps and folds.
    fn fire_on(&self, day: NaiveDate) -> DateTime<Utc> {
        let local = day.and_time(self.at);
        match self.tz.from_local_datetime(&local) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
            LocalResult::None => {
                // In a gap: step forward minute by minute to the first valid
                // local time (gaps are at most a few hours).
                let mut probe = local;
                for _ in 0..(24 * 60) {
                    probe += chrono::Duration::minutes(1);
                    if let Some(t) = self.tz.from_local_datetime(&probe).earliest() {
                        return t.with_timezone(&Utc);
                    }
                }
                Utc.from_utc_datetime(&local)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn fires_later_today_or_tomorrow() {
        let s = Schedule::parse("07:30", "UTC", Days::Every).unwrap();
        assert_eq!(s.next_after(utc("2026-11-27T06:00:00Z")), utc("2026-11-27T07:30:00Z"));
        assert_eq!(s.next_after(utc("2026-11-27T07:30:00Z")), utc("2026-11-28T07:30:00Z"));
    }

    #[test]
    fn weekdays_skip_the_weekend() {
        let s = Schedule::parse("08:00", "UTC", Days::Weekdays).unwrap();
        // Friday 2026-11-27 after 08:00 -> Monday 2026-11-30.
        assert_eq!(s.next_after(utc("2026-11-27T09:00:00Z")), utc("2026-11-30T08:00:00Z"));
    }

    #[test]
    fn weekly_fires_on_its_day() {
        let s = Schedule::parse("06:00", "UTC", Days::Weekly(Weekday::Mon)).unwrap();
        assert_eq!(s.next_after(utc("2026-11-30T06:00:00Z")), utc("2026-12-07T06:00:00Z"));
        assert_eq!(s.next_after(utc("2026-11-27T12:00:00Z")), utc("2026-11-30T06:00:00Z"));
    }

    #[test]
    fn local_time_follows_the_zone_and_daylight_saving() {
        let s = Schedule::parse("20:00", "America/New_York", Days::Every).unwrap();
        // Winter: UTC-5; summer: UTC-4.
        assert_eq!(s.next_after(utc("2026-01-10T00:00:00Z")), utc("2026-01-10T01:00:00Z"));
        assert_eq!(s.next_after(utc("2026-07-10T12:00:00Z")), utc("2026-07-11T00:00:00Z"));
    }

    #[test]
    fn a_time_in_the_spring_gap_fires_after_the_gap() {
        // Europe/Berlin skipped 02:00-03:00 on 2026-03-29.
        let s = Schedule::parse("02:30", "Europe/Berlin", Days::Every).unwrap();
        assert_eq!(s.next_after(utc("2026-03-28T12:00:00Z")), utc("2026-03-29T01:00:00Z"));
    }

    #[test]
    fn a_time_in_the_autumn_fold_fires_once() {
        // Europe/Berlin repeated 02:00-03:00 on 2026-10-25.
        let s = Schedule::parse("02:30", "Europe/Berlin", Days::Every).unwrap();
        let first = s.next_after(utc("2026-10-24T12:00:00Z"));
        assert_eq!(first, utc("2026-10-25T00:30:00Z"));
        // After the first firing, the next is the following day, not the repeat.
        assert_eq!(s.next_after(first), utc("2026-10-26T01:30:00Z"));
    }

    #[test]
    fn bad_input_is_explained() {
        let e = Schedule::parse("25:00", "UTC", Days::Every).unwrap_err();
        assert!(e.to_string().contains("24-hour"), "{e}");
        let e = Schedule::parse("07:00", "Mars/Olympus", Days::Every).unwrap_err();
        assert!(e.to_string().contains("IANA"), "{e}");
    }
}
