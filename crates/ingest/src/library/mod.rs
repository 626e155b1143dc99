//! Reading a member's reference library: the BibTeX and RIS files that
//! Zotero, Mendeley, JabRef, EndNote and Google Scholar export.
//!
//! [`parse_library`] detects the format from the content and returns every
//! entry it could read as a [`LibraryRecord`] and every entry it could not as
//! a [`Rejected`] with the line the entry starts on and why; one bad entry
//! never loses the others. Identifiers are normalised here: an arXiv id is a
//! catalog [`PaperId`] (from an `eprint`, a `journal = {arXiv preprint
//! arXiv:…}`, an arxiv.org URL or a `10.48550/arXiv.…` DOI), a DOI is lower
//! case without a resolver prefix. This module knows nothing of the store.

mod bibtex;
mod latex;
mod ris;

use std::fmt;

use paperboy_core::{ArxivId, PaperId};

/// The two library formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LibraryFileFormat {
    Bibtex,
    Ris,
}

impl fmt::Display for LibraryFileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LibraryFileFormat::Bibtex => "BibTeX",
            LibraryFileFormat::Ris => "RIS",
        })
    }
}

/// One entry of a library file, decoded to plain text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LibraryRecord {
    /// The BibTeX citation key or the RIS `ID` tag.
    pub key: Option<String>,
    /// Never empty.
    pub title: String,
    pub abstract_text: Option<String>,
    /// "First Last" names, in the file's order.
    pub authors: Vec<String>,
    pub year: Option<i32>,
    /// The arXiv paper the entry names, without version.
    pub arxiv_id: Option<PaperId>,
    /// Lower-cased, without `https://doi.org/` or `doi:`.
    pub doi: Option<String>,
}

/// An entry that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The 1-based line the entry starts on.
    pub line: usize,
    pub why: String,
}

/// Everything read from one library file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryParse {
    pub format: LibraryFileFormat,
    pub records: Vec<LibraryRecord>,
    pub rejected: Vec<Rejected>,
}

/// The input is neither BibTeX nor RIS.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LibraryError {
    #[error("the file is empty; export your library as BibTeX (.bib) or RIS (.ris) and upload that file")]
    Empty,
    #[error(
        "this does not look like a BibTeX or RIS file (no `@article{{…}}` entries and no `TY  -` lines); export your library as BibTeX (.bib) or RIS (.ris) from Zotero, Mendeley or Google Scholar"
    )]
    NotALibrary,
}

/// Parses a BibTeX or RIS file, detecting which from its content. Text
/// that is not UTF-8 is read as Windows-1252 (older exports).
pub fn parse_library(bytes: &[u8]) -> Result<LibraryParse, LibraryError> {
    let text = decode_text(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    if text.trim().is_empty() {
        return Err(LibraryError::Empty);
    }
    match detect(text) {
        Some(LibraryFileFormat::Ris) => {
            let (records, rejected) = ris::parse(text);
            Ok(LibraryParse { format: LibraryFileFormat::Ris, records, rejected })
        }
        Some(LibraryFileFormat::Bibtex) => {
            let (records, rejected) = bibtex::parse(text);
            Ok(LibraryParse { format: LibraryFileFormat::Bibtex, records, rejected })
        }
        None => Err(LibraryError::NotALibrary),
    }
}

/// RIS if the first non-blank line is a RIS tag line (`TY  - `, or any tag
/// line: EndNote puts nothing before `TY`, but a stray header is seen);
/// BibTeX if some line starts with `@name{` or `@name(`.
fn detect(text: &str) -> Option<LibraryFileFormat> {
    let first = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    if ris::tag_line(first).is_some() {
        return Some(LibraryFileFormat::Ris);
    }
    if text.lines().any(|l| bibtex::entry_start(l.trim_start()).is_some()) {
        return Some(LibraryFileFormat::Bibtex);
    }
    if text.lines().take(50).any(|l| ris::tag_line(l.trim()).is_some_and(|(tag, _)| tag == "TY")) {
        return Some(LibraryFileFormat::Ris);
    }
    None
}

fn decode_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| windows_1252(b)).collect(),
    }
}

fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}', '\u{90}', '‘',
        '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9f => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

/// A DOI in its canonical form: lower case, no resolver or `doi:` prefix.
/// `None` unless it looks like `10.NNNN/…`.
pub(crate) fn normalize_doi(raw: &str) -> Option<String> {
    let mut s = raw.trim();
    for prefix in
        ["https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi.org/", "doi:"]
    {
        // `get`: the text may have a multi-byte character where the prefix would end.
        if s.get(..prefix.len()).is_some_and(|p| p.eq_ignore_ascii_case(prefix)) {
            s = s[prefix.len()..].trim();
            break;
        }
    }
    let s = s.split_whitespace().next()?;
    let lower = s.to_lowercase();
    let (prefix, suffix) = lower.split_once('/')?;
    let registrant = prefix.strip_prefix("10.")?;
    if registrant.is_empty() || !registrant.chars().all(|c| c.is_ascii_digit() || c == '.') || suffix.is_empty() {
        return None;
    }
    Some(lower)
}

/// The arXiv paper a DOI names (`10.48550/arXiv.2401.01234`), if it does.
pub(crate) fn arxiv_from_doi(doi: &str) -> Option<PaperId> {
    let rest = doi.strip_prefix("10.48550/arxiv.")?;
    arxiv_id(rest)
}

/// An arXiv id in any spelling (`2401.01234v2`, `arXiv:hep-th/9901001`, an
/// abs or pdf URL), as a catalog id without version.
pub(crate) fn arxiv_id(raw: &str) -> Option<PaperId> {
    ArxivId::parse(raw.trim().trim_end_matches(['.', ',', ';', ')', ']'])).ok().map(PaperId::from)
}

/// The arXiv id after an `arXiv:` (or `arXiv `, `abs/`) marker in free text,
/// e.g. `arXiv preprint arXiv:2401.01234` or DBLP's `CoRR abs/2401.01234`.
pub(crate) fn arxiv_in_text(text: &str) -> Option<PaperId> {
    let lower = text.to_ascii_lowercase();
    for marker in ["arxiv:", "arxiv ", "abs/"] {
        let mut from = 0;
        while let Some(i) = lower[from..].find(marker) {
            let start = from + i + marker.len();
            let token = text[start..].split_whitespace().next().unwrap_or("");
            if let Some(id) = arxiv_id(token) {
                return Some(id);
            }
            from = start;
        }
    }
    None
}

/// An arXiv id from a URL on arxiv.org (abs, pdf, html; with a version).
pub(crate) fn arxiv_from_url(url: &str) -> Option<PaperId> {
    let lower = url.to_ascii_lowercase();
    if !lower.contains("arxiv.org/") {
        return None;
    }
    arxiv_id(url)
}

/// "Last, First" (or "Last, Jr., First") to "First Last"; other shapes as they are.
pub(crate) fn display_name(name: &str) -> String {
    let parts: Vec<&str> = name.split(',').map(str::trim).collect();
    let joined = match parts.as_slice() {
        [last, first] if !first.is_empty() => format!("{first} {last}"),
        [last, jr, first] if !first.is_empty() => format!("{first} {last} {jr}"),
        _ => name.to_string(),
    };
    paperboy_core::text::normalize_ws(&joined)
}

/// The first four-digit year (1000 to 2999) in a field such as `2024`,
/// `2024/01/05/` or `2024-01`.
pub(crate) fn year_in(text: &str) -> Option<i32> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(3)).find_map(|i| {
        let window = &bytes[i..i + 4];
        let standalone =
            (i == 0 || !bytes[i - 1].is_ascii_digit()) && bytes.get(i + 4).is_none_or(|b| !b.is_ascii_digit());
        if standalone && window.iter().all(u8::is_ascii_digit) && matches!(window[0], b'1' | b'2') {
            std::str::from_utf8(window).ok()?.parse().ok()
        } else {
            None
        }
    })
}

/// Empty strings become `None`.
pub(crate) fn non_empty(s: String) -> Option<String> {
    if s.trim().is_empty() { None } else { Some(s) }
}
