//! Paperboy's domain: arXiv identifiers, papers, feed periods and orderings.
//!
//! Everything here is pure data and pure functions: no I/O, no clocks read
//! implicitly, no async. Every other crate depends on this one and on nothing
//! "above" it, so the types here are the vocabulary the whole system shares.

pub mod error;
pub mod id;
pub mod paper;
pub mod period;
pub mod text;

pub use error::CoreError;
pub use id::{ArxivId, PaperId};
pub use paper::{Paper, PaperLinks};
pub use period::{FeedPeriod, FeedSort};
