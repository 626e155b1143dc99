//! File-level import failures: the input as a whole cannot be imported.
//! Problems with single records are not errors: they are reported as
//! [`crate::Item::Rejected`] and the import goes on.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

/// The formats we can read, for error messages.
const EXPECTED: &str = "expected arXiv JSON lines (one {...} object a line), a Kaggle arXiv metadata \
snapshot, an arXiv API Atom feed (<feed>), an OAI-PMH ListRecords or GetRecord page (<OAI-PMH>) \
or a plain-text listing page (UTF-8); gzip and zstd compression are recognised automatically";

/// Why a whole input cannot be imported.
#[derive(Debug, Error)]
pub enum IngestError {
    /// The file could not be opened.
    #[error("cannot open {}: {source} (check the path and that the file is readable)", path.display())]
    Open { path: PathBuf, source: io::Error },

    /// Reading the first bytes failed (for example a corrupt gzip or zstd header).
    #[error("cannot read {what}: {source} (is it a complete, uncorrupted file?)")]
    Read { what: String, source: io::Error },

    /// Nothing but whitespace.
    #[error("{what} is empty: there is nothing to import (was the download interrupted?)")]
    Empty { what: String },

    /// The content is none of the supported formats.
    #[error("{what} is not in a format Paperboy can import: {found}; {EXPECTED}")]
    UnknownFormat { what: String, found: String },

    /// The XML is broken before any record could be read.
    #[error("{what} is not well-formed XML: {reason} (download or fetch it again)")]
    BadXml { what: String, reason: String },

    /// The OAI-PMH server answered with an `<error>` (other than `noRecordsMatch`,
    /// which simply means zero records).
    #[error("the OAI-PMH server answered with error \"{code}\": {message} ({hint})")]
    Oai { code: String, message: String, hint: &'static str },

    /// A valid OAI-PMH response that carries no records (Identify,
    /// ListIdentifiers, ListSets, ListMetadataFormats).
    #[error(
        "{what} is an OAI-PMH {verb} response, which carries no paper records: harvest with \
         verb=ListRecords and metadataPrefix=arXiv or arXivRaw"
    )]
    NotRecords { what: String, verb: String },

    /// [`crate::oai_page_info`] was given something that is not an OAI-PMH page.
    #[error("not a readable OAI-PMH page: {reason} (pass the raw response body of an OAI-PMH request)")]
    BadOaiPage { reason: String },
}

/// What to do about an OAI-PMH error code (OAI-PMH 2.0, section 3.6).
pub(crate) fn oai_hint(code: &str) -> &'static str {
    match code {
        "badResumptionToken" => {
            "the resumption token has expired or is invalid: restart the harvest with from=<last datestamp harvested>"
        }
        "cannotDisseminateFormat" => "ask for metadataPrefix=arXiv or arXivRaw",
        "badArgument" => "the request had a missing, repeated or illegal argument: check the request URL",
        "badVerb" => "the request verb is not an OAI-PMH verb: use ListRecords",
        "idDoesNotExist" => "the requested identifier is unknown to the repository",
        "noSetHierarchy" => "this repository has no sets: drop the set= argument",
        "noMetadataFormats" => "the repository offers no metadata format for this item",
        _ => "see the OAI-PMH 2.0 specification, section 3.6",
    }
}
