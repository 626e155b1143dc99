//! Helpers shared by the integration tests: fixture paths, options, and
//! running an import to completion.

#![allow(dead_code)]

use std::path::PathBuf;

use chrono::NaiveDate;
use paperboy_core::Paper;
use paperboy_ingest::{ImportOptions, Item, Rejection};

/// A file under `tests/fixtures/ingest/` at the workspace root.
pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/ingest/")).join(rel)
}

pub fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

/// Options with no forced listing date and a fixed "today".
pub fn opts() -> ImportOptions {
    ImportOptions { listed_on: None, today: ymd(2025, 6, 2) }
}

/// Everything an import yielded, sorted by kind (order kept within a kind).
#[derive(Debug, Default)]
pub struct Outcome {
    pub papers: Vec<Paper>,
    pub rejected: Vec<Rejection>,
    pub skipped: Vec<Rejection>,
    /// The kinds in yield order: 'P', 'R', 'S'.
    pub sequence: String,
}

pub fn collect(items: impl Iterator<Item = Item>) -> Outcome {
    let mut out = Outcome::default();
    for item in items {
        match item {
            Item::Paper(p) => {
                out.sequence.push('P');
                out.papers.push(*p);
            }
            Item::Rejected(r) => {
                out.sequence.push('R');
                out.rejected.push(r);
            }
            Item::Skipped(r) => {
                out.sequence.push('S');
                out.skipped.push(r);
            }
        }
    }
    out
}

/// Opens a fixture with [`opts`] and runs it to the end.
pub fn import(rel: &str) -> Outcome {
    let records = paperboy_ingest::open(&fixture(rel), &opts()).unwrap_or_else(|e| panic!("{rel}: {e}"));
    collect(records)
}
