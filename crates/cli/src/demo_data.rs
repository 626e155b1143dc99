//! The demo data set, compiled into the binary so that `paperboy demo` works
//! from any directory with nothing else on disk. See `data/demo/README.md`.
//!
//! The seed page is Hugging Face's Trending Papers as it was on 11 March
//! 2026: each of its papers' place on it is recorded as a signal
//! ([`record_seed_ranks`]), so that the demo's day reads in the page's order
//! and each card says "#N on Trending Papers".

use anyhow::{Result, bail};
use chrono::{NaiveDate, Utc};
use paperboy_core::PaperId;
use paperboy_ingest::Item;
use paperboy_store::Signals;

/// The name the seed page's ranks are recorded under.
pub const SEED_PAGE: &str = "Trending Papers";

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

/// The seed page's papers in the page's order (rank 1 first).
pub fn seed_order() -> Result<Vec<PaperId>> {
    let seed = &files()[0];
    let opts = crate::commands::import::options(seed.listed_on);
    let records = paperboy_ingest::from_reader(std::io::Cursor::new(seed.bytes), &opts)?;
    Ok(records
        .filter_map(|item| match item {
            Item::Paper(p) => Some(p.id),
            _ => None,
        })
        .collect())
}

/// Records each seed paper's rank on [`SEED_PAGE`] (replacing what was
/// recorded, so running the demo again changes nothing). Returns how many
/// were recorded; the seed papers must have been imported first.
pub async fn record_seed_ranks(store: &dyn Signals) -> Result<u32> {
    let now = Utc::now();
    let mut recorded = 0;
    for (i, id) in seed_order()?.iter().enumerate() {
        if store.record_source_rank(id, SEED_PAGE, i as u32 + 1, now).await? {
            recorded += 1;
        }
    }
    if recorded == 0 {
        bail!("none of the seed page's papers is in the catalog; import the demo data first");
    }
    Ok(recorded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_page_has_its_73_papers_in_order() {
        let order = seed_order().unwrap();
        assert_eq!(order.len(), 73);
        assert_eq!(
            order[0],
            PaperId::local_from_title(
                "On the Road to Clarity: Exploring Explainable AI for World Models in a Driver Assistance System"
            )
        );
        assert_eq!(order[1], PaperId::local_from_title("Monotone deep Boltzmann machines"));
    }
}
