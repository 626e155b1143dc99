//! `paperboy import FILE...`: stream records from files into the catalog.
//!
//! Parsing runs on a blocking thread and hands batches to the async side,
//! which writes each batch in one transaction while the next one is parsed:
//! memory stays flat whatever the file size, and a bad record is reported and
//! skipped, never half-written.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::Args;
use paperboy_ingest::{ImportOptions, Item, Records};
use paperboy_store::{Catalog, PaperBatch, UpsertOutcome};
use tokio::sync::mpsc;

use crate::config::Settings;
use crate::progress::bytes_bar;

/// Records written per transaction. Larger transactions write each index
/// page to the WAL fewer times (the title index is filled in random order).
/// Measured on the 74,728-record arXiv file: 5,000 wrote about a fifth faster
/// than 2,000, and 10,000 or 20,000 were not clearly faster than 5,000. At a
/// million records, with the import's larger page cache
/// (`SqliteTuning::IMPORT`), 20,000 took the import from 16.6k to 20.0-21.4k
/// records/s (5,000 with that cache: 16.6k; 20,000 without it: 16.5k): each
/// batch then dirties most pages of the title index once, and the cache
/// keeps them between batches. Four batches in flight hold about 180 MB.
const BATCH: usize = 20_000;
/// Messages (a batch, a rejection, a skip) the parser may run ahead of the
/// writer. With [`BATCH`], four batches are in memory at most (two queued,
/// one being parsed, one being written): about 180 MB of arXiv records.
const QUEUE: usize = 2;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files to import; the format and compression (gzip, zstd) are detected from the content
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// List papers that carry no listing date of their own on this day (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub listed_on: Option<NaiveDate>,
}

pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("{s:?} is not a date: write YYYY-MM-DD"))
}

/// One rejected record.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub file: String,
    pub location: String,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub inserted: u64,
    pub updated: u64,
    pub merged: u64,
    pub unchanged: u64,
    pub skipped: u64,
    pub rejected: Vec<Rejected>,
}

impl Summary {
    pub fn records(&self) -> u64 {
        self.inserted + self.updated + self.merged + self.unchanged + self.skipped + self.rejected.len() as u64
    }

    pub fn add(&mut self, other: Summary) {
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.merged += other.merged;
        self.unchanged += other.unchanged;
        self.skipped += other.skipped;
        self.rejected.extend(other.rejected);
    }

    /// Prints the summary line and every rejected record.
    pub fn report(&self, elapsed: std::time::Duration) {
        let secs = elapsed.as_secs_f64().max(1e-9);
        println!(
            "imported {} records in {:.1}s ({:.0} records/s): {} inserted, {} updated, {} merged into earlier local papers, {} unchanged, {} skipped, {} rejected",
            self.records(),
            secs,
            self.records() as f64 / secs,
            self.inserted,
            self.updated,
            self.merged,
            self.unchanged,
            self.skipped,
            self.rejected.len()
        );
        for r in &self.rejected {
            eprintln!("rejected: {}: {}: {}", r.file, r.location, r.reason);
        }
    }
}

enum Msg {
    Papers(PaperBatch),
    Rejected(Rejected),
    Skipped,
}

/// Streams `records` into `store`, showing progress against `len` bytes.
///
/// The parser thread also computes what the store derives from each paper
/// ([`PaperBatch`]), so that the writer's side spends its time writing.
pub async fn import_records(store: &dyn Catalog, records: Records, label: &str, len: u64) -> Result<Summary> {
    let bar = bytes_bar(len, label);
    bar.set_message(records.format().to_string());
    let (tx, mut rx) = mpsc::channel::<Msg>(QUEUE);
    let file = label.to_string();
    let parser_bar = bar.clone();
    let parser = tokio::task::spawn_blocking(move || {
        let mut records = records;
        let mut batch = PaperBatch::with_capacity(BATCH);
        while let Some(item) = records.next() {
            let msg = match item {
                Item::Paper(p) => {
                    batch.push(*p);
                    if batch.len() < BATCH {
                        continue;
                    }
                    parser_bar.set_position(records.bytes_read());
                    Msg::Papers(std::mem::replace(&mut batch, PaperBatch::with_capacity(BATCH)))
                }
                Item::Rejected(r) => {
                    Msg::Rejected(Rejected { file: file.clone(), location: r.location, reason: r.reason })
                }
                Item::Skipped(_) => Msg::Skipped,
            };
            if tx.blocking_send(msg).is_err() {
                return;
            }
        }
        parser_bar.set_position(records.bytes_read());
        if !batch.is_empty() {
            let _ = tx.blocking_send(Msg::Papers(batch));
        }
    });
    let mut summary = Summary::default();
    while let Some(msg) = rx.recv().await {
        match msg {
            Msg::Papers(papers) => {
                let outcomes = store.upsert_batch(papers).await.context("writing to the catalog failed")?;
                for o in outcomes {
                    match o {
                        UpsertOutcome::Inserted => summary.inserted += 1,
                        UpsertOutcome::Updated => summary.updated += 1,
                        UpsertOutcome::Merged => summary.merged += 1,
                        UpsertOutcome::Unchanged => summary.unchanged += 1,
                    }
                }
            }
            Msg::Rejected(r) => summary.rejected.push(r),
            Msg::Skipped => summary.skipped += 1,
        }
    }
    parser.await.context("the parser thread failed")?;
    bar.finish_and_clear();
    Ok(summary)
}

/// Imports one file.
pub async fn import_file(store: &dyn Catalog, path: &Path, opts: &ImportOptions) -> Result<Summary> {
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let records = paperboy_ingest::open(path, opts)?;
    tracing::info!(file = %path.display(), format = %records.format(), "importing");
    import_records(store, records, &path.display().to_string(), len).await
}

pub fn options(listed_on: Option<NaiveDate>) -> ImportOptions {
    ImportOptions { listed_on, today: chrono::Utc::now().date_naive() }
}

pub async fn run(args: ImportArgs, settings: &Settings) -> Result<ExitCode> {
    let store = super::open_store_for_import(settings).await?;
    let opts = options(args.listed_on);
    let started = Instant::now();
    let mut total = Summary::default();
    let mut failed_files = 0;
    for path in &args.files {
        match import_file(store.database(), path, &opts).await {
            Ok(s) => total.add(s),
            Err(e) => {
                failed_files += 1;
                eprintln!("error: {}: {e:#}", path.display());
            }
        }
    }
    total.report(started.elapsed());
    super::index_after_import(settings, store.database()).await;
    if failed_files > 0 || !total.rejected.is_empty() {
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}
