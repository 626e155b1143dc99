//! Integration tests for the JSON-lines importers (arXiv JSONL and the
//! Kaggle snapshot), including compressed inputs and damaged lines.

use crate::common;

use common::{collect, fixture, import, opts, ymd};
use paperboy_ingest::{Format, ImportOptions};

#[test]
fn arxiv_jsonl_sample_imports_every_record_with_its_fields() {
    let records = paperboy_ingest::open(&fixture("jsonl/sample-200.jsonl"), &opts()).unwrap();
    assert_eq!(records.format(), Format::ArxivJsonl);
    let out = collect(records);
    assert_eq!(out.papers.len(), 200, "rejected: {:?}", out.rejected);
    assert!(out.rejected.is_empty() && out.skipped.is_empty());

    let first = &out.papers[0];
    assert_eq!(first.id.to_string(), "2503.11731");
    assert!(first.title.starts_with("Industrial-Grade Sensor Simulation via Gaussian Splatting"));
    assert_eq!(first.authors.len(), 16);
    assert_eq!(&first.authors[..3], ["Xianming Zeng", "Sicong Du", "Qifeng Chen"]);
    assert_eq!(first.authors[15], "Qiang Li");
    assert_eq!(first.primary_category.as_deref(), Some("cs.CV"));
    assert_eq!(first.categories, vec!["cs.CV", "cs.RO"]);
    assert_eq!(first.comment, None);
    assert_eq!(first.listed_on, ymd(2025, 3, 18));
    assert_eq!(first.version, None);
    // The abstract's hard line breaks are normalised away.
    assert!(
        first
            .abstract_text
            .starts_with("Sensor simulation is pivotal for scalable validation of autonomous driving systems, yet")
    );
    assert!(!first.abstract_text.contains('\n'));

    let second = &out.papers[1];
    assert_eq!(second.authors[0], "Moreno D'Incà");
    assert_eq!(second.comment.as_deref(), Some("Work in progress"));
    assert_eq!(second.categories, vec!["cs.CV", "cs.AI"]);

    let last = &out.papers[199];
    assert_eq!(last.id.to_string(), "2503.12969");
    assert_eq!(last.authors, vec!["Kazuki Omi", "Jion Oshima", "Toru Tamaki"]);
    assert_eq!(last.comment.as_deref(), Some("extended version of VISAPP2025"));
}

#[test]
fn zstd_copy_gives_the_same_papers_and_counts_compressed_bytes() {
    let plain = import("jsonl/sample-200.jsonl");
    let path = fixture("jsonl/sample-200.jsonl.zst");
    let mut records = paperboy_ingest::open(&path, &opts()).unwrap();
    assert_eq!(records.format(), Format::ArxivJsonl);
    let size = std::fs::metadata(&path).unwrap().len();
    let mut papers = Vec::new();
    for item in records.by_ref() {
        if let paperboy_ingest::Item::Paper(p) = item {
            papers.push(*p);
        }
    }
    assert_eq!(papers, plain.papers);
    assert_eq!(records.bytes_read(), size, "bytes_read counts the compressed file");
}

#[test]
fn listing_date_of_the_record_wins_over_the_option() {
    let o = ImportOptions { listed_on: Some(ymd(2030, 1, 1)), ..opts() };
    let out = collect(paperboy_ingest::open(&fixture("jsonl/sample-200.jsonl"), &o).unwrap());
    assert!(out.papers.iter().all(|p| p.listed_on == ymd(2025, 3, 18)));
}

#[test]
fn a_line_cut_in_half_is_rejected_and_the_rest_imported() {
    let out = import("broken/jsonl-cut-line.jsonl");
    assert_eq!(out.sequence, "PRPPP");
    assert_eq!(out.rejected[0].location, "line 2");
    assert!(out.rejected[0].reason.starts_with("invalid JSON: EOF while parsing"), "{}", out.rejected[0].reason);
    let ids: Vec<String> = out.papers.iter().map(|p| p.id.to_string()).collect();
    assert_eq!(ids[0], "2503.11731");
    assert_eq!(ids.len(), 4);
}

#[test]
fn invalid_utf8_spoils_only_its_line() {
    let out = import("broken/jsonl-bad-utf8.jsonl");
    assert_eq!(out.sequence, "PPRPP");
    assert_eq!(out.rejected[0].location, "line 3");
    assert!(out.rejected[0].reason.contains("invalid UTF-8"), "{}", out.rejected[0].reason);
}

#[test]
fn unknown_id_styles_are_rejected_with_cores_reason() {
    let out = import("broken/jsonl-unknown-id.jsonl");
    // Line 5 is blank and ignored; line 7 has no title.
    assert_eq!(out.sequence, "PRRRPR");
    let locs: Vec<&str> = out.rejected.iter().map(|r| r.location.as_str()).collect();
    assert_eq!(locs, ["line 2", "line 3", "line 4", "line 7"]);
    assert!(out.rejected[0].reason.contains("\"abc\" is not an arXiv identifier"), "{}", out.rejected[0].reason);
    assert!(out.rejected[1].reason.contains("unknown archive"), "{}", out.rejected[1].reason);
    assert!(out.rejected[2].reason.contains("five digits"), "{}", out.rejected[2].reason);
    assert_eq!(out.rejected[3].reason, "invalid paper: the title is empty");
}

#[test]
fn a_gzip_stream_cut_off_reports_a_read_error_after_the_good_lines() {
    let out = import("broken/sample-200-truncated.jsonl.gz");
    assert!(out.papers.len() > 50, "{} papers", out.papers.len());
    assert!(out.papers.len() < 200);
    // Possibly one half line rejected as invalid JSON, then the read error last.
    let last = out.rejected.last().expect("a read error");
    assert!(last.reason.starts_with("read error:"), "{last}");
    assert!(out.sequence.ends_with('R'));
    let n = out.papers.len() as u64;
    assert!(last.location == format!("line {}", n + 1) || last.location == format!("line {}", n + 2), "{last}");
}

#[test]
fn kaggle_snapshot_is_detected_and_mapped() {
    let records = paperboy_ingest::open(&fixture("kaggle/kaggle-snapshot.jsonl"), &opts()).unwrap();
    assert_eq!(records.format(), Format::KaggleJsonl);
    assert_eq!(records.format().to_string(), "Kaggle arXiv snapshot");
    let out = collect(records);
    assert_eq!(out.papers.len(), 6, "{:?}", out.rejected);

    let p = &out.papers[0];
    assert_eq!(p.id.to_string(), "0704.0001");
    assert_eq!(p.title, "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies");
    assert_eq!(p.authors, vec!["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan"]);
    assert_eq!(p.version, Some(2));
    assert_eq!(p.submitted_at.unwrap().to_rfc3339(), "2007-04-02T19:18:42+00:00");
    assert_eq!(p.updated_at.unwrap().to_rfc3339(), "2007-07-24T20:10:27+00:00");
    assert_eq!(p.listed_on, ymd(2007, 4, 2));
    assert_eq!(p.categories, vec!["hep-ph"]);
    assert_eq!(p.journal_ref.as_deref(), Some("Phys.Rev.D76:013009,2007"));
    assert_eq!(p.doi.as_deref(), Some("10.1103/PhysRevD.76.013009"));

    let p = &out.papers[1];
    assert_eq!(p.doi, None);
    assert_eq!(p.primary_category.as_deref(), Some("math.CO"));
    assert_eq!(p.categories, vec!["math.CO", "cs.CG"]);

    let old = &out.papers[2];
    assert_eq!(old.id.to_string(), "hep-ph/0001001");
    assert!(old.id.arxiv().unwrap().is_old_style());
    assert_eq!(old.authors, vec!["M. Rossi", "J. Smith Jr", "K. Tanaka"]);
    assert_eq!(old.version, Some(1));
    assert_eq!(old.submitted_at, old.updated_at);

    let tex = &out.papers[3];
    assert_eq!(
        tex.title,
        "The $\\mathcal{N}=4$ super Yang-Mills theory on $S^3 \\times \\mathbb{R}$ at strong coupling"
    );
    assert_eq!(tex.version, Some(3));
    assert_eq!(tex.categories, vec!["hep-th", "math-ph", "math.MP"]);
    assert_eq!(tex.comment, None);

    let withdrawn = &out.papers[4];
    assert!(withdrawn.withdrawn);
    assert!(!out.papers[0].withdrawn);

    let split = &out.papers[5];
    assert_eq!(split.authors, vec!["A. Smith", "B. Jones", "C. Wu"]);
    assert_eq!(split.links.code.as_deref(), Some("https://github.com/asmith/noisy-rank"));
    assert_eq!(split.listed_on, ymd(2014, 12, 31));
}

#[test]
fn kaggle_listed_on_option_wins() {
    let o = ImportOptions { listed_on: Some(ymd(2024, 1, 8)), ..opts() };
    let out = collect(paperboy_ingest::open(&fixture("kaggle/kaggle-snapshot.jsonl"), &o).unwrap());
    assert_eq!(out.papers.len(), 6);
    assert!(out.papers.iter().all(|p| p.listed_on == ymd(2024, 1, 8)));
}
