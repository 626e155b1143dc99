//! Property tests of OAI-PMH page handling: a page is used whole or not at
//! all (any cut before its end is refused), papers are listed on their
//! announcement day, the resumption token is read back as written and goes
//! into the next request as one query argument, and no body makes the
//! parser panic. Cases per property: `PROPTEST_CASES` (64 by default;
//! `bench/fuzz.sh` runs many more).

use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, Utc};
use proptest::prelude::*;
use proptest::test_runner::Config;

use super::{ListRequest, MetadataFormat, OaiClient, check_complete, parse_page};
use crate::ArxivError;
use crate::announce::{announcement_day, announcement_day_of_date};
use crate::client::ArxivSettings;

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64);
    Config { cases, failure_persistence: None, ..Config::default() }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2030, 1, 1).unwrap_or_default()
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// One generated record: an id, the submission time of each version, and
/// whether it was deleted upstream.
#[derive(Debug, Clone)]
struct Rec {
    id: String,
    versions: Vec<DateTime<Utc>>,
    deleted: bool,
}

fn rec() -> impl Strategy<Value = Rec> {
    (
        (15u32..=40, 1u32..=12, 0u32..100_000),
        proptest::collection::vec(1_420_070_400i64..1_893_456_000, 1..4),
        proptest::bool::weighted(0.1),
    )
        .prop_map(|((yy, mm, n), mut secs, deleted)| {
            secs.sort_unstable();
            Rec {
                id: format!("{yy:02}{mm:02}.{n:05}"),
                versions: secs.into_iter().map(|s| DateTime::from_timestamp(s, 0).unwrap_or_default()).collect(),
                deleted,
            }
        })
}

fn record_xml(r: &Rec, format: MetadataFormat) -> String {
    let header = format!(
        "<header{}><identifier>oai:arXiv.org:{}</identifier><datestamp>2024-01-01</datestamp></header>",
        if r.deleted { " status=\"deleted\"" } else { "" },
        r.id
    );
    if r.deleted {
        return format!("<record>{header}</record>\n");
    }
    let body = match format {
        MetadataFormat::ArxivRaw => {
            let versions: String = r
                .versions
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    format!(
                        "<version version=\"v{}\"><date>{}</date></version>",
                        i + 1,
                        d.format("%a, %-d %b %Y %H:%M:%S GMT")
                    )
                })
                .collect();
            format!("<arXivRaw><id>{}</id>{versions}<title>T {}</title><authors>A B</authors></arXivRaw>", r.id, r.id)
        }
        MetadataFormat::Arxiv => format!(
            "<arXiv><id>{}</id><created>{}</created><title>T {}</title></arXiv>",
            r.id,
            r.versions[0].date_naive(),
            r.id
        ),
    };
    format!("<record>{header}<metadata>{body}</metadata></record>\n")
}

fn page(recs: &[Rec], format: MetadataFormat, token: Option<&str>) -> String {
    let records: String = recs.iter().map(|r| record_xml(r, format)).collect();
    let token =
        token.map(|t| format!("<resumptionToken cursor=\"0\" completeListSize=\"5000\">{}</resumptionToken>", xml(t)));
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<OAI-PMH xmlns=\"http://www.openarchives.org/OAI/2.0/\">\
         <responseDate>2024-01-02T00:00:00Z</responseDate><request verb=\"ListRecords\">x</request>\
         <ListRecords>\n{records}{}</ListRecords>\n</OAI-PMH>\n",
        token.unwrap_or_default()
    )
}

fn format() -> impl Strategy<Value = MetadataFormat> {
    prop_oneof![Just(MetadataFormat::Arxiv), Just(MetadataFormat::ArxivRaw)]
}

fn client() -> &'static OaiClient {
    static CLIENT: OnceLock<OaiClient> = OnceLock::new();
    CLIENT.get_or_init(|| {
        OaiClient::with_config(ArxivSettings { base_url: "http://127.0.0.1:9/oai".into(), ..Default::default() })
            .expect("a client for a fixed loopback URL")
    })
}

proptest! {
    #![proptest_config(config())]

    /// A generated page: every record read, papers on their announcement
    /// day, deleted records counted, the token read back.
    #[test]
    fn pages_parse_whole(
        recs in proptest::collection::vec(rec(), 0..6),
        format in format(),
        token in proptest::option::of("[!-~]{1,60}"),
    ) {
        let body = page(&recs, format, token.as_deref());
        let parsed = parse_page(body.into_bytes(), "http://x/oai", format, today())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parsed.records(), recs.len() as u64);
        prop_assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        prop_assert_eq!(parsed.deleted, recs.iter().filter(|r| r.deleted).count() as u64);
        let kept: Vec<&Rec> = recs.iter().filter(|r| !r.deleted).collect();
        prop_assert_eq!(parsed.papers.len(), kept.len());
        for (paper, r) in parsed.papers.iter().zip(kept) {
            prop_assert_eq!(paper.id.to_string(), r.id.clone());
            let expected = match format {
                MetadataFormat::ArxivRaw => announcement_day(r.versions[0]),
                MetadataFormat::Arxiv => announcement_day_of_date(r.versions[0].date_naive()),
            };
            prop_assert_eq!(paper.listed_on, expected);
        }
        prop_assert_eq!(parsed.resumption_token, token.clone());
        prop_assert_eq!(parsed.complete_list_size, token.map(|_| 5000));
    }

    /// A page cut anywhere before the end of its root element is refused
    /// whole: a harvester never checkpoints past records it did not read.
    #[test]
    fn cut_pages_are_refused(recs in proptest::collection::vec(rec(), 1..4), format in format(), cut in any::<prop::sample::Index>()) {
        let body = page(&recs, format, Some("next|1"));
        let end = body.rfind("</OAI-PMH>").unwrap_or(0) + "</OAI-PMH>".len();
        let at = cut.index(end);
        let result = parse_page(body.as_bytes()[..at].to_vec(), "http://x/oai", format, today());
        prop_assert!(matches!(result, Err(ArxivError::Parse { .. })), "cut at {at}: {result:?}");
        prop_assert!(check_complete(&body.as_bytes()[..at]).is_err());
    }

    /// Arbitrary bodies and bodies after an OAI-PMH opening: no panic.
    #[test]
    fn arbitrary_bodies_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024), format in format()) {
        let _ = parse_page(bytes.clone(), "http://x/oai", format, today());
        let mut framed = b"<OAI-PMH><ListRecords><record><header><identifier>oai:arXiv.org:2401.00001</identifier></header><metadata><arXivRaw>".to_vec();
        framed.extend_from_slice(&bytes);
        framed.extend_from_slice(b"</arXivRaw></metadata></record></ListRecords></OAI-PMH>");
        let _ = parse_page(framed, "http://x/oai", format, today());
    }

    /// Generated pages with bytes changed, inserted or removed: no panic,
    /// and never more records than the page has record elements.
    #[test]
    fn mutated_pages_never_panic(
        recs in proptest::collection::vec(rec(), 1..4),
        format in format(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6),
    ) {
        let mut body = page(&recs, format, Some("t")).into_bytes();
        for (at, byte, op) in edits {
            let i = at.index(body.len());
            match op {
                0 => body[i] = byte,
                1 => body.insert(i, byte),
                _ => { body.remove(i); }
            }
        }
        let records = body.windows(7).filter(|w| w == b"<record").count() as u64;
        if let Ok(p) = parse_page(body, "http://x/oai", format, today()) {
            prop_assert!(p.records() <= records + 1, "{} records from {records}", p.records());
        }
    }

    /// A resumption token (or set) goes into the next request as exactly
    /// one query argument, whatever it contains.
    #[test]
    fn tokens_cannot_add_arguments(token in any::<String>(), set in any::<String>()) {
        let url = client().list_url(&ListRequest::default(), Some(&token)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let pairs: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        prop_assert_eq!(pairs, vec![("verb".to_string(), "ListRecords".to_string()), ("resumptionToken".to_string(), token)]);
        let request = ListRequest { set: Some(set.clone()), ..ListRequest::default() };
        let url = client().list_url(&request, None).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let sets: Vec<String> = url.query_pairs().filter(|(k, _)| k == "set").map(|(_, v)| v.into_owned()).collect();
        prop_assert_eq!(sets, if set.is_empty() { vec![] } else { vec![set] });
        prop_assert_eq!(url.query_pairs().count(), if request.set.as_deref() == Some("") { 2 } else { 3 });
    }

    /// Metadata format names: only the two supported ones, in any case.
    #[test]
    fn format_names(s in any::<String>()) {
        match s.parse::<MetadataFormat>() {
            Ok(f) => prop_assert!(s.trim().eq_ignore_ascii_case(f.prefix())),
            Err(e) => prop_assert!(e.contains("arXivRaw")),
        }
    }
}
