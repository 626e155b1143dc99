//! Robustness: every fixture cut off at many points and with bytes flipped
//! still imports without panicking, and whatever papers come out are valid.

use crate::common;

use std::io::Cursor;

use common::{fixture, opts};
use paperboy_ingest::Item;

const FIXTURES: &[&str] = &[
    "jsonl/sample-200.jsonl.zst",
    "kaggle/kaggle-snapshot.jsonl",
    "arxiv-api/q_testing_s0_m10_bc5a6c384fe9.atom.xml",
    "arxiv-api/id_list_1111.2011v2.xml",
    "oai-pmh/listrecords-should-list-identifiers-from-arxiv.1.xml",
    "oai-pmh/handmade-listrecords-deleted-and-dc.xml",
    "listing/trending-page.txt",
];

/// Imports `bytes`; returns (papers, other items), or `None` if the input
/// was refused as a whole. Panics if a yielded paper is invalid.
fn run(bytes: Vec<u8>) -> Option<(usize, usize)> {
    let records = paperboy_ingest::from_reader(Cursor::new(bytes), &opts()).ok()?;
    let (mut papers, mut others) = (0, 0);
    for item in records {
        match item {
            Item::Paper(p) => {
                assert!(p.validate().is_ok(), "invalid paper yielded: {p:?}");
                assert!(!p.title.is_empty());
                papers += 1;
            }
            Item::Rejected(r) | Item::Skipped(r) => {
                assert!(!r.location.is_empty() && !r.reason.is_empty(), "{r:?}");
                others += 1;
            }
        }
    }
    Some((papers, others))
}

#[test]
fn truncated_anywhere_never_yields_more_than_the_whole() {
    for rel in FIXTURES {
        let bytes = std::fs::read(fixture(rel)).unwrap();
        let (whole, _) = run(bytes.clone()).unwrap_or_else(|| panic!("{rel} refused"));
        assert!(whole > 0, "{rel}");
        let step = (bytes.len() / 60).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            if let Some((papers, _)) = run(bytes[..cut].to_vec()) {
                assert!(papers <= whole, "{rel} cut at {cut}: {papers} > {whole}");
            }
        }
    }
}

#[test]
fn flipped_bytes_never_panic_or_yield_invalid_papers() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as usize
    };
    let mut imported = 0;
    for rel in FIXTURES {
        let bytes = std::fs::read(fixture(rel)).unwrap();
        for _ in 0..25 {
            let mut mangled = bytes.clone();
            for _ in 0..8 {
                let at = next() % mangled.len();
                mangled[at] = [b'<', b'>', b'"', b'{', b'\n', 0xff, b'&', b' '][next() % 8];
            }
            if let Some((papers, _)) = run(mangled) {
                imported += papers;
            }
        }
    }
    // Most damage is local: plenty of papers still get through.
    assert!(imported > 1000, "{imported}");
}
