//! [`Interests`] on SQL: a member's own recommendation signals.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::{PaperId, UserId};

use crate::sql::SqlStore;
use crate::{
    InterestKind, InterestProfile, Interests, LibraryEntry, LibraryFormat, LibraryImport, NewLibraryEntry, Secret,
    StoreError, StoredPaper,
};

// Scaffold: the issue 16 store helper replaces every body below.
#[async_trait]
impl Interests for SqlStore {
    async fn interest_profile(&self, _user: UserId, _limit: u32) -> Result<InterestProfile, StoreError> {
        unimplemented!()
    }
    async fn set_not_for_me(&self, _: UserId, _: &PaperId, _: bool, _: DateTime<Utc>) -> Result<(), StoreError> {
        unimplemented!()
    }
    async fn not_for_me_papers(&self, _: UserId, _: u32, _: u32) -> Result<Vec<StoredPaper>, StoreError> {
        unimplemented!()
    }
    async fn not_for_me_among(&self, _: UserId, _: &[PaperId]) -> Result<Vec<PaperId>, StoreError> {
        unimplemented!()
    }
    async fn follow_author(&self, _: UserId, _: &str, _: bool, _: DateTime<Utc>) -> Result<(), StoreError> {
        unimplemented!()
    }
    async fn follow_category(&self, _: UserId, _: &str, _: bool, _: DateTime<Utc>) -> Result<(), StoreError> {
        unimplemented!()
    }
    async fn import_library(
        &self,
        _: UserId,
        _: LibraryFormat,
        _: &[NewLibraryEntry],
        _: DateTime<Utc>,
    ) -> Result<LibraryImport, StoreError> {
        unimplemented!()
    }
    async fn library(&self, _: UserId, _: u32, _: u32) -> Result<Vec<LibraryEntry>, StoreError> {
        unimplemented!()
    }
    async fn remove_library_entry(&self, _: UserId, _: i64) -> Result<bool, StoreError> {
        unimplemented!()
    }
    async fn clear_interests(&self, _: UserId, _: InterestKind) -> Result<(), StoreError> {
        unimplemented!()
    }
    async fn rotate_feed_secret(&self, _: UserId, _: DateTime<Utc>) -> Result<Secret, StoreError> {
        unimplemented!()
    }
    async fn has_feed_secret(&self, _: UserId) -> Result<bool, StoreError> {
        unimplemented!()
    }
    async fn feed_secret_user(&self, _: &str) -> Result<Option<UserId>, StoreError> {
        unimplemented!()
    }
}
