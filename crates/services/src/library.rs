//! Importing a member's reference library: a BibTeX or RIS file (what
//! Zotero, Mendeley and Google Scholar export) is size-checked, parsed
//! (`paperboy_ingest::library`), and its entries stored and matched to the
//! catalog by the store ([`Interests::import_library`]). The report says
//! what was added, matched, already there and which entries could not be
//! read, with their lines.

use chrono::{DateTime, Utc};
use paperboy_core::UserId;
use paperboy_ingest::library::{LibraryFileFormat, Rejected, parse_library};
use paperboy_store::{Database, LibraryEntry, LibraryFormat, NewLibraryEntry, StoreError};
use thiserror::Error;

/// The largest library file accepted (2 MiB: about 5,000 entries with abstracts).
pub const MAX_LIBRARY_BYTES: usize = 2 * 1024 * 1024;

/// Why an upload was refused.
#[derive(Debug, Error)]
pub enum LibraryError {
    #[error(
        "the file is {} KiB; the largest library file accepted is {} KiB. Export part of your library (a collection or folder) and upload it in pieces",
        .bytes / 1024, MAX_LIBRARY_BYTES / 1024
    )]
    TooLarge { bytes: usize },
    /// Empty, or neither BibTeX nor RIS (the message says what to do).
    #[error("{0}")]
    Unreadable(#[from] paperboy_ingest::LibraryError),
    /// A library file in which no entry could be read.
    #[error("no entry of this {format} file could be read: {}", first_reasons(.rejected))]
    NoEntries { format: LibraryFileFormat, rejected: Vec<Rejected> },
    /// Too many entries in total (a 4xx), or a store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn first_reasons(rejected: &[Rejected]) -> String {
    let mut text: Vec<String> = rejected.iter().take(3).map(|r| format!("line {}: {}", r.line, r.why)).collect();
    if rejected.len() > 3 {
        text.push(format!("and {} more", rejected.len() - 3));
    }
    if text.is_empty() { "the file has no entries".into() } else { text.join("; ") }
}

/// What one upload did.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    pub format: LibraryFormat,
    /// Entries read from the file.
    pub parsed: u32,
    /// Entries stored (new to the member's library).
    pub added: u32,
    /// Of those, entries matched to a catalog paper.
    pub matched: u32,
    /// Entries the library already had.
    pub duplicates: u32,
    /// The stored entries of this upload, most recent first (with the
    /// catalog paper each matched, if any).
    pub entries: Vec<LibraryEntry>,
    /// Entries that could not be read, with their lines.
    pub rejected: Vec<Rejected>,
}

/// Parses `bytes` as a BibTeX or RIS library and adds its entries to the
/// member's library.
pub async fn import(
    db: &dyn Database,
    user: UserId,
    bytes: &[u8],
    now: DateTime<Utc>,
) -> Result<ImportReport, LibraryError> {
    if bytes.len() > MAX_LIBRARY_BYTES {
        return Err(LibraryError::TooLarge { bytes: bytes.len() });
    }
    let parse = parse_library(bytes)?;
    if parse.records.is_empty() {
        return Err(LibraryError::NoEntries { format: parse.format, rejected: parse.rejected });
    }
    let format = match parse.format {
        LibraryFileFormat::Bibtex => LibraryFormat::Bibtex,
        LibraryFileFormat::Ris => LibraryFormat::Ris,
    };
    let entries: Vec<NewLibraryEntry> = parse
        .records
        .into_iter()
        .map(|r| NewLibraryEntry {
            key: r.key,
            title: r.title,
            abstract_text: r.abstract_text,
            authors: r.authors,
            year: r.year,
            arxiv_id: r.arxiv_id,
            doi: r.doi,
        })
        .collect();
    let parsed = u32::try_from(entries.len()).unwrap_or(u32::MAX);
    let done = db.import_library(user, format, &entries, now).await?;
    let added_entries = if done.added == 0 { Vec::new() } else { db.library(user, done.added, 0).await? };
    tracing::info!(
        user = user.0,
        format = format.as_str(),
        parsed,
        added = done.added,
        matched = done.matched,
        duplicates = done.duplicates,
        rejected = parse.rejected.len(),
        "library imported"
    );
    Ok(ImportReport {
        format,
        parsed,
        added: done.added,
        matched: done.matched,
        duplicates: done.duplicates,
        entries: added_entries,
        rejected: parse.rejected,
    })
}
