//! Feed periods (a day, an ISO week, a month) and feed orderings.
//!
//! URLs name periods as `2026-03-11`, `2026-W11` and `2026-03`; each period
//! knows its half-open date range and its neighbours.

use std::fmt;

use chrono::{Datelike, Duration, IsoWeek, NaiveDate, Weekday};

use crate::error::CoreError;

/// A span of days that a feed page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeedPeriod {
    Day(NaiveDate),
    /// An ISO 8601 week (Monday to Sunday).
    Week {
        year: i32,
        week: u32,
    },
    Month {
        year: i32,
        month: u32,
    },
}

impl FeedPeriod {
    /// Parses `YYYY-MM-DD`.
    pub fn parse_day(s: &str) -> Result<Self, CoreError> {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .ok()
            .filter(|d| (1990..=9999).contains(&d.year()) && s.trim().len() == 10)
            .map(FeedPeriod::Day)
            .ok_or_else(|| bad(s, "date", "write it as YYYY-MM-DD, e.g. 2026-03-11"))
    }

    /// Parses `YYYY-Www` (ISO week), e.g. `2026-W11`.
    pub fn parse_week(s: &str) -> Result<Self, CoreError> {
        let why = "write it as YYYY-Www with week 01 to 53, e.g. 2026-W11";
        let t = s.trim();
        let (y, w) = t.split_once(['-']).ok_or_else(|| bad(s, "week", why))?;
        let w = w.strip_prefix(['W', 'w']).ok_or_else(|| bad(s, "week", why))?;
        if y.len() != 4 || w.len() != 2 {
            return Err(bad(s, "week", why));
        }
        let year: i32 = y.parse().map_err(|_| bad(s, "week", why))?;
        let week: u32 = w.parse().map_err(|_| bad(s, "week", why))?;
        if !(1990..=9999).contains(&year) {
            return Err(bad(s, "week", why));
        }
        NaiveDate::from_isoywd_opt(year, week, Weekday::Mon)
            .map(|_| FeedPeriod::Week { year, week })
            .ok_or_else(|| bad(s, "week", "that year has no such ISO week"))
    }

    /// Parses `YYYY-MM`.
    pub fn parse_month(s: &str) -> Result<Self, CoreError> {
        let why = "write it as YYYY-MM, e.g. 2026-03";
        let t = s.trim();
        let (y, m) = t.split_once('-').ok_or_else(|| bad(s, "month", why))?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad(s, "month", why));
        }
        let year: i32 = y.parse().map_err(|_| bad(s, "month", why))?;
        let month: u32 = m.parse().map_err(|_| bad(s, "month", why))?;
        if !(1990..=9999).contains(&year) || !(1..=12).contains(&month) {
            return Err(bad(s, "month", why));
        }
        Ok(FeedPeriod::Month { year, month })
    }

    /// The week that contains `d`.
    pub fn week_of(d: NaiveDate) -> Self {
        let w: IsoWeek = d.iso_week();
        FeedPeriod::Week { year: w.year(), week: w.week() }
    }

    /// The month that contains `d`.
    pub fn month_of(d: NaiveDate) -> Self {
        FeedPeriod::Month { year: d.year(), month: d.month() }
    }

    /// First day of the period (inclusive).
    pub fn start(&self) -> NaiveDate {
        match *self {
            FeedPeriod::Day(d) => d,
            FeedPeriod::Week { year, week } => {
                NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).expect("validated week")
            }
            FeedPeriod::Month { year, month } => NaiveDate::from_ymd_opt(year, month, 1).expect("validated month"),
        }
    }

    /// The day after the period (exclusive end).
    pub fn end(&self) -> NaiveDate {
        match *self {
            FeedPeriod::Day(d) => d + Duration::days(1),
            FeedPeriod::Week { .. } => self.start() + Duration::days(7),
            FeedPeriod::Month { .. } => self.next().start(),
        }
    }

    /// The period before this one, of the same kind.
    pub fn prev(&self) -> Self {
        match *self {
            FeedPeriod::Day(d) => FeedPeriod::Day(d - Duration::days(1)),
            FeedPeriod::Week { .. } => FeedPeriod::week_of(self.start() - Duration::days(7)),
            FeedPeriod::Month { year, month: 1 } => FeedPeriod::Month { year: year - 1, month: 12 },
            FeedPeriod::Month { year, month } => FeedPeriod::Month { year, month: month - 1 },
        }
    }

    /// The period after this one, of the same kind.
    pub fn next(&self) -> Self {
        match *self {
            FeedPeriod::Day(d) => FeedPeriod::Day(d + Duration::days(1)),
            FeedPeriod::Week { .. } => FeedPeriod::week_of(self.start() + Duration::days(7)),
            FeedPeriod::Month { year, month: 12 } => FeedPeriod::Month { year: year + 1, month: 1 },
            FeedPeriod::Month { year, month } => FeedPeriod::Month { year, month: month + 1 },
        }
    }

    /// `day`, `week` or `month`.
    pub fn kind(&self) -> &'static str {
        match self {
            FeedPeriod::Day(_) => "day",
            FeedPeriod::Week { .. } => "week",
            FeedPeriod::Month { .. } => "month",
        }
    }

    /// The path segment under `/papers/`: `date/2026-03-11`, `week/2026-W11`, `month/2026-03`.
    pub fn path(&self) -> String {
        match self {
            FeedPeriod::Day(_) => format!("date/{self}"),
            FeedPeriod::Week { .. } => format!("week/{self}"),
            FeedPeriod::Month { .. } => format!("month/{self}"),
        }
    }

    /// A heading for people: `Wednesday, 11 March 2026`, `Week 11, 2026`, `March 2026`.
    pub fn label(&self) -> String {
        match *self {
            FeedPeriod::Day(d) => d.format("%A, %-d %B %Y").to_string(),
            FeedPeriod::Week { year, week } => {
                let (s, e) = (self.start(), self.end() - Duration::days(1));
                format!("Week {week}, {year} ({} – {})", s.format("%-d %b"), e.format("%-d %b"))
            }
            FeedPeriod::Month { .. } => self.start().format("%B %Y").to_string(),
        }
    }
}

impl fmt::Display for FeedPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FeedPeriod::Day(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            FeedPeriod::Week { year, week } => write!(f, "{year}-W{week:02}"),
            FeedPeriod::Month { year, month } => write!(f, "{year}-{month:02}"),
        }
    }
}

fn bad(input: &str, what: &'static str, why: &'static str) -> CoreError {
    CoreError::BadPeriod { input: input.chars().take(40).collect(), what, why }
}

/// How a feed is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FeedSort {
    /// Most recently listed first, then by arXiv id descending.
    #[default]
    New,
    /// By the trending score (votes against age, see [`crate::ranking`]),
    /// highest first; ties as documented there.
    Trending,
    /// Most upvotes in the period first, then as `New`.
    Top,
}

impl FeedSort {
    pub const ALLOWED: &'static str = "new, trending, top";

    /// Parses `new`, `trending` or `top` (any case); the empty string is
    /// `new`, and the Hugging Face spellings `date`, `publishedAt` and
    /// `upvotes` are understood too.
    pub fn parse(s: &str) -> Result<Self, CoreError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "new" | "date" | "publishedat" => Ok(FeedSort::New),
            "trending" => Ok(FeedSort::Trending),
            "top" | "upvotes" | "votes" => Ok(FeedSort::Top),
            _ => Err(CoreError::BadSort { input: s.chars().take(40).collect(), allowed: Self::ALLOWED }),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            FeedSort::New => "new",
            FeedSort::Trending => "trending",
            FeedSort::Top => "top",
        }
    }

    /// Every ordering, in the order a sort menu lists them.
    pub const ALL: [FeedSort; 3] = [FeedSort::Trending, FeedSort::New, FeedSort::Top];
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn days_weeks_months_parse_and_print() {
        assert_eq!(FeedPeriod::parse_day("2026-03-11").unwrap().to_string(), "2026-03-11");
        assert_eq!(FeedPeriod::parse_week("2026-w11").unwrap().to_string(), "2026-W11");
        assert_eq!(FeedPeriod::parse_month("2026-03").unwrap().to_string(), "2026-03");
        for bad in ["2026-3-11", "2026-02-30", "yesterday", "", "12026-01-01"] {
            assert!(FeedPeriod::parse_day(bad).is_err(), "{bad}");
        }
        for bad in ["2026-W54", "2025-W53", "2026-11", "2026W11", "2026-W1"] {
            assert!(FeedPeriod::parse_week(bad).is_err(), "{bad}");
        }
        assert!(FeedPeriod::parse_week("2026-W53").is_ok(), "2026 has 53 ISO weeks");
        for bad in ["2026-13", "2026-00", "2026", "26-03"] {
            assert!(FeedPeriod::parse_month(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ranges_and_neighbours() {
        let w = FeedPeriod::parse_week("2026-W11").unwrap();
        assert_eq!(w.start(), d(2026, 3, 9));
        assert_eq!(w.end(), d(2026, 3, 16));
        assert_eq!(FeedPeriod::week_of(d(2026, 3, 11)), w);
        assert_eq!(FeedPeriod::parse_week("2026-W01").unwrap().prev().to_string(), "2025-W52");
        assert_eq!(FeedPeriod::parse_week("2026-W53").unwrap().next().to_string(), "2027-W01");
        let m = FeedPeriod::parse_month("2025-12").unwrap();
        assert_eq!(m.end(), d(2026, 1, 1));
        assert_eq!(m.next().to_string(), "2026-01");
        assert_eq!(FeedPeriod::parse_month("2026-01").unwrap().prev().to_string(), "2025-12");
        let day = FeedPeriod::Day(d(2026, 3, 1));
        assert_eq!(day.prev().to_string(), "2026-02-28");
        assert_eq!(day.path(), "date/2026-03-01");
        assert_eq!(day.label(), "Sunday, 1 March 2026");
    }

    #[test]
    fn sorts() {
        assert_eq!(FeedSort::parse("NEW").unwrap(), FeedSort::New);
        assert_eq!(FeedSort::parse("").unwrap(), FeedSort::New);
        assert_eq!(FeedSort::parse(" Trending ").unwrap(), FeedSort::Trending);
        assert_eq!(FeedSort::parse("upvotes").unwrap(), FeedSort::Top);
        for s in FeedSort::ALL {
            assert_eq!(FeedSort::parse(s.as_str()).unwrap(), s);
        }
        assert!(FeedSort::parse("best").unwrap_err().to_string().contains("use one of new, trending, top"));
    }
}
