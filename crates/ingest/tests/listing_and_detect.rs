//! Integration tests for plain listing pages and for what `open` and
//! `from_reader` do with any input: compression and format sniffing,
//! file-level errors, progress counting.

use crate::common;

use std::io::{BufReader, Cursor};

use common::{collect, fixture, import, opts, ymd};
use paperboy_core::PaperId;
use paperboy_ingest::{Format, ImportOptions, IngestError, Records};

#[test]
fn the_trending_page_yields_exactly_its_73_papers() {
    let records = paperboy_ingest::open(&fixture("listing/trending-page.txt"), &opts()).unwrap();
    assert_eq!(records.format(), Format::Listing);
    assert_eq!(records.format().to_string(), "plain listing");
    let out = collect(records);
    assert_eq!(out.papers.len(), 73, "rejected: {:?}", out.rejected);
    assert!(out.rejected.is_empty() && out.skipped.is_empty());

    let first = &out.papers[0];
    assert_eq!(
        first.title,
        "On the Road to Clarity: Exploring Explainable AI for World Models in a Driver Assistance System"
    );
    assert!(first.abstract_text.starts_with("In Autonomous Driving (AD) transparency and safety are paramount"));
    assert_eq!(first.id, PaperId::local_from_title(&first.title));
    assert!(first.id.is_local());
    assert!(first.authors.is_empty());
    // "Mar 11" with today = 2025-06-02 is 2025-03-11.
    assert_eq!(first.listed_on, ymd(2025, 3, 11));
    assert_eq!(out.papers[1].title, "Monotone deep Boltzmann machines");
    let last = out.papers.last().unwrap();
    assert_eq!(last.links.code.as_deref(), Some("https://github.com/badripatro/mamba360"));
    // No chrome became a paper.
    for chrome in ["new", "Subscribe", "Get trending papers in your email inbox!", "byAK and the research community"] {
        assert!(out.papers.iter().all(|p| p.title != chrome), "{chrome}");
    }
}

#[test]
fn listing_dates_follow_options() {
    let before_march = ImportOptions { listed_on: None, today: ymd(2025, 2, 1) };
    let out = collect(paperboy_ingest::open(&fixture("listing/trending-page.txt"), &before_march).unwrap());
    assert!(out.papers.iter().all(|p| p.listed_on == ymd(2024, 3, 11)));
    let forced = ImportOptions { listed_on: Some(ymd(2023, 7, 7)), ..opts() };
    let out = collect(paperboy_ingest::open(&fixture("listing/trending-page.txt"), &forced).unwrap());
    assert!(out.papers.iter().all(|p| p.listed_on == ymd(2023, 7, 7)));
}

#[test]
fn listing_rejections_name_the_title_paragraph() {
    let page = std::fs::read_to_string(fixture("listing/trending-page.txt")).unwrap();
    // Shorten the second paper's abstract to one sentence.
    let mut lines: Vec<&str> = page.lines().collect();
    assert_eq!(lines[14], "Monotone deep Boltzmann machines");
    lines[16] = "Deep Boltzmann machines are multi-layered probabilistic models that we study here.";
    let text = lines.join("\n");
    let out = collect(paperboy_ingest::from_reader(Cursor::new(text.into_bytes()), &opts()).unwrap());
    assert_eq!(out.papers.len(), 72);
    assert_eq!(out.rejected.len(), 1);
    assert_eq!(out.rejected[0].location, "paragraph at line 15");
    assert!(out.rejected[0].reason.contains("\"Monotone deep Boltzmann machines\""), "{}", out.rejected[0].reason);
    assert_eq!(&out.sequence[..3], "PRP");
}

#[test]
fn from_reader_sniffs_compression_and_format_on_a_stream() {
    let bytes = std::fs::read(fixture("jsonl/sample-200.jsonl.zst")).unwrap();
    let len = bytes.len() as u64;
    // A reader that hands out small pieces still works (magic bytes split).
    let reader = BufReader::with_capacity(3, Cursor::new(bytes));
    let mut records = paperboy_ingest::from_reader(reader, &opts()).unwrap();
    assert_eq!(records.format(), Format::ArxivJsonl);
    let out = collect(records.by_ref());
    assert_eq!(out.papers.len(), 200);
    assert_eq!(records.bytes_read(), len);

    let gz = std::fs::read(fixture("oai-pmh/arxivsync_arXivRaw_47001.xml.gz")).unwrap();
    let records = paperboy_ingest::from_reader(Cursor::new(gz), &opts()).unwrap();
    assert_eq!(records.format(), Format::OaiPmh);
    assert_eq!(records.format().to_string(), "OAI-PMH ListRecords");
}

#[test]
fn progress_grows_while_reading() {
    let mut records = paperboy_ingest::open(&fixture("jsonl/sample-200.jsonl"), &opts()).unwrap();
    let total = std::fs::metadata(fixture("jsonl/sample-200.jsonl")).unwrap().len();
    let at_start = records.bytes_read();
    assert!(at_start > 0 && at_start <= total);
    assert_eq!(records.by_ref().count(), 200);
    assert_eq!(records.bytes_read(), total);
}

#[test]
fn records_can_move_to_another_thread() {
    fn assert_send<T: Send>(_: &T) {}
    let records: Records = paperboy_ingest::open(&fixture("kaggle/kaggle-snapshot.jsonl"), &opts()).unwrap();
    assert_send(&records);
    let n = std::thread::spawn(move || records.count()).join().unwrap();
    assert_eq!(n, 6);
}

#[test]
fn file_level_errors_say_what_is_wrong() {
    let missing = fixture("no/such/file.jsonl");
    let err = paperboy_ingest::open(&missing, &opts()).unwrap_err();
    assert!(matches!(err, IngestError::Open { .. }));
    assert!(err.to_string().contains("no/such/file.jsonl"), "{err}");

    let err = paperboy_ingest::open(&fixture("broken"), &opts()).unwrap_err();
    assert!(err.to_string().contains("directory"), "{err}");

    let err = paperboy_ingest::open(&fixture("broken/empty.txt"), &opts()).unwrap_err();
    assert!(matches!(err, IngestError::Empty { .. }), "{err}");
    assert!(err.to_string().contains("empty.txt is empty"), "{err}");

    let err = paperboy_ingest::from_reader(Cursor::new(b"\x00\x01binary".to_vec()), &opts()).unwrap_err();
    assert!(matches!(err, IngestError::UnknownFormat { .. }), "{err}");
    assert!(err.to_string().contains("the input is not in a format Paperboy can import"), "{err}");
    assert!(err.to_string().contains("OAI-PMH"), "lists what is expected: {err}");

    // A gzip header that is not followed by a valid stream.
    let err = paperboy_ingest::from_reader(Cursor::new(b"\x1f\x8b\x08\x00garbage".to_vec()), &opts()).unwrap_err();
    assert!(matches!(err, IngestError::Read { .. }), "{err}");
}

#[test]
fn compressed_xml_and_listing_inputs_work_too() {
    // Compress the trending page with zstd in memory: sniffing is by content.
    let text = std::fs::read(fixture("listing/trending-page.txt")).unwrap();
    let packed = zstd::encode_all(Cursor::new(text), 3).unwrap();
    let out = collect(paperboy_ingest::from_reader(Cursor::new(packed), &opts()).unwrap());
    assert_eq!(out.papers.len(), 73);
    let plain = import("listing/trending-page.txt");
    assert_eq!(out.papers, plain.papers);
}
