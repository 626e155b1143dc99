//! Integration tests for the XML importers: arXiv API Atom feeds (current
//! and 2016 format, errors, empty results, damage) and OAI-PMH pages
//! (`arXiv` and `arXivRaw` formats, deleted records, errors, paging info).

use crate::common;

use std::io::Read;

use common::{collect, fixture, import, opts, ymd};
use paperboy_ingest::{Format, ImportOptions, IngestError, OaiPageInfo, oai_page_info};

#[test]
fn every_recorded_api_response_imports_as_its_index_says() {
    let index = std::fs::read_to_string(fixture("arxiv-api/INDEX.tsv")).unwrap();
    let mut checked = 0;
    for row in index.lines().skip(1) {
        let file = row.split('\t').next().unwrap();
        let text = std::fs::read_to_string(fixture(&format!("arxiv-api/{file}"))).unwrap();
        let entries = text.matches("<entry>").count();
        let records = paperboy_ingest::open(&fixture(&format!("arxiv-api/{file}")), &opts()).unwrap();
        assert_eq!(records.format(), Format::ArxivAtom, "{file}");
        let out = collect(records);
        if file.starts_with("id_abc") {
            assert_eq!(out.sequence, "R", "{file}");
        } else {
            assert_eq!(out.papers.len(), entries, "{file}: {:?}", out.rejected);
            assert!(out.rejected.is_empty(), "{file}: {:?}", out.rejected);
        }
        checked += 1;
    }
    assert_eq!(checked, 24);
}

#[test]
fn a_single_entry_has_all_its_fields() {
    let out = import("arxiv-api/id_2104.12255v1_s0_m100_6ae69987ffe1.atom.xml");
    assert_eq!(out.papers.len(), 1);
    let p = &out.papers[0];
    assert_eq!(p.id.to_string(), "2104.12255");
    assert_eq!(p.version, Some(1));
    assert_eq!(p.title, "0");
    assert_eq!(p.authors, vec!["Quan Thoi Minh Nguyen"]);
    assert!(p.abstract_text.starts_with("What is the funniest number in cryptography? 0."));
    assert_eq!(p.primary_category.as_deref(), Some("cs.CR"));
    assert_eq!(p.categories, vec!["cs.CR"]);
    assert_eq!(p.submitted_at.unwrap().to_rfc3339(), "2021-04-20T16:07:14+00:00");
    assert_eq!(p.listed_on, ymd(2021, 4, 20));
}

#[test]
fn old_style_ids_and_affiliations() {
    let out = import("arxiv-api/id_astro-ph_0601001_s0_m100_3150dca9dc76.atom.xml");
    let p = &out.papers[0];
    assert_eq!(p.id.to_string(), "astro-ph/0601001");
    assert_eq!(p.version, Some(1));
    assert_eq!(p.authors, vec!["Andrew Gould", "Susan Dorsher", "B. Scott Gaudi", "Andrzej Udalski"]);
    assert_eq!(p.journal_ref.as_deref(), Some("ActaAstron.56:1-50,2006"));
    assert!(p.abstract_text.contains("V_max<17.5"), "entities are unescaped");
}

#[test]
fn the_2016_format_with_inline_namespaces() {
    let out = import("arxiv-api/id_list_1111.2011v2.xml");
    assert_eq!(out.papers.len(), 1);
    let p = &out.papers[0];
    assert_eq!(p.id.to_string(), "1111.2011");
    assert_eq!(p.version, Some(2));
    assert_eq!(p.title, "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit");
    assert_eq!(p.authors, vec!["James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic"]);
    assert_eq!(p.doi.as_deref(), Some("10.1103/PhysRevB.85.115117"));
    assert_eq!(p.comment.as_deref(), Some("8 pages, 3 figures. Published version"));
    assert_eq!(p.journal_ref.as_deref(), Some("Phys. Rev. B 85, 115117 (2012)"));
    assert_eq!(p.primary_category.as_deref(), Some("cond-mat.str-el"));
    assert_eq!(p.categories, vec!["cond-mat.str-el", "cond-mat.stat-mech"]);
    assert_eq!(p.submitted_at.unwrap().to_rfc3339(), "2011-11-08T18:48:36+00:00");
    assert_eq!(p.updated_at.unwrap().to_rfc3339(), "2012-04-02T12:38:54+00:00");
    assert_eq!(p.listed_on, ymd(2011, 11, 8));

    let o = ImportOptions { listed_on: Some(ymd(2024, 5, 6)), ..opts() };
    let forced = collect(paperboy_ingest::open(&fixture("arxiv-api/id_list_1111.2011v2.xml"), &o).unwrap());
    assert_eq!(forced.papers[0].listed_on, ymd(2024, 5, 6));
}

#[test]
fn api_errors_are_rejected_with_the_api_message_and_empty_feeds_are_empty() {
    let out = import("arxiv-api/id_abc_s0_m100_b79c8dcf6bc3.atom.xml");
    assert_eq!(out.rejected.len(), 1);
    assert_eq!(out.rejected[0].location, "entry 1");
    assert_eq!(out.rejected[0].reason, "the arXiv API reported an error: incorrect id format for abc");
    let empty = import("arxiv-api/id_0000.0000_s0_m100_8b51d9633a68.atom.xml");
    assert_eq!(empty.sequence, "");
}

#[test]
fn a_search_page_keeps_order() {
    let out = import("arxiv-api/q_testing_s0_m10_bc5a6c384fe9.atom.xml");
    let ids: Vec<String> = out.papers.iter().map(|p| p.id.to_string()).collect();
    assert_eq!(ids[..4], ["2202.12139", "2405.13786", "2005.14124", "2204.08348"]);
    assert_eq!(out.papers[4].title, "ChatGPT and Software Testing Education: Promises & Perils");
    assert_eq!(out.papers[2].version, Some(2));
    assert_eq!(out.papers[3].authors[0], "Myeongsoo Kim");
}

#[test]
fn truncated_atom_keeps_the_entries_before_the_cut() {
    let out = import("broken/atom-truncated.xml");
    assert_eq!(out.sequence, "PPPR");
    assert_eq!(out.rejected[0].location, "entry 4");
    assert!(out.rejected[0].reason.starts_with("XML ended inside <entry>"), "{}", out.rejected[0].reason);
}

#[test]
fn invalid_utf8_in_one_entry_spoils_only_that_entry() {
    let out = import("broken/atom-bad-utf8-entry.xml");
    assert_eq!(out.sequence, "PRPPPPPPPP");
    assert_eq!(out.rejected[0].location, "entry 2");
    assert!(out.rejected[0].reason.contains("UTF-8"), "{}", out.rejected[0].reason);
}

#[test]
fn arxiv_format_list_records() {
    let records =
        paperboy_ingest::open(&fixture("oai-pmh/listrecords-should-list-identifiers-from-arxiv.1.xml"), &opts())
            .unwrap();
    assert_eq!(records.format(), Format::OaiPmh);
    let out = collect(records);
    assert_eq!(out.sequence, "PP");
    let p = &out.papers[0];
    assert_eq!(p.id.to_string(), "1412.8544");
    assert_eq!(p.authors, vec!["Sander Uijlen", "Bas Westerbaan"]);
    assert_eq!(p.title, "A Kochen-Specker system has at least 22 vectors (extended abstract)");
    assert_eq!(p.categories, vec!["cs.DM"]);
    assert_eq!(p.journal_ref.as_deref(), Some("EPTCS 172, 2014, pp. 154-164"));
    assert_eq!(p.doi.as_deref(), Some("10.4204/EPTCS.172.11"));
    assert_eq!(p.comment.as_deref(), Some("In Proceedings QPL 2014, arXiv:1412.8102"));
    assert_eq!(p.submitted_at.unwrap().to_rfc3339(), "2014-12-29T00:00:00+00:00");
    assert_eq!(p.listed_on, ymd(2014, 12, 29));
    assert!(p.abstract_text.starts_with("At the heart of the Conway-Kochen Free Will theorem"));
    let old = &out.papers[1];
    assert_eq!(old.id.to_string(), "hep-th/9504118");
    assert_eq!(old.authors, vec!["M. Requardt"]);
    assert!(old.abstract_text.contains("the \"strength\" of the bonds"));
}

#[test]
fn get_record_yields_its_one_record() {
    let out = import("oai-pmh/getrecord-should-get-a-record.0.xml");
    assert_eq!(out.sequence, "P");
    assert_eq!(out.papers[0].id.to_string(), "1412.8544");
}

#[test]
fn the_gzipped_arxivraw_page_yields_1000_papers() {
    let path = fixture("oai-pmh/arxivsync_arXivRaw_47001.xml.gz");
    let mut records = paperboy_ingest::open(&path, &opts()).unwrap();
    assert_eq!(records.format(), Format::OaiPmh);
    let out = collect(records.by_ref());
    assert_eq!(out.papers.len(), 1000, "rejected: {:?}", out.rejected);
    assert!(out.rejected.is_empty() && out.skipped.is_empty());
    assert_eq!(records.bytes_read(), std::fs::metadata(&path).unwrap().len());

    let first = &out.papers[0];
    assert_eq!(first.id.to_string(), "0801.3673");
    assert_eq!(first.title, "Variational Functionals for Excited States");
    assert_eq!(first.authors, vec!["Naoum C. Bacalis"]);
    assert_eq!(first.version, Some(1));
    assert_eq!(first.submitted_at.unwrap().to_rfc3339(), "2008-01-23T21:06:41+00:00");
    assert_eq!(first.listed_on, ymd(2008, 1, 23));

    let second = &out.papers[1];
    assert_eq!(second.id.to_string(), "0801.3674");
    assert_eq!(second.version, Some(4));
    assert_eq!(second.title, "A Study of Structure Formation and Reheating in the D3/D7 Brane Inflation Model");
    assert_eq!(second.authors, vec!["Robert H. Brandenberger", "Keshav Dasgupta", "Anne-Christine Davis"]);
    assert_eq!(second.categories, vec!["hep-th", "astro-ph", "gr-qc", "hep-ph"]);
    assert_eq!(second.submitted_at.unwrap().to_rfc3339(), "2008-01-23T21:13:53+00:00");
    assert_eq!(second.updated_at.unwrap().to_rfc3339(), "2008-09-11T22:03:53+00:00");
    assert_eq!(second.journal_ref.as_deref(), Some("Phys.Rev.D78:083502,2008"));

    let last = out.papers.last().unwrap();
    assert_eq!(last.authors, vec!["Chiara Menotti", "Nandini Trivedi"]);
    assert_eq!(last.doi.as_deref(), Some("10.1103/PhysRevB.77.235120"));
}

#[test]
fn deleted_records_are_skipped_and_foreign_formats_rejected() {
    let out = import("oai-pmh/handmade-listrecords-deleted-and-dc.xml");
    assert_eq!(out.sequence, "SPR");
    assert_eq!(out.skipped[0].location, "record 1 (oai:arXiv.org:0804.2273)");
    assert_eq!(out.skipped[0].reason, "deleted upstream");
    let p = &out.papers[0];
    assert_eq!(p.id.to_string(), "2403.01234");
    assert_eq!(p.version, Some(3));
    assert_eq!(p.title, "Sparse & Efficient Attention for Long Documents");
    assert_eq!(p.authors, vec!["Jane Roe", "John Doe", "Mary Major"]);
    assert_eq!(p.submitted_at.unwrap().to_rfc3339(), "2024-03-01T17:59:59+00:00");
    assert_eq!(p.updated_at.unwrap().to_rfc3339(), "2024-03-10T12:30:00+00:00");
    assert_eq!(p.listed_on, ymd(2024, 3, 1));
    assert_eq!(p.links.code.as_deref(), Some("https://github.com/jroe/sparse-attn"));
    assert_eq!(out.rejected[0].location, "record 3 (oai:example.org:42)");
    assert!(out.rejected[0].reason.contains("<oai_dc:dc> is not supported"), "{}", out.rejected[0].reason);
}

#[test]
fn truncated_oai_keeps_the_records_before_the_cut() {
    let out = import("broken/oai-truncated.xml");
    assert_eq!(out.sequence, "PPPR");
    assert_eq!(out.rejected[0].location, "record 4 (oai:arXiv.org:0801.3676)");
    assert!(out.rejected[0].reason.starts_with("XML ended inside <record>"), "{}", out.rejected[0].reason);
}

#[test]
fn oai_errors_are_file_errors_except_no_records_match() {
    let err = paperboy_ingest::open(&fixture("oai-pmh/handmade-error-badResumptionToken.xml"), &opts()).unwrap_err();
    match &err {
        IngestError::Oai { code, message, .. } => {
            assert_eq!(code, "badResumptionToken");
            assert_eq!(message, "The value of the resumptionToken argument is invalid or expired.");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("restart the harvest"), "{err}");

    let none = import("oai-pmh/handmade-error-noRecordsMatch.xml");
    assert_eq!(none.sequence, "");
}

#[test]
fn responses_without_records_say_what_they_are() {
    for (file, verb) in [
        ("oai-pmh/identify-should-identify-arxiv.0.xml", "Identify"),
        (
            "oai-pmh/listidentifiers-should-list-identifiers-with-resumption-token-from-exlibris.0.xml",
            "ListIdentifiers",
        ),
        (
            "oai-pmh/listidentifiers-should-list-identifiers-with-resumption-token-from-gulbenkian.1.xml",
            "ListIdentifiers",
        ),
    ] {
        let err = paperboy_ingest::open(&fixture(file), &opts()).unwrap_err();
        assert!(matches!(&err, IngestError::NotRecords { verb: v, .. } if v == verb), "{file}: {err}");
        assert!(err.to_string().contains("verb=ListRecords"), "{err}");
    }
    // The 503 "Retry after" body recorded with the ListRecords request.
    let err = paperboy_ingest::open(&fixture("oai-pmh/listrecords-should-list-identifiers-from-arxiv.0.xml"), &opts())
        .unwrap_err();
    assert!(err.to_string().contains("HTML page"), "{err}");
}

fn page(rel: &str) -> OaiPageInfo {
    let mut bytes = Vec::new();
    let file = std::fs::File::open(fixture(rel)).unwrap();
    if rel.ends_with(".gz") {
        flate2::read::GzDecoder::new(file).read_to_end(&mut bytes).unwrap();
    } else {
        std::io::BufReader::new(file).read_to_end(&mut bytes).unwrap();
    }
    oai_page_info(&bytes).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn page_info_reads_resumption_tokens() {
    assert_eq!(
        page("oai-pmh/arxivsync_arXivRaw_47001.xml.gz"),
        OaiPageInfo {
            resumption_token: Some("496549|47001".into()),
            complete_list_size: Some(907_096),
            cursor: Some(46_000),
            error: None,
        }
    );
    assert_eq!(
        page("oai-pmh/listidentifiers-should-list-identifiers-with-resumption-token-from-exlibris.0.xml"),
        OaiPageInfo {
            resumption_token: Some("2017-01-01@2017-01-03@oai_komplett@marc21@15180036410002201".into()),
            ..OaiPageInfo::default()
        }
    );
    assert_eq!(
        page("oai-pmh/listidentifiers-should-list-identifiers-with-resumption-token-from-exlibris.1.xml"),
        OaiPageInfo::default()
    );
    assert_eq!(
        page("oai-pmh/listidentifiers-should-list-identifiers-with-resumption-token-from-gulbenkian.0.xml"),
        OaiPageInfo {
            resumption_token: Some("oai_dc/2016-01-01T00:00:00Z/2017-01-01T00:00:00Z//100".into()),
            complete_list_size: Some(154),
            cursor: Some(0),
            error: None,
        }
    );
    // The last page: an empty token element means the list is complete.
    assert_eq!(
        page("oai-pmh/listidentifiers-should-list-identifiers-with-resumption-token-from-gulbenkian.1.xml"),
        OaiPageInfo { resumption_token: None, complete_list_size: Some(154), cursor: Some(1), error: None }
    );
    assert_eq!(
        page("oai-pmh/handmade-error-noRecordsMatch.xml").error.map(|(code, _)| code),
        Some("noRecordsMatch".to_string())
    );
    let err = oai_page_info(b"<html><body><h1>Retry after 10 seconds</h1></body></html>").unwrap_err();
    assert!(err.to_string().contains("Retry after"), "{err}");
}
