//! What members keep and show: the public profile (counts and a page of
//! their submissions or upvotes) and the private reading list.

use paperboy_core::{PaperId, Username};
use paperboy_store::{Audience, Database, FeedPage, MemberPapers, Profile, ReadingListEntry, StoreError, User};

use crate::papers::PaperError;

/// A member's profile and one page of one of their lists.
#[derive(Debug, Clone)]
pub struct ProfilePage {
    pub profile: Profile,
    pub papers: FeedPage,
}

/// The profile of `name` with the page of `which` at `offset`; `Ok(None)`
/// when there is no such member.
pub async fn profile(
    db: &dyn Database,
    name: &Username,
    which: MemberPapers,
    offset: u32,
    limit: u32,
) -> Result<Option<ProfilePage>, StoreError> {
    let Some(profile) = db.profile(name).await? else {
        return Ok(None);
    };
    let Some(user) = db.user_by_username(name).await? else {
        return Ok(None);
    };
    let papers = db.member_papers(user.id, which, offset, limit).await?;
    Ok(Some(ProfilePage { profile, papers }))
}

/// `user`'s reading list, most recently saved first.
pub async fn reading_list(db: &dyn Database, user: &User) -> Result<Vec<ReadingListEntry>, StoreError> {
    db.reading_list(user.id).await
}

/// `user` saves paper `id`, which they must be able to see.
pub async fn save(db: &dyn Database, user: &User, id: &PaperId) -> Result<(), PaperError> {
    if db.paper_for(id, Audience::of(user.role)).await?.is_none() {
        return Err(PaperError::Unknown(id.clone()));
    }
    db.add_to_reading_list(user.id, id).await?;
    Ok(())
}

/// `user` takes paper `id` off their reading list.
pub async fn unsave(db: &dyn Database, user: &User, id: &PaperId) -> Result<(), StoreError> {
    db.remove_from_reading_list(user.id, id).await?;
    Ok(())
}
