//! The demo data set, compiled into the binary so that `paperboy demo` works
//! from any directory with nothing else on disk. See `data/demo/README.md`.

use chrono::NaiveDate;

/// A file of the demo set.
pub struct DemoFile {
    pub name: &'static str,
    pub bytes: &'static [u8],
    /// The feed day for records that carry none of their own.
    pub listed_on: Option<NaiveDate>,
}

/// The seed page (dated 11 March 2026), then the most recent month of arXiv.
pub fn files() -> [DemoFile; 2] {
    [
        DemoFile {
            name: "trending-page.txt",
            bytes: include_bytes!("../../../data/demo/trending-page.txt"),
            listed_on: NaiveDate::from_ymd_opt(2026, 3, 11),
        },
        DemoFile {
            name: "arxiv-2026-06.jsonl.zst",
            bytes: include_bytes!("../../../data/demo/arxiv-2026-06.jsonl.zst"),
            listed_on: None,
        },
    ]
}
