//! Errors raised while validating domain values.

use thiserror::Error;

/// A value that does not make sense in Paperboy's domain. Messages are meant
/// to be shown to the person who typed the value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CoreError {
    #[error("{input:?} is not an arXiv identifier: {why} (expected e.g. 2312.00752, 2312.00752v2 or hep-th/9901001)")]
    BadArxivId { input: String, why: &'static str },
    #[error(
        "{input:?} is not a paper id: use an arXiv id such as 2312.00752 or a local id such as pb-0123456789abcdef"
    )]
    BadPaperId { input: String },
    #[error("{input:?} is not a {what}: {why}")]
    BadPeriod { input: String, what: &'static str, why: &'static str },
    #[error("unknown sort {input:?}: use one of {allowed}")]
    BadSort { input: String, allowed: &'static str },
    #[error("{input:?} is not a valid username: {why}")]
    BadUsername { input: String, why: &'static str },
    #[error("{input:?} is not a valid email address: {why}")]
    BadEmail { input: String, why: &'static str },
    #[error("unknown role {input:?}: use one of {allowed}")]
    BadRole { input: String, allowed: &'static str },
    #[error("invalid {what}: {why}")]
    BadText { what: &'static str, why: &'static str },
    #[error("invalid ranking parameters: {why}")]
    BadRanking { why: &'static str },
    #[error("{input:?} is not a valid schedule: {why}")]
    BadSchedule { input: String, why: &'static str },
    #[error("invalid paper: {0}")]
    InvalidPaper(&'static str),
}
