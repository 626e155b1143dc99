//! Date parsing for the formats arXiv uses: RFC 2822 (`Mon, 2 Apr 2007
//! 19:18:42 GMT` in the Kaggle snapshot and arXivRaw), RFC 3339 (Atom),
//! `YYYY-MM-DD`, and the `Mar 11` day headers of listing pages.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/// `Jan`, `january`, `Sept` ... to 1..=12.
pub(crate) fn month_number(name: &str) -> Option<u32> {
    if name.len() < 3 || !name.is_ascii() {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    let i = MONTHS.iter().position(|m| lower.starts_with(m))?;
    const FULL: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    // Accept the abbreviation, "Sept", or the full name; nothing else.
    let ok = lower.len() == 3 || lower == FULL[i] || (i == 8 && lower == "sept");
    ok.then_some(i as u32 + 1)
}

/// Parses an RFC 2822 date such as `Mon, 2 Apr 2007 19:18:42 GMT`.
///
/// Lenient where arXiv data needs it: the weekday is optional and not
/// checked, seconds are optional, two-digit years are accepted (RFC 2822's
/// obsolete syntax), and the zone may be numeric (`+0100`), `GMT`/`UT`/`UTC`/`Z`
/// or a US zone name. Returns `None` for anything else.
pub(crate) fn parse_rfc2822(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let s = match s.split_once(',') {
        Some((_, rest)) => rest,
        None => s,
    };
    let mut parts = s.split_whitespace();
    let day: u32 = parts.next()?.parse().ok()?;
    let month = month_number(parts.next()?)?;
    let year_s = parts.next()?;
    let mut year: i32 = year_s.parse().ok()?;
    if year_s.len() == 2 {
        year += if year < 50 { 2000 } else { 1900 };
    } else if year_s.len() == 3 {
        year += 1900;
    }
    let time = parts.next()?;
    let mut hms = time.split(':');
    let h: u32 = hms.next()?.parse().ok()?;
    let m: u32 = hms.next()?.parse().ok()?;
    let sec: u32 = match hms.next() {
        Some(x) => x.parse().ok()?,
        None => 0,
    };
    if hms.next().is_some() {
        return None;
    }
    let offset_minutes = match parts.next() {
        None => 0,
        Some(zone) => zone_offset_minutes(zone)?,
    };
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let time = NaiveTime::from_hms_opt(h, m, sec.min(59))?;
    let local = NaiveDateTime::new(date, time);
    let utc = local.checked_sub_signed(chrono::TimeDelta::minutes(i64::from(offset_minutes)))?;
    Some(Utc.from_utc_datetime(&utc))
}

fn zone_offset_minutes(zone: &str) -> Option<i32> {
    let named = match zone.to_ascii_uppercase().as_str() {
        "GMT" | "UT" | "UTC" | "Z" => Some(0),
        "EST" => Some(-5 * 60),
        "EDT" => Some(-4 * 60),
        "CST" => Some(-6 * 60),
        "CDT" => Some(-5 * 60),
        "MST" => Some(-7 * 60),
        "MDT" => Some(-6 * 60),
        "PST" => Some(-8 * 60),
        "PDT" => Some(-7 * 60),
        _ => None,
    };
    if named.is_some() {
        return named;
    }
    let (sign, digits) = match zone.as_bytes().first()? {
        b'+' => (1, &zone[1..]),
        b'-' => (-1, &zone[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hh: i32 = digits[..2].parse().ok()?;
    let mm: i32 = digits[2..].parse().ok()?;
    if mm >= 60 {
        return None;
    }
    Some(sign * (hh * 60 + mm))
}

/// Parses `YYYY-MM-DD`, also when followed by a time (`2008-11-13T...`).
pub(crate) fn parse_ymd(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let head = s.get(..10)?;
    if s.len() > 10 && !matches!(s.as_bytes()[10], b'T' | b't' | b' ') {
        return None;
    }
    NaiveDate::parse_from_str(head, "%Y-%m-%d").ok()
}

/// A date (`YYYY-MM-DD`) as midnight UTC, for sources that give only the day.
pub(crate) fn ymd_as_datetime(s: &str) -> Option<DateTime<Utc>> {
    parse_ymd(s).map(|d| Utc.from_utc_datetime(&d.and_time(NaiveTime::MIN)))
}

/// Parses an RFC 3339 timestamp (`2021-04-20T16:07:14Z`, `...-04:00`).
pub(crate) fn parse_rfc3339(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim()).ok().map(|d| d.with_timezone(&Utc))
}

/// Parses a listing-page day header: `Mar 11`, `March 11`, `Mar 11, 2024`.
///
/// Without a year, the year is chosen so that the date is the most recent
/// one not after `today`. Returns `None` if the line is not a day header.
pub(crate) fn parse_day_header(line: &str, today: NaiveDate) -> Option<NaiveDate> {
    let line = line.trim();
    if line.len() > 20 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let month = month_number(parts.next()?.trim_end_matches('.'))?;
    let day_s = parts.next()?;
    let (day_s, has_comma) = match day_s.strip_suffix(',') {
        Some(d) => (d, true),
        None => (day_s, false),
    };
    if day_s.is_empty() || day_s.len() > 2 || !day_s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let day: u32 = day_s.parse().ok()?;
    match parts.next() {
        Some(year_s) => {
            if parts.next().is_some() || year_s.len() != 4 || !year_s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            NaiveDate::from_ymd_opt(year_s.parse().ok()?, month, day)
        }
        None if has_comma => None,
        None => {
            // The most recent such date not after today; Feb 29 may need to
            // go back a few years.
            (0..8).find_map(|back| NaiveDate::from_ymd_opt(today.year() - back, month, day).filter(|d| *d <= today))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn rfc2822_as_arxiv_writes_it() {
        let d = parse_rfc2822("Mon, 2 Apr 2007 19:18:42 GMT").unwrap();
        assert_eq!(d.to_rfc3339(), "2007-04-02T19:18:42+00:00");
        let d = parse_rfc2822("Wed, 23 Jan 2008 21:06:41 GMT").unwrap();
        assert_eq!(d.to_rfc3339(), "2008-01-23T21:06:41+00:00");
    }

    #[test]
    fn rfc2822_variants() {
        // Wrong weekday is tolerated, no weekday at all too.
        assert_eq!(parse_rfc2822("Fri, 2 Apr 2007 19:18:42 GMT"), parse_rfc2822("2 Apr 2007 19:18:42 GMT"));
        assert_eq!(parse_rfc2822("Tue, 10 Nov 2009 09:00 -0500").unwrap().to_rfc3339(), "2009-11-10T14:00:00+00:00");
        assert_eq!(parse_rfc2822("1 Jan 99 00:00:00 +0130").unwrap().to_rfc3339(), "1998-12-31T22:30:00+00:00");
        assert_eq!(parse_rfc2822("3 Feb 2010 12:00:00 EST").unwrap().to_rfc3339(), "2010-02-03T17:00:00+00:00");
        assert_eq!(parse_rfc2822("3 Feb 2010 12:00:00").unwrap().to_rfc3339(), "2010-02-03T12:00:00+00:00");
    }

    #[test]
    fn rfc2822_rejects_nonsense() {
        for bad in [
            "",
            "Mon,",
            "2 Foo 2007 19:18:42 GMT",
            "31 Feb 2007 19:18:42 GMT",
            "2 Apr 2007 25:18:42 GMT",
            "2 Apr 2007 19:18:42 XYZ",
            "2 Apr 2007 19:18:42 +01",
            "2 Apr 2007",
            "2007-04-02",
            "31 Dec 262143 23:00:00 -0500",
        ] {
            assert_eq!(parse_rfc2822(bad), None, "{bad}");
        }
    }

    #[test]
    fn iso_dates() {
        assert_eq!(parse_ymd("2008-11-13"), Some(ymd(2008, 11, 13)));
        assert_eq!(parse_ymd("2008-11-13T10:00:00Z"), Some(ymd(2008, 11, 13)));
        assert_eq!(parse_ymd("2008-13-13"), None);
        assert_eq!(parse_ymd("2008-11-1"), None);
        assert_eq!(parse_ymd("2008-11-134"), None);
        assert_eq!(parse_rfc3339("2016-10-09T00:00:00-04:00").unwrap().to_rfc3339(), "2016-10-09T04:00:00+00:00");
    }

    #[test]
    fn day_headers_pick_the_most_recent_year() {
        let today = ymd(2024, 3, 20);
        assert_eq!(parse_day_header("Mar 11", today), Some(ymd(2024, 3, 11)));
        assert_eq!(parse_day_header("Dec 31", today), Some(ymd(2023, 12, 31)));
        assert_eq!(parse_day_header("Mar 20", today), Some(ymd(2024, 3, 20)));
        assert_eq!(parse_day_header("Mar 21", today), Some(ymd(2023, 3, 21)));
        assert_eq!(parse_day_header("Feb 29", ymd(2023, 6, 1)), Some(ymd(2020, 2, 29)));
        assert_eq!(parse_day_header("March 11, 2019", today), Some(ymd(2019, 3, 11)));
        assert_eq!(parse_day_header("Sept 3", today), Some(ymd(2023, 9, 3)));
        for not in ["Mar", "Mar 111", "Mar 32", "Subscribe", "May the force", "Mar 11,", "Marc 1"] {
            assert_eq!(parse_day_header(not, today), None, "{not}");
        }
    }
}
