//! What an importer yields: a paper, a rejected record (with where and why),
//! or a skipped record that is not an error. Also the last step every
//! importer shares: normalise, validate, and turn failures into rejections.

use std::fmt;

use paperboy_core::Paper;

/// One record read from an input.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A normalised, validated paper.
    Paper(Box<Paper>),
    /// A record that could not be imported; the import goes on.
    Rejected(Rejection),
    /// A record that is deliberately not imported and is not an error
    /// (for example an OAI-PMH record deleted upstream).
    Skipped(Rejection),
}

/// Where a record was in its input and why it was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// `"line 12"`, `"entry 3"`, `"record 7 (oai:arXiv.org:0804.2273)"`,
    /// `"paragraph at line 40"`.
    pub location: String,
    pub reason: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.reason)
    }
}

impl Item {
    pub(crate) fn rejected(location: impl Into<String>, reason: impl Into<String>) -> Item {
        Item::Rejected(Rejection { location: location.into(), reason: reason.into() })
    }

    pub(crate) fn skipped(location: impl Into<String>, reason: impl Into<String>) -> Item {
        Item::Skipped(Rejection { location: location.into(), reason: reason.into() })
    }
}

/// Normalises and validates a paper built by an importer. `location` is only
/// called when the paper is rejected.
pub(crate) fn finish(mut paper: Paper, location: impl FnOnce() -> String) -> Item {
    paper.normalize();
    match paper.validate() {
        Ok(()) => Item::Paper(Box::new(paper)),
        Err(e) => Item::rejected(location(), e.to_string()),
    }
}
