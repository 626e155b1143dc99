//! Measures parse throughput: imports a file with `paperboy_ingest::open`
//! and prints records per second (parsing, normalising and validating; no
//! store). Run with
//! `cargo run --release -p paperboy-ingest --example throughput -- <file>`.

use std::time::Instant;

use paperboy_ingest::{ImportOptions, Item};

fn main() {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: throughput <file>");
        std::process::exit(2);
    };
    let opts = ImportOptions { listed_on: None, today: chrono::Utc::now().date_naive() };
    let start = Instant::now();
    let mut records = match paperboy_ingest::open(std::path::Path::new(&path), &opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let (mut papers, mut rejected, mut skipped) = (0u64, 0u64, 0u64);
    for item in records.by_ref() {
        match item {
            Item::Paper(_) => papers += 1,
            Item::Rejected(r) => {
                rejected += 1;
                if rejected <= 5 {
                    eprintln!("rejected {r}");
                }
            }
            Item::Skipped(_) => skipped += 1,
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let total = papers + rejected + skipped;
    println!(
        "{}: {} papers, {} rejected, {} skipped in {:.2} s: {:.0} records/s, {:.1} MB/s of input",
        records.format(),
        papers,
        rejected,
        skipped,
        secs,
        total as f64 / secs,
        records.bytes_read() as f64 / secs / 1e6,
    );
}
