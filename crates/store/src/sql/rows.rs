//! Reading result rows back into domain values: typed cells by column index
//! ([`Cells`], the same on both backends) and the decoders of the rows the
//! catalog and the community share (papers, members, comments), with the
//! column lists they read.

use paperboy_core::{CommentId, Email, Paper, PaperId, PaperLinks, Role, UserId, Username};
use sqlx::Row as _;

use super::exec::Row;
use super::{parse_date, parse_ts};
use crate::{Audience, Comment, PaperSignals, SourceRank, StoreError, StoredPaper, User};

/// Typed cells of a result row, by column index: the few column types the
/// schema uses (TEXT, BIGINT/INTEGER, BOOLEAN, BLOB/BYTEA), the same on both backends.
/// A cell of another type, or a NULL where a value is expected, is a bug in
/// the statement and panics, as sqlx's `Row::get` does.
pub(crate) trait Cells {
    fn text(&self, i: usize) -> String;
    fn opt_text(&self, i: usize) -> Option<String>;
    fn int(&self, i: usize) -> i64;
    fn opt_int(&self, i: usize) -> Option<i64>;
    fn flag(&self, i: usize) -> bool;
    fn bytes(&self, i: usize) -> Vec<u8>;
}

impl Cells for Row {
    fn text(&self, i: usize) -> String {
        match self {
            Row::Sqlite(r) => r.get(i),
            Row::Postgres(r) => r.get(i),
        }
    }
    fn opt_text(&self, i: usize) -> Option<String> {
        match self {
            Row::Sqlite(r) => r.get(i),
            Row::Postgres(r) => r.get(i),
        }
    }
    fn int(&self, i: usize) -> i64 {
        match self {
            Row::Sqlite(r) => r.get(i),
            Row::Postgres(r) => r.get(i),
        }
    }
    fn opt_int(&self, i: usize) -> Option<i64> {
        match self {
            Row::Sqlite(r) => r.get(i),
            Row::Postgres(r) => r.get(i),
        }
    }
    fn flag(&self, i: usize) -> bool {
        match self {
            Row::Sqlite(r) => r.get(i),
            Row::Postgres(r) => r.get(i),
        }
    }
    fn bytes(&self, i: usize) -> Vec<u8> {
        match self {
            Row::Sqlite(r) => r.get(i),
            Row::Postgres(r) => r.get(i),
        }
    }
}

/// Columns read back into a [`StoredPaper`], in the order [`row_to_paper`]
/// expects, from [`PAPER_FROM`].
pub(crate) const PAPER_COLUMNS: &str = "p.paper_id, p.version, p.title, p.authors, p.abstract, p.primary_category, \
     p.categories, p.submitted_at, p.updated_at, p.listed_on, p.comment, p.journal_ref, p.doi, p.code_url, \
     p.project_url, p.withdrawn, p.upvotes, u.username, p.hidden_at, sg.github_repo, sg.github_stars, \
     sg.stars_this_week, sg.hf_upvotes, sg.hf_comments, sg.source_page, sg.source_rank, sg.observed_at";
/// How many columns [`PAPER_COLUMNS`] has.
pub(crate) const PAPER_COLUMN_COUNT: usize = 27;

/// Papers with their submitter (`s`, `u`) and their signal summary (`sg`,
/// one `paper_signals` row per paper at most), for [`PAPER_COLUMNS`].
pub(crate) const PAPER_FROM: &str = "papers p LEFT JOIN submissions s ON s.paper_pk = p.pk \
     LEFT JOIN users u ON u.id = s.user_id LEFT JOIN paper_signals sg ON sg.paper_pk = p.pk";
/// The submitter and signal joins of [`PAPER_FROM`], after another join to `papers p`.
pub(crate) const SUBMITTER_JOIN: &str = "LEFT JOIN submissions s ON s.paper_pk = p.pk \
     LEFT JOIN users u ON u.id = s.user_id LEFT JOIN paper_signals sg ON sg.paper_pk = p.pk";

pub(crate) fn corrupt(what: &str, why: String) -> StoreError {
    StoreError::Corrupt { paper_id: what.to_string(), why }
}

/// The columns of the [`Paper`] itself, the first [`PAPER_FIELD_COUNT`] of
/// [`PAPER_COLUMNS`], read by [`paper_at`] (for callers that need the paper
/// but not its votes, submitter or signals).
pub(crate) const PAPER_FIELDS: &str = "p.paper_id, p.version, p.title, p.authors, p.abstract, p.primary_category, \
     p.categories, p.submitted_at, p.updated_at, p.listed_on, p.comment, p.journal_ref, p.doi, p.code_url, \
     p.project_url, p.withdrawn";
/// How many columns [`PAPER_FIELDS`] has.
pub(crate) const PAPER_FIELD_COUNT: usize = 16;

/// Reads the [`PAPER_FIELDS`] that start at column `o`.
pub(crate) fn paper_at<R: Cells>(r: &R, o: usize) -> Result<Paper, StoreError> {
    let paper_id = r.text(o);
    let corrupt = |why: String| StoreError::Corrupt { paper_id: paper_id.clone(), why };
    let id = PaperId::parse(&paper_id).map_err(|e| corrupt(e.to_string()))?;
    let authors: Vec<String> = serde_json::from_str(&r.text(o + 3)).map_err(|e| corrupt(format!("authors: {e}")))?;
    let listed = r.text(o + 9);
    let listed_on = parse_date(&listed).ok_or_else(|| corrupt(format!("listed_on {listed:?}")))?;
    Ok(Paper {
        id,
        version: r.opt_int(o + 1).and_then(|v| u32::try_from(v).ok()),
        title: r.text(o + 2),
        authors,
        abstract_text: r.text(o + 4),
        primary_category: r.opt_text(o + 5),
        categories: r.text(o + 6).split_whitespace().map(str::to_string).collect(),
        submitted_at: parse_ts(r.opt_text(o + 7)),
        updated_at: parse_ts(r.opt_text(o + 8)),
        listed_on,
        comment: r.opt_text(o + 10),
        journal_ref: r.opt_text(o + 11),
        doi: r.opt_text(o + 12),
        links: PaperLinks { code: r.opt_text(o + 13), project: r.opt_text(o + 14) },
        withdrawn: r.flag(o + 15),
    })
}

/// Reads the [`PAPER_COLUMNS`] that start at column `o`.
pub(crate) fn row_to_paper_at<R: Cells>(r: &R, o: usize) -> Result<StoredPaper, StoreError> {
    let paper = paper_at(r, o)?;
    let submitted_by = match r.opt_text(o + 17) {
        Some(name) => Some(
            Username::parse(&name)
                .map_err(|e| StoreError::Corrupt { paper_id: paper.id.to_string(), why: format!("submitter: {e}") })?,
        ),
        None => None,
    };
    Ok(StoredPaper {
        paper,
        upvotes: r.int(o + 16),
        submitted_by,
        hidden_at: parse_ts(r.opt_text(o + 18)),
        signals: signals_at(r, o + 19),
    })
}

/// The signal summary columns of [`PAPER_COLUMNS`] (`sg.*`) that start at
/// column `o`; all `None` without a `paper_signals` row.
fn signals_at<R: Cells>(r: &R, o: usize) -> PaperSignals {
    let count = |i: usize| r.opt_int(o + i).and_then(|n| u64::try_from(n).ok());
    let source_rank = match (r.opt_text(o + 5), r.opt_int(o + 6).and_then(|n| u32::try_from(n).ok())) {
        (Some(page), Some(rank)) => Some(SourceRank { page, rank }),
        _ => None,
    };
    PaperSignals {
        github_repo: r.opt_text(o),
        github_stars: count(1),
        stars_this_week: r.opt_int(o + 2),
        hf_upvotes: count(3),
        hf_comments: count(4),
        source_rank,
        observed_at: parse_ts(r.opt_text(o + 7)),
    }
}

/// [`row_to_paper_at`] column 0.
pub(crate) fn row_to_paper<R: Cells>(r: &R) -> Result<StoredPaper, StoreError> {
    row_to_paper_at(r, 0)
}

/// Columns read into a [`User`] by [`row_to_user`], from `users u`.
pub(crate) const USER_COLUMNS: &str =
    "u.id, u.username, u.email, u.is_admin, u.email_verified_at, u.suspended_at, u.created_at";
pub(crate) const USER_COLUMN_COUNT: usize = 7;

/// Reads the [`USER_COLUMNS`] that start at column `o`.
pub(crate) fn row_to_user<R: Cells>(r: &R, o: usize) -> Result<User, StoreError> {
    let id = r.int(o);
    let label = format!("user {id}");
    let username = Username::parse(&r.text(o + 1)).map_err(|e| corrupt(&label, format!("username: {e}")))?;
    let email = Email::parse(&r.text(o + 2)).map_err(|e| corrupt(&label, format!("email: {e}")))?;
    Ok(User {
        id: UserId(id),
        username,
        email,
        role: if r.flag(o + 3) { Role::Admin } else { Role::Member },
        email_verified_at: parse_ts(r.opt_text(o + 4)),
        suspended_at: parse_ts(r.opt_text(o + 5)),
        created_at: parse_ts(r.opt_text(o + 6)).ok_or_else(|| corrupt(&label, "created_at".into()))?,
    })
}

/// Columns read into a [`Comment`] by [`row_to_comment`].
pub(crate) const COMMENT_SELECT: &str = "SELECT c.id, p.paper_id, c.user_id, u.username, c.parent_id, c.body, \
     c.created_at, c.edited_at, c.deleted_at, c.hidden_at FROM comments c JOIN papers p ON p.pk = c.paper_pk \
     JOIN users u ON u.id = c.user_id";

/// Reads a [`COMMENT_SELECT`] row; a hidden comment loses its text for the public.
pub(crate) fn row_to_comment<R: Cells>(r: &R, audience: Audience) -> Result<Comment, StoreError> {
    let id = CommentId(r.int(0));
    let label = format!("comment {id}");
    let paper_id = PaperId::parse(&r.text(1)).map_err(|e| corrupt(&label, e.to_string()))?;
    let author = Username::parse(&r.text(3)).map_err(|e| corrupt(&label, e.to_string()))?;
    let hidden_at = parse_ts(r.opt_text(9));
    let mut body = r.text(5);
    if hidden_at.is_some() && audience == Audience::Public {
        body.clear();
    }
    Ok(Comment {
        id,
        paper_id,
        author_id: UserId(r.int(2)),
        author,
        parent: r.opt_int(4).map(CommentId),
        body,
        created_at: parse_ts(r.opt_text(6)).ok_or_else(|| corrupt(&label, "created_at".into()))?,
        edited_at: parse_ts(r.opt_text(7)),
        deleted_at: parse_ts(r.opt_text(8)),
        hidden_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_paper_fields_lead_the_paper_columns() {
        assert!(PAPER_COLUMNS.starts_with(PAPER_FIELDS));
        assert_eq!(PAPER_FIELDS.split(',').count(), PAPER_FIELD_COUNT);
        assert_eq!(PAPER_COLUMNS.split(',').count(), PAPER_COLUMN_COUNT);
    }
}
