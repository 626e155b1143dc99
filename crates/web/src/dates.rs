//! The timestamps that pages, feeds and the API derive from a paper.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use paperboy_core::Paper;

/// Midnight UTC at the start of `d`.
pub fn day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// When the paper was published: its first submission, or the day we
/// listed it when the source did not say.
pub fn published_at(p: &Paper) -> DateTime<Utc> {
    p.submitted_at.unwrap_or_else(|| day_start(p.listed_on))
}

/// The last time the paper changed as far as a feed reader cares: its
/// latest version or the day it was listed, whichever is later.
pub fn last_change(p: &Paper) -> DateTime<Utc> {
    let listed = day_start(p.listed_on);
    p.updated_at.or(p.submitted_at).map_or(listed, |t| t.max(listed))
}

/// RFC 3339 with milliseconds and `Z`, as Hugging Face's API prints it.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `11 March 2026`.
pub fn human_day(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}
