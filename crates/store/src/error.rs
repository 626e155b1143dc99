//! Store errors: database failures, and the refusals of the community
//! methods (a taken username, someone else's comment, a used link), each its
//! own variant so that the web layer can answer each one properly.

use paperboy_core::{CommentId, CoreError, UserId};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// A text (a comment, a name, a search) contains a NUL character, which
    /// the database cannot store; the caller's input, not a failure.
    #[error("the text contains a NUL character (\\0), which cannot be stored: remove it and try again")]
    NulInText,
    #[error("could not open the database at {path}: {source} (check that the data directory exists and is writable)")]
    Open { path: String, source: sqlx::Error },
    #[error(
        "could not connect to PostgreSQL at {server}: {source} (check that the server runs, that the URL's \
         host, port, user, password and database are right, and that the database exists)"
    )]
    Connect { server: String, source: sqlx::Error },
    #[error("migration {version} ({name}) failed: {source}")]
    Migration { version: i64, name: &'static str, source: sqlx::Error },
    #[error(
        "the database was written by a newer Paperboy (schema version {found}, this build knows up to {known}); upgrade paperboy"
    )]
    TooNew { found: i64, known: i64 },
    #[error("stored row for {paper_id} is unreadable: {why}")]
    Corrupt { paper_id: String, why: String },
    /// A vector handed in for storing does not have its model's length.
    #[error(
        "the vector for {paper_id} has {found} numbers, but model {model} makes vectors of {expected}: \
         nothing was stored; check that the embedder runs the model it registered"
    )]
    WrongVectorLength { paper_id: String, model: String, found: usize, expected: u32 },

    /// A value failed core's validation (a blank comment, a long token name).
    #[error(transparent)]
    Invalid(#[from] CoreError),
    #[error("the username {username:?} is taken (names are compared ignoring case): choose another")]
    UsernameTaken { username: String },
    #[error("an account with this email address already exists: log in, or reset its password")]
    EmailTaken,
    #[error("there is no member with id {0}: check the id, or list members first")]
    UserNotFound(UserId),
    #[error("there is no paper {paper_id} in the catalog: check the id, or submit the paper first")]
    PaperNotFound { paper_id: String },
    #[error("there is no comment {0} (it may have been deleted or hidden)")]
    CommentNotFound(CommentId),
    #[error("comment {0} was written by another member: only its author can edit or delete it")]
    NotCommentAuthor(CommentId),
    #[error("comment {0} was hidden by a moderator: it can no longer be edited or deleted")]
    CommentHidden(CommentId),
    #[error("cannot reply to comment {parent}: {why}")]
    BadReply { parent: CommentId, why: &'static str },
    #[error("this link or token is not valid: ask for a new one")]
    TokenUnknown,
    #[error("this link has expired: ask for a new one")]
    TokenExpired,
    #[error("this link has been used already: ask for a new one if you still need it")]
    TokenUsed,
    #[error("there is no subscription {0} (it may have been removed): subscribe again")]
    SubscriberNotFound(i64),
    #[error("a subscription keeps at most {max} saved searches: remove one first")]
    TooManySavedSearches { max: usize },
    #[error("a subscription follows at most {max} categories: choose fewer")]
    TooManyCategories { max: usize },
    #[error("recommendations are mailed only to a member's own subscription: sign in and subscribe from your settings")]
    DigestNeedsMember,
    #[error("you can keep at most {max} {what}: remove some first")]
    TooMany { what: &'static str, max: usize },
    #[error("the operating system's random number generator failed: {0} (check that /dev/urandom is readable)")]
    Random(String),
}

/// A database error, except the executor's refusal of a NUL in a text,
/// which is the caller's input and becomes [`StoreError::NulInText`].
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::Encode(inner) if inner.is::<crate::sql::exec::NulInText>() => StoreError::NulInText,
            other => StoreError::Database(other),
        }
    }
}
