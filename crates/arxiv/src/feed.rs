//! Reading an arXiv API response body: a quick scan of the feed head
//! (OpenSearch counts, and arXiv's "Error" entry, which is how the API
//! reports a bad request) followed by the entries, parsed by
//! `paperboy-ingest`'s Atom importer so that papers fetched here are exactly
//! the papers an import of the same response would give.

use std::io::Cursor;

use chrono::NaiveDate;
use paperboy_core::Paper;
use paperboy_ingest::{Format, ImportOptions, IngestError, Item, Rejection};
use quick_xml::Reader;
use quick_xml::events::Event;

use crate::ArxivError;

/// How `paperboy-ingest` words an entry that is arXiv reporting an error; a
/// fallback for when the head scan did not see it (it normally does).
const INGEST_API_ERROR_PREFIX: &str = "the arXiv API reported an error: ";

/// What the feed says about itself, read before the first entry, plus the
/// message of an error entry if the first entry is one.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct FeedHead {
    pub(crate) total_results: Option<u64>,
    pub(crate) start_index: Option<u64>,
    pub(crate) items_per_page: Option<u64>,
    pub(crate) error: Option<String>,
}

/// A parsed response.
#[derive(Debug)]
pub(crate) struct Feed {
    pub(crate) head: FeedHead,
    pub(crate) papers: Vec<Paper>,
    pub(crate) rejected: Vec<Rejection>,
}

/// Scans the feed up to the end of its first entry. Never fails: a feed it
/// cannot read gives an empty head, and the full parse reports the problem.
pub(crate) fn scan_head(body: &[u8]) -> FeedHead {
    let mut head = FeedHead::default();
    let mut xml = Reader::from_reader(body);
    let mut buf = Vec::new();
    // Local names of the open elements, the root (`feed`) first.
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut text = String::new();
    let (mut entry_id, mut entry_title, mut entry_summary) = (None, None, None);
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                path.push(e.local_name().as_ref().to_vec());
                text.clear();
            }
            Ok(Event::Text(t)) => {
                if let Ok(s) = t.unescape() {
                    text.push_str(&s);
                }
            }
            Ok(Event::CData(c)) => text.push_str(&String::from_utf8_lossy(&c)),
            Ok(Event::End(_)) => {
                let Some(name) = path.pop() else { break };
                let value = std::mem::take(&mut text).trim().to_string();
                match (path.len(), name.as_slice()) {
                    (1, b"totalResults") => head.total_results = value.parse().ok(),
                    (1, b"startIndex") => head.start_index = value.parse().ok(),
                    (1, b"itemsPerPage") => head.items_per_page = value.parse().ok(),
                    (2, b"id") if path[1] == b"entry" => entry_id = Some(value),
                    (2, b"title") if path[1] == b"entry" => entry_title = Some(value),
                    (2, b"summary") if path[1] == b"entry" => entry_summary = Some(value),
                    (1, b"entry") => break,
                    _ => {}
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    if entry_id.is_some_and(|id| id.contains("arxiv.org/api/errors")) {
        let msg = entry_summary.filter(|s| !s.is_empty()).or(entry_title).unwrap_or_default();
        head.error = Some(paperboy_core::text::normalize_ws(&msg));
    }
    head
}

/// Parses a whole response. arXiv's error entry becomes [`ArxivError::Api`];
/// a body that is not an Atom feed is [`ArxivError::Parse`]; entries the
/// importer rejects are returned, not errors (the caller decides).
///
/// Each paper's `listed_on` is the day (UTC) of its `published` date (the
/// first version's submission), else of `updated`, else `today`.
pub(crate) fn parse_feed(body: Vec<u8>, url: &str, today: NaiveDate) -> Result<Feed, ArxivError> {
    let head = scan_head(&body);
    if let Some(msg) = head.error {
        return Err(ArxivError::Api(msg));
    }
    let parse_err = |reason: String| ArxivError::Parse { url: url.to_string(), reason };
    let opts = ImportOptions { listed_on: None, today };
    let records = paperboy_ingest::from_reader(Cursor::new(body), &opts).map_err(|e| match e {
        // Not the importer's list of every format it reads: we only expect Atom.
        IngestError::UnknownFormat { found, .. } => parse_err(format!("expected an Atom feed, got {found}")),
        IngestError::Empty { .. } => parse_err("the response body is empty".to_string()),
        e => parse_err(e.to_string()),
    })?;
    if records.format() != Format::ArxivAtom {
        return Err(parse_err(format!("expected an Atom feed, got {}", records.format())));
    }
    let mut feed = Feed { head, papers: Vec::new(), rejected: Vec::new() };
    for item in records {
        match item {
            Item::Paper(paper) => feed.papers.push(*paper),
            Item::Rejected(r) => match r.reason.strip_prefix(INGEST_API_ERROR_PREFIX) {
                Some(msg) => return Err(ArxivError::Api(msg.to_string())),
                None => feed.rejected.push(r),
            },
            Item::Skipped(r) => tracing::debug!(%url, "arXiv entry skipped: {r}"),
        }
    }
    Ok(feed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/ingest/arxiv-api/");

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{FIXTURES}{name}")).expect("fixture")
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
    }

    #[test]
    fn the_head_gives_counts_and_no_error_for_a_normal_feed() {
        let head = scan_head(&fixture("q_testing_s0_m10_bc5a6c384fe9.atom.xml"));
        assert_eq!(head.items_per_page, Some(10));
        assert_eq!(head.start_index, Some(0));
        assert!(head.total_results.is_some_and(|n| n > 10), "{head:?}");
        assert_eq!(head.error, None);
    }

    #[test]
    fn the_error_entry_is_an_api_error_with_its_message() {
        let head = scan_head(&fixture("id_abc_s0_m100_b79c8dcf6bc3.atom.xml"));
        assert_eq!(head.error.as_deref(), Some("incorrect id format for abc"));
        let err = parse_feed(fixture("id_abc_s0_m100_b79c8dcf6bc3.atom.xml"), "u", today()).unwrap_err();
        assert!(matches!(&err, ArxivError::Api(m) if m == "incorrect id format for abc"), "{err}");
    }

    #[test]
    fn the_old_2016_format_declares_opensearch_on_each_element() {
        let feed = parse_feed(fixture("id_list_1111.2011v2.xml"), "u", today()).unwrap();
        assert_eq!(feed.head.total_results, Some(1));
        assert_eq!(feed.papers.len(), 1);
        assert_eq!(feed.papers[0].version, Some(2));
        assert!(feed.papers[0].title.starts_with("Quantum Criticality for Extended Nodes"));
    }

    #[test]
    fn html_and_broken_bodies_are_parse_errors() {
        let err = parse_feed(b"<html><body>Rate exceeded.</body></html>".to_vec(), "u", today()).unwrap_err();
        assert!(matches!(&err, ArxivError::Parse { reason, .. } if reason.contains("HTML")), "{err}");
        let err = parse_feed(Vec::new(), "u", today()).unwrap_err();
        assert!(matches!(err, ArxivError::Parse { .. }), "{err}");
    }

    #[test]
    fn a_truncated_feed_reports_the_lost_entries() {
        let mut body = fixture("id_1605.08386_s0_m100_199195aa31ad.atom.xml");
        body.truncate(body.len() - 30);
        let feed = parse_feed(body, "u", today()).unwrap();
        assert!(feed.papers.is_empty());
        assert_eq!(feed.rejected.len(), 1, "{:?}", feed.rejected);
    }
}
