//! Paperboy's domain: arXiv identifiers, papers, feed periods and orderings,
//! the trending score, and the community's members.
//!
//! Everything here is pure data and pure functions: no I/O, no clocks read
//! implicitly, no async. Every other crate depends on this one and on nothing
//! "above" it, so the types here are the vocabulary the whole system shares.

pub mod embedding;
pub mod error;
pub mod id;
pub mod member;
pub mod net;
pub mod paper;
pub mod period;
pub mod ranking;
pub mod schedule;
pub mod text;
pub mod trending;

pub use error::CoreError;
pub use id::{ArxivId, PaperId};
pub use member::{ApiTokenId, CommentId, Email, Role, UserId, Username};
pub use paper::{Paper, PaperLinks};
pub use period::{FeedPeriod, FeedSort};
pub use ranking::RankingSettings;
