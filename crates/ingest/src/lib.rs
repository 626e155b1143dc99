//! Paperboy's importers: streaming readers that turn files and responses
//! into validated [`Paper`](paperboy_core::Paper)s.
//!
//! [`open`] and [`from_reader`] sniff the input (gzip and zstd by their magic
//! bytes, then the format by content) and return [`Records`], an iterator of
//! [`Item`]s: a paper, a rejected record with its location and reason, or a
//! skipped record. One bad record never stops an import; only file-level
//! problems are [`IngestError`]s. Everything streams in constant memory.
//!
//! Formats: arXiv JSONL, the Kaggle arXiv metadata snapshot, arXiv API Atom
//! feeds, OAI-PMH `ListRecords`/`GetRecord` pages (`arXiv` and `arXivRaw`
//! metadata) and plain-text listing pages. [`oai_page_info`] reads the
//! paging information of an OAI-PMH page for a harvester.

mod atom;
mod authors;
mod dates;
mod detect;
mod error;
mod item;
mod jsonl;
mod kaggle;
pub mod library;
mod lines;
mod listing;
mod oai;
#[cfg(test)]
mod proptests;
mod source;
mod xml_util;

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::NaiveDate;

pub use error::IngestError;
pub use item::{Item, Rejection};
pub use library::{LibraryError, LibraryFileFormat, LibraryParse, LibraryRecord, Rejected, parse_library};
pub use oai::{OaiPageInfo, oai_page_info};

use source::{BUF_SIZE, Counting, Source};

/// The input formats Paperboy can import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// One arXiv record a line: `{"id","title","authors":[..],"abstract",
    /// "categories":[..],"comment","listing_date"}`.
    ArxivJsonl,
    /// Kaggle's "arXiv metadata OAI snapshot" (JSON lines).
    KaggleJsonl,
    /// An arXiv API (`export.arxiv.org/api/query`) Atom response.
    ArxivAtom,
    /// An OAI-PMH `ListRecords` or `GetRecord` response.
    OaiPmh,
    /// A plain-text listing page: title, blank line, abstract.
    Listing,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::ArxivJsonl => "arXiv JSONL",
            Format::KaggleJsonl => "Kaggle arXiv snapshot",
            Format::ArxivAtom => "arXiv API Atom",
            Format::OaiPmh => "OAI-PMH ListRecords",
            Format::Listing => "plain listing",
        })
    }
}

/// Settings of one import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOptions {
    /// The feed day to give every paper. When `None`, each format uses what
    /// its records say (see [`Format`]'s importers), else `today`. arXiv
    /// JSONL's own `listing_date` takes precedence over this.
    pub listed_on: Option<NaiveDate>,
    /// Today's date, used when nothing else gives a date and to place
    /// year-less day headers (`Mar 11`) of listing pages.
    pub today: NaiveDate,
}

/// The records of one input, in order. Each yielded paper is normalised and
/// validated.
pub struct Records {
    format: Format,
    bytes: Arc<AtomicU64>,
    items: Box<dyn Iterator<Item = Item> + Send>,
}

impl Records {
    /// The detected format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Bytes consumed so far from the underlying (possibly compressed)
    /// source, for progress reporting against the file size.
    pub fn bytes_read(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

impl Iterator for Records {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        self.items.next()
    }
}

impl fmt::Debug for Records {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Records")
            .field("format", &self.format)
            .field("bytes_read", &self.bytes_read())
            .finish_non_exhaustive()
    }
}

/// Opens a file and detects its compression and format from its content.
pub fn open(path: &Path, opts: &ImportOptions) -> Result<Records, IngestError> {
    let open_err = |source: io::Error| IngestError::Open { path: path.to_path_buf(), source };
    let file = File::open(path).map_err(open_err)?;
    if file.metadata().map_err(open_err)?.is_dir() {
        return Err(open_err(io::Error::other("it is a directory, not a file")));
    }
    let count = Arc::new(AtomicU64::new(0));
    let source: Source = Box::new(BufReader::with_capacity(BUF_SIZE, Counting::new(file, count.clone())));
    records(source, count, opts, path.display().to_string())
}

/// Like [`open`], for a stream (a download, stdin, bytes in memory).
pub fn from_reader(reader: impl BufRead + Send + 'static, opts: &ImportOptions) -> Result<Records, IngestError> {
    let count = Arc::new(AtomicU64::new(0));
    let source: Source = Box::new(Counting::new(reader, count.clone()));
    records(source, count, opts, "the input".to_string())
}

fn records(source: Source, count: Arc<AtomicU64>, opts: &ImportOptions, what: String) -> Result<Records, IngestError> {
    let (source, _compression) =
        source::decompress(source).map_err(|e| IngestError::Read { what: what.clone(), source: e })?;
    let detected = detect::detect(source, &what)?;
    let opts = *opts;
    let (source, lines_before) = (detected.source, detected.lines_before);
    let items: Box<dyn Iterator<Item = Item> + Send> = match detected.format {
        Format::ArxivJsonl => {
            Box::new(jsonl::JsonLines::new(lines::LineReader::new(source, lines_before), jsonl::ArxivJsonl { opts }))
        }
        Format::KaggleJsonl => {
            Box::new(jsonl::JsonLines::new(lines::LineReader::new(source, lines_before), kaggle::Kaggle { opts }))
        }
        Format::ArxivAtom => Box::new(atom::AtomEntries::new(source, opts)),
        Format::OaiPmh => oai::open_records(source, opts, &what)?,
        Format::Listing => Box::new(listing::Listing::new(lines::LineReader::new(source, lines_before), opts)),
    };
    Ok(Records { format: detected.format, bytes: count, items })
}
