//! Papers as people see them: a listing of a day, week or month (with the
//! neighbouring periods and the viewer's upvotes), a paper's page (the
//! paper as the viewer may see it, their vote, whether it is on their
//! reading list, the discussion), votes, and moderation.
//!
//! Who is looking decides what is shown: admins see hidden papers (the
//! store's [`Audience`]), visitors have no votes.

use chrono::NaiveDate;
use paperboy_core::{FeedPeriod, FeedSort, PaperId, UserId};
use paperboy_store::{Audience, Database, FeedPage, FeedQuery, StoreError, StoredPaper, User, Vote};
use thiserror::Error;

/// Why a paper action was refused or failed.
#[derive(Debug, Error)]
pub enum PaperError {
    /// Not in the catalog, or hidden from this member.
    #[error("there is no paper {0}")]
    Unknown(PaperId),
    /// A member who is not an admin tried to hide or show a paper.
    #[error("only admins can hide papers")]
    NotAdmin,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Which part of a period a listing shows.
#[derive(Debug, Clone, Default)]
pub struct Slice {
    /// A category (`cs.LG`) or archive (`cs`, `cs.*`).
    pub category: Option<String>,
    pub sort: FeedSort,
    /// Only papers with a code repository.
    pub has_code: bool,
    pub offset: u32,
    pub limit: u32,
}

/// One page of a period's papers.
#[derive(Debug, Clone)]
pub struct Listing {
    pub period: FeedPeriod,
    pub page: FeedPage,
    /// The periods before and after: for a day the nearest days with
    /// papers, for a week or month the adjacent ones; `None` when not asked
    /// for (see [`listing`]) or when there is none.
    pub prev: Option<FeedPeriod>,
    pub next: Option<FeedPeriod>,
    /// Which of the page's papers the viewer upvotes.
    pub voted: Vec<PaperId>,
    /// Which of them the viewer marked "not for me".
    pub not_for_me: Vec<PaperId>,
}

/// One page of `period`'s papers, or of the latest day with papers when
/// `period` is `None` (`Ok(None)`: the catalog is empty). `neighbours` asks
/// for the adjacent periods, `viewer` for their upvotes.
pub async fn listing(
    db: &dyn Database,
    period: Option<FeedPeriod>,
    slice: &Slice,
    neighbours: bool,
    viewer: Option<UserId>,
) -> Result<Option<Listing>, StoreError> {
    let period = match period {
        Some(p) => p,
        None => match db.latest_listing_date().await? {
            Some(day) => FeedPeriod::Day(day),
            None => return Ok(None),
        },
    };
    let query = FeedQuery {
        from: Some(period.start()),
        until: Some(period.end()),
        category: slice.category.clone(),
        sort: slice.sort,
        has_code: slice.has_code,
        offset: slice.offset,
        limit: slice.limit,
    };
    let (page, (prev, next)) = match (period, neighbours) {
        (FeedPeriod::Day(d), true) => {
            let (page, near) = tokio::join!(db.feed(&query), db.neighbour_dates(d));
            let (prev, next): (Option<NaiveDate>, Option<NaiveDate>) = near?;
            (page?, (prev.map(FeedPeriod::Day), next.map(FeedPeriod::Day)))
        }
        (_, true) => (db.feed(&query).await?, (Some(period.prev()), Some(period.next()))),
        (_, false) => (db.feed(&query).await?, (None, None)),
    };
    let Marks { voted, not_for_me } = marks_among(db, viewer, &page.items).await?;
    Ok(Some(Listing { period, page, prev, next, voted, not_for_me }))
}

/// What a list of cards marks for the viewer: the papers they upvote and
/// those they marked "not for me" (both empty for visitors).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Marks {
    pub voted: Vec<PaperId>,
    pub not_for_me: Vec<PaperId>,
}

/// The [`Marks`] of `items` for `viewer`.
pub async fn marks_among(
    db: &dyn Database,
    viewer: Option<UserId>,
    items: &[StoredPaper],
) -> Result<Marks, StoreError> {
    let Some(user) = viewer else {
        return Ok(Marks::default());
    };
    if items.is_empty() {
        return Ok(Marks::default());
    }
    let ids: Vec<PaperId> = items.iter().map(|i| i.paper.id.clone()).collect();
    let (voted, not_for_me) = tokio::join!(db.voted_among(user, &ids), db.not_for_me_among(user, &ids));
    Ok(Marks { voted: voted?, not_for_me: not_for_me? })
}

/// What a paper's page shows besides similar papers.
#[derive(Debug, Clone)]
pub struct PaperPage {
    pub paper: StoredPaper,
    /// The viewer upvotes it.
    pub voted: bool,
    /// It is on the viewer's reading list.
    pub saved: bool,
    /// The viewer marked it "not for me".
    pub not_for_me: bool,
    /// Page `comment_page` of the discussion, as the viewer may see it.
    pub discussion: crate::comments::Discussion,
}

/// Paper `id` as `viewer` (`None`: a visitor) may see it, with page
/// `comment_page` (from 0) of its discussion.
pub async fn page(
    db: &dyn Database,
    id: &PaperId,
    viewer: Option<&User>,
    comment_page: u32,
) -> Result<PaperPage, PaperError> {
    let audience = viewer.map(|u| Audience::of(u.role)).unwrap_or_default();
    let paper = db.paper_for(id, audience).await?.ok_or_else(|| PaperError::Unknown(id.clone()))?;
    let marks = marks_among(db, viewer.map(|u| u.id), std::slice::from_ref(&paper)).await?;
    let (voted, not_for_me) = (!marks.voted.is_empty(), !marks.not_for_me.is_empty());
    let saved = match viewer {
        Some(u) => db.reading_list(u.id).await?.iter().any(|e| e.paper.paper.id == paper.paper.id),
        None => false,
    };
    let discussion = crate::comments::discussion(db, &paper.paper.id, viewer, comment_page).await?;
    Ok(PaperPage { paper, voted, saved, not_for_me, discussion })
}

/// `user` toggles their upvote of `id`.
pub async fn toggle_vote(db: &dyn Database, user: &User, id: &PaperId) -> Result<Vote, StoreError> {
    db.toggle_vote(user.id, id).await
}

/// `user` upvotes `id` (`voted`) or takes the upvote back; idempotent.
pub async fn set_vote(db: &dyn Database, user: &User, id: &PaperId, voted: bool) -> Result<Vote, StoreError> {
    db.set_vote(user.id, id, voted).await
}

/// `user` marks paper `id` "not for me" (`on`) or takes that back; it
/// leaves (or returns to) their recommendations at once.
pub async fn set_not_for_me(db: &dyn Database, user: &User, id: &PaperId, on: bool) -> Result<(), StoreError> {
    db.set_not_for_me(user.id, id, on, chrono::Utc::now()).await
}

/// An admin hides (`hidden`) or shows paper `id`; anyone else is refused.
pub async fn set_hidden(db: &dyn Database, admin: &User, id: &PaperId, hidden: bool) -> Result<(), PaperError> {
    if !admin.is_admin() {
        return Err(PaperError::NotAdmin);
    }
    db.set_paper_hidden(id, hidden).await?;
    tracing::info!(admin = %admin.username, paper = %id, hidden, "paper moderation");
    Ok(())
}
