//! What a piece of work read from the store, for caches of what it produced.
//!
//! [`tracking`] runs a future with a fresh [`Reads`] record in a task-local
//! slot; while it runs, the store's read methods that return what the
//! community changes (papers with their vote counts, feeds, comments and
//! comment counts, profiles, a member's papers) note what they returned:
//! the papers, the day ranges of feeds and whether those are ranked by
//! votes, the members. [`Reads::stale_after`] then says whether a
//! [`CommunityChange`] can have changed the result, so that a response cache
//! drops exactly the entries a vote or a comment made stale. Outside
//! [`tracking`] nothing is recorded and nothing is paid.

use std::cell::RefCell;
use std::collections::HashSet;
use std::future::Future;

use chrono::NaiveDate;
use paperboy_core::{PaperId, UserId};

use crate::{CommunityChange, CommunityKind};

tokio::task_local! {
    static READS: RefCell<Reads>;
}

/// The days a feed covered: `from` inclusive, `until` exclusive, either
/// open; `by_votes` when its order depends on vote counts (`top`,
/// `trending`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRange {
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    pub by_votes: bool,
}

impl DayRange {
    fn contains(&self, day: NaiveDate) -> bool {
        self.from.is_none_or(|f| day >= f) && self.until.is_none_or(|u| day < u)
    }
}

/// What one [`tracking`] run read (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reads {
    /// Papers read (by id), whether found or not.
    pub papers: HashSet<String>,
    /// Feeds read.
    pub ranges: Vec<DayRange>,
    /// Members whose profile or papers were read.
    pub members: HashSet<i64>,
}

impl Reads {
    /// Whether `change` can have changed what was read.
    pub fn stale_after(&self, change: &CommunityChange) -> bool {
        if change.paper_id.is_none() && change.user.is_none() {
            return true;
        }
        if change.user.is_some_and(|u| self.members.contains(&u.0)) {
            return true;
        }
        let Some(paper) = &change.paper_id else { return false };
        if self.papers.contains(&paper.to_string()) {
            return true;
        }
        // A vote can move a paper into a page of a feed ranked by votes that
        // did not show it; without its day, any such feed.
        change.kind == CommunityKind::Vote
            && self.ranges.iter().any(|r| r.by_votes && change.listed_on.is_none_or(|d| r.contains(d)))
    }
}

/// Runs `work`, recording what it reads from the store.
pub async fn tracking<F: Future>(work: F) -> (F::Output, Reads) {
    READS
        .scope(RefCell::new(Reads::default()), async move {
            let out = work.await;
            let reads = READS.with(|r| r.take());
            (out, reads)
        })
        .await
}

fn note(f: impl FnOnce(&mut Reads)) {
    let _ = READS.try_with(|r| f(&mut r.borrow_mut()));
}

/// Notes that paper `id` was read.
pub(crate) fn paper(id: &str) {
    note(|r| {
        r.papers.insert(id.to_string());
    });
}

/// Notes that the papers `ids` were read.
pub(crate) fn papers<'a>(ids: impl IntoIterator<Item = &'a PaperId>) {
    note(|r| r.papers.extend(ids.into_iter().map(PaperId::to_string)));
}

/// Notes that a feed over `range` was read.
pub(crate) fn range(range: DayRange) {
    note(|r| r.ranges.push(range));
}

/// Notes that member `id`'s profile or papers were read.
pub(crate) fn member(id: UserId) {
    note(|r| {
        r.members.insert(id.0);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn change(kind: CommunityKind, paper: Option<&str>, listed_on: Option<&str>, user: Option<i64>) -> CommunityChange {
        CommunityChange {
            seq: 1,
            kind,
            paper_id: paper.map(|p| PaperId::parse(p).unwrap()),
            listed_on: listed_on.map(day),
            user: user.map(UserId),
        }
    }

    #[tokio::test]
    async fn only_what_was_read_inside_tracking_is_recorded() {
        paper("2603.00001");
        let ((), reads) = tracking(async {
            paper("2603.00101");
            member(UserId(7));
            range(DayRange { from: Some(day("2026-03-10")), until: Some(day("2026-03-11")), by_votes: true });
        })
        .await;
        assert_eq!(reads.papers, HashSet::from(["2603.00101".to_string()]));
        assert_eq!(reads.members, HashSet::from([7]));
        assert_eq!(reads.ranges.len(), 1);
    }

    #[test]
    fn a_change_is_matched_by_paper_member_or_ranked_range() {
        let mut reads = Reads::default();
        reads.papers.insert("2603.00101".into());
        reads.members.insert(7);
        reads.ranges.push(DayRange { from: Some(day("2026-03-10")), until: Some(day("2026-03-11")), by_votes: true });
        reads.ranges.push(DayRange { from: Some(day("2026-03-01")), until: Some(day("2026-04-01")), by_votes: false });
        let vote = CommunityKind::Vote;
        let comment = CommunityKind::Comment;
        assert!(reads.stale_after(&change(comment, Some("2603.00101"), Some("2026-03-20"), Some(1))));
        assert!(reads.stale_after(&change(CommunityKind::Member, None, None, Some(7))));
        assert!(reads.stale_after(&change(vote, Some("2603.00999"), Some("2026-03-10"), Some(1))), "ranked day");
        assert!(!reads.stale_after(&change(comment, Some("2603.00999"), Some("2026-03-10"), Some(1))));
        assert!(!reads.stale_after(&change(vote, Some("2603.00999"), Some("2026-03-11"), Some(1))), "other day");
        assert!(!reads.stale_after(&change(vote, Some("2603.00999"), Some("2026-03-20"), Some(1))), "new order");
        assert!(reads.stale_after(&change(vote, Some("2603.00999"), None, Some(1))), "unknown day");
        assert!(reads.stale_after(&change(CommunityKind::Member, None, None, None)), "everything");
        assert!(!Reads::default().stale_after(&change(vote, Some("2603.00101"), None, Some(7))));
    }
}
