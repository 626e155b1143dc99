//! Errors as responses (`src/error.rs`): a failing store gives generic 500s
//! that leak nothing (the [`BrokenStore`] below fails every call, as a broken
//! database would), and other methods a 405 page or JSON error.

use crate::common;

use chrono::{DateTime, NaiveDate, Utc};
use common::catalog::start;
use common::{Launch, content_type, header};
use paperboy_core::{ApiTokenId, CommentId, Email, Role, UserId, Username};
use paperboy_core::{Paper, PaperId};
use paperboy_store::{
    Accounts, ApiToken, Audience, Catalog, Change, Comment, CommentPage, Community, CommunityChange, EmailPurpose,
    FeedPage, FeedQuery, MemberPapers, Moderation, NewSession, NewUser, Profile, ReadingListEntry, Secret, Session,
    StoreError, StoredPaper, Submission, UpsertOutcome, User, Vote,
};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn other_methods_are_405() {
    let s = start(30).await;
    let r = s.client.post(format!("{}/", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(header(&r, "allow").contains("GET"));
    assert_eq!(content_type(&r), "text/html; charset=utf-8");
    let r = s.client.delete(format!("{}/api/daily_papers", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(content_type(&r), "application/json");
    let v: Value = r.json().await.unwrap();
    assert!(v["error"].as_str().unwrap().contains("not allowed"));
    // HEAD works wherever GET does.
    let r = s.client.head(format!("{}/papers/2603.00101", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

/// A store whose every call fails, as a broken database would.
#[derive(Clone)]
struct BrokenStore;

fn broken() -> StoreError {
    StoreError::Corrupt { paper_id: "secret-detail".into(), why: "disk on fire".into() }
}

#[async_trait::async_trait]
impl Catalog for BrokenStore {
    async fn upsert_papers(&self, _: &[Paper]) -> Result<Vec<UpsertOutcome>, StoreError> {
        Err(broken())
    }
    async fn get_paper(&self, _: &PaperId) -> Result<Option<StoredPaper>, StoreError> {
        Err(broken())
    }
    async fn feed(&self, _: &FeedQuery) -> Result<FeedPage, StoreError> {
        Err(broken())
    }
    async fn papers_by_ids(&self, _: &[PaperId]) -> Result<Vec<StoredPaper>, StoreError> {
        Err(broken())
    }
    async fn latest_listing_date(&self) -> Result<Option<NaiveDate>, StoreError> {
        Err(broken())
    }
    async fn neighbour_dates(&self, _: NaiveDate) -> Result<(Option<NaiveDate>, Option<NaiveDate>), StoreError> {
        Err(broken())
    }
    async fn count_papers(&self) -> Result<u64, StoreError> {
        Err(broken())
    }
    async fn changes_since(&self, _: u64, _: u32) -> Result<Vec<Change>, StoreError> {
        Err(broken())
    }
    async fn community_changes_since(&self, _: u64, _: u32) -> Result<Vec<CommunityChange>, StoreError> {
        Err(broken())
    }
    async fn last_community_seq(&self) -> Result<u64, StoreError> {
        Err(broken())
    }
    async fn sweep_community_changes(&self, _: DateTime<Utc>) -> Result<u64, StoreError> {
        Err(broken())
    }
    async fn last_change_seq(&self) -> Result<u64, StoreError> {
        Err(broken())
    }
}

#[async_trait::async_trait]
impl Accounts for BrokenStore {
    async fn create_user(&self, _: &NewUser) -> Result<User, StoreError> {
        Err(broken())
    }
    async fn user_by_id(&self, _: UserId) -> Result<Option<User>, StoreError> {
        Err(broken())
    }
    async fn user_by_username(&self, _: &Username) -> Result<Option<User>, StoreError> {
        Err(broken())
    }
    async fn user_by_email(&self, _: &Email) -> Result<Option<User>, StoreError> {
        Err(broken())
    }
    async fn password_hash(&self, _: UserId) -> Result<Option<String>, StoreError> {
        Err(broken())
    }
    async fn set_password(&self, _: UserId, _: &str) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn set_email(&self, _: UserId, _: &Email) -> Result<User, StoreError> {
        Err(broken())
    }
    async fn mark_email_verified(&self, _: UserId) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn create_session(&self, _: UserId, _: DateTime<Utc>) -> Result<NewSession, StoreError> {
        Err(broken())
    }
    async fn session(&self, _: &str) -> Result<Option<Session>, StoreError> {
        Err(broken())
    }
    async fn delete_session(&self, _: &str) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn delete_user_sessions(&self, _: UserId) -> Result<u64, StoreError> {
        Err(broken())
    }
    async fn purge_expired(&self) -> Result<u64, StoreError> {
        Err(broken())
    }
    async fn create_api_token(&self, _: UserId, _: &str) -> Result<(ApiToken, Secret), StoreError> {
        Err(broken())
    }
    async fn api_tokens(&self, _: UserId) -> Result<Vec<ApiToken>, StoreError> {
        Err(broken())
    }
    async fn revoke_api_token(&self, _: UserId, _: ApiTokenId) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn revoke_user_api_tokens(&self, _: UserId) -> Result<u64, StoreError> {
        Err(broken())
    }
    async fn api_token_user(&self, _: &str) -> Result<Option<User>, StoreError> {
        Err(broken())
    }
    async fn create_email_token(&self, _: UserId, _: EmailPurpose, _: DateTime<Utc>) -> Result<Secret, StoreError> {
        Err(broken())
    }
    async fn spend_email_tokens(&self, _: UserId, _: EmailPurpose) -> Result<u64, StoreError> {
        Err(broken())
    }
    async fn consume_email_token(&self, _: &str, _: EmailPurpose) -> Result<User, StoreError> {
        Err(broken())
    }
}

#[async_trait::async_trait]
impl Community for BrokenStore {
    async fn toggle_vote(&self, _: UserId, _: &PaperId) -> Result<Vote, StoreError> {
        Err(broken())
    }
    async fn set_vote(&self, _: UserId, _: &PaperId, _: bool) -> Result<Vote, StoreError> {
        Err(broken())
    }
    async fn voted_among(&self, _: UserId, _: &[PaperId]) -> Result<Vec<PaperId>, StoreError> {
        Err(broken())
    }
    async fn submit_paper(&self, _: UserId, _: &Paper, _: DateTime<Utc>) -> Result<Submission, StoreError> {
        Err(broken())
    }
    async fn add_comment(&self, _: UserId, _: &PaperId, _: Option<CommentId>, _: &str) -> Result<Comment, StoreError> {
        Err(broken())
    }
    async fn edit_comment(&self, _: UserId, _: CommentId, _: &str) -> Result<Comment, StoreError> {
        Err(broken())
    }
    async fn delete_comment(&self, _: UserId, _: CommentId) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn comments(&self, _: &PaperId, _: Audience) -> Result<Vec<Comment>, StoreError> {
        Err(broken())
    }
    async fn comment_page(&self, _: &PaperId, _: Audience, _: u32, _: u32) -> Result<CommentPage, StoreError> {
        Err(broken())
    }
    async fn comment_position(&self, _: CommentId, _: Audience) -> Result<Option<(PaperId, u64)>, StoreError> {
        Err(broken())
    }
    async fn comments_since(&self, _: UserId, _: DateTime<Utc>) -> Result<(u64, Option<DateTime<Utc>>), StoreError> {
        Err(broken())
    }
    async fn comment_counts(&self, _: &[PaperId]) -> Result<Vec<(PaperId, u64)>, StoreError> {
        Err(broken())
    }
    async fn add_to_reading_list(&self, _: UserId, _: &PaperId) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn remove_from_reading_list(&self, _: UserId, _: &PaperId) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn reading_list(&self, _: UserId) -> Result<Vec<ReadingListEntry>, StoreError> {
        Err(broken())
    }
    async fn profile(&self, _: &Username) -> Result<Option<Profile>, StoreError> {
        Err(broken())
    }
    async fn member_papers(&self, _: UserId, _: MemberPapers, _: u32, _: u32) -> Result<FeedPage, StoreError> {
        Err(broken())
    }
}

#[async_trait::async_trait]
impl Moderation for BrokenStore {
    async fn set_role(&self, _: UserId, _: Role) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn set_suspended(&self, _: UserId, _: bool) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn set_comment_hidden(&self, _: CommentId, _: bool) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn paper_for(&self, _: &PaperId, _: Audience) -> Result<Option<StoredPaper>, StoreError> {
        Err(broken())
    }
    async fn feed_for(&self, _: &FeedQuery, _: Audience, _: DateTime<Utc>) -> Result<FeedPage, StoreError> {
        Err(broken())
    }
    async fn set_paper_hidden(&self, _: &PaperId, _: bool) -> Result<(), StoreError> {
        Err(broken())
    }
}

#[async_trait::async_trait]
impl paperboy_store::Signals for BrokenStore {
    async fn link_repositories(
        &self,
        _: &PaperId,
        _: &[paperboy_store::RepoLink],
        _: chrono::DateTime<chrono::Utc>,
    ) -> Result<u32, StoreError> {
        Err(broken())
    }
    async fn due_repositories(
        &self,
        _: chrono::DateTime<chrono::Utc>,
        _: u32,
    ) -> Result<Vec<paperboy_store::Repository>, StoreError> {
        Err(broken())
    }
    async fn repository(&self, _: &str) -> Result<Option<paperboy_store::Repository>, StoreError> {
        Err(broken())
    }
    async fn star_history(
        &self,
        _: &str,
        _: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<(chrono::DateTime<chrono::Utc>, u64)>, StoreError> {
        Err(broken())
    }
    async fn record_repository(
        &self,
        _: &str,
        _: paperboy_store::RepoUpdate,
        _: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn record_hf(
        &self,
        _: &PaperId,
        _: &paperboy_store::HfSignal,
        _: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn record_source_rank(
        &self,
        _: &PaperId,
        _: &str,
        _: u32,
        _: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn source_state(&self, _: &str) -> Result<paperboy_store::SourceState, StoreError> {
        Err(broken())
    }
    async fn save_source_state(&self, _: &paperboy_store::SourceState) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn repo_census(&self, _: chrono::DateTime<chrono::Utc>) -> Result<paperboy_store::RepoCensus, StoreError> {
        Err(broken())
    }
    async fn code_trending(&self, _: &paperboy_store::FeedQuery) -> Result<paperboy_store::FeedPage, StoreError> {
        Err(broken())
    }
}

#[async_trait::async_trait]
impl paperboy_store::Harvests for BrokenStore {
    async fn start_harvest(
        &self,
        _: &paperboy_store::HarvestArgs,
        _: paperboy_store::HarvestTrigger,
        _: bool,
    ) -> Result<paperboy_store::HarvestRun, StoreError> {
        Err(broken())
    }
    async fn record_harvest_page(
        &self,
        _: i64,
        _: &paperboy_store::HarvestCounts,
        _: Option<&str>,
        _: Option<u64>,
    ) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn finish_harvest(&self, _: i64, _: Option<&str>) -> Result<paperboy_store::HarvestRun, StoreError> {
        Err(broken())
    }
    async fn harvest_run(&self, _: i64) -> Result<Option<paperboy_store::HarvestRun>, StoreError> {
        Err(broken())
    }
    async fn recent_harvests(&self, _: u32) -> Result<Vec<paperboy_store::HarvestRun>, StoreError> {
        Err(broken())
    }
    async fn last_completed_harvest(
        &self,
        _: &str,
        _: &str,
        _: Option<&str>,
    ) -> Result<Option<paperboy_store::HarvestRun>, StoreError> {
        Err(broken())
    }
}

#[async_trait::async_trait]
impl paperboy_store::Coordination for BrokenStore {
    async fn acquire_lease(
        &self,
        _: &str,
        _: &str,
        _: std::time::Duration,
    ) -> Result<paperboy_store::Lease, StoreError> {
        Err(broken())
    }
    async fn renew_lease(&self, _: &str, _: &str, _: std::time::Duration) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn release_lease(&self, _: &str, _: &str) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn lease(&self, _: &str) -> Result<Option<paperboy_store::Lease>, StoreError> {
        Err(broken())
    }
    async fn record_failure(&self, _: &str, _: DateTime<Utc>) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn reserve_attempt(
        &self,
        _: &str,
        _: u32,
        _: DateTime<Utc>,
        _: DateTime<Utc>,
    ) -> Result<paperboy_store::Reservation, StoreError> {
        Err(broken())
    }
    async fn release_attempt(&self, _: &paperboy_store::AttemptId) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn recent_failures(&self, _: &str, _: DateTime<Utc>, _: u32) -> Result<Vec<DateTime<Utc>>, StoreError> {
        Err(broken())
    }
    async fn clear_failures(&self, _: &str) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn sweep_failures(&self, _: DateTime<Utc>) -> Result<u64, StoreError> {
        Err(broken())
    }
    async fn shared_secret(&self, _: &str, _: &str) -> Result<String, StoreError> {
        Err(broken())
    }
}

#[async_trait::async_trait]
impl paperboy_store::Mailing for BrokenStore {
    async fn subscribe(&self, _: &Email, _: Option<UserId>) -> Result<paperboy_store::Subscriber, StoreError> {
        Err(broken())
    }
    async fn subscriber(
        &self,
        _: paperboy_store::SubscriberId,
    ) -> Result<Option<paperboy_store::Subscriber>, StoreError> {
        Err(broken())
    }
    async fn subscriber_by_email(&self, _: &Email) -> Result<Option<paperboy_store::Subscriber>, StoreError> {
        Err(broken())
    }
    async fn subscriber_for_user(&self, _: UserId) -> Result<Option<paperboy_store::Subscriber>, StoreError> {
        Err(broken())
    }
    async fn confirm_subscriber(
        &self,
        _: paperboy_store::SubscriberId,
    ) -> Result<paperboy_store::Subscriber, StoreError> {
        Err(broken())
    }
    async fn unsubscribe(&self, _: paperboy_store::SubscriberId) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn set_digest_content(
        &self,
        _: paperboy_store::SubscriberId,
        _: paperboy_store::DigestContent,
    ) -> Result<paperboy_store::Subscriber, StoreError> {
        Err(broken())
    }
    async fn update_subscription(
        &self,
        _: paperboy_store::SubscriberId,
        _: paperboy_store::Frequency,
        _: &[String],
    ) -> Result<paperboy_store::Subscriber, StoreError> {
        Err(broken())
    }
    async fn saved_searches(
        &self,
        _: paperboy_store::SubscriberId,
    ) -> Result<Vec<paperboy_store::SavedSearch>, StoreError> {
        Err(broken())
    }
    async fn add_saved_search(
        &self,
        _: paperboy_store::SubscriberId,
        _: &str,
    ) -> Result<paperboy_store::SavedSearch, StoreError> {
        Err(broken())
    }
    async fn remove_saved_search(&self, _: paperboy_store::SubscriberId, _: i64) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn digest_candidates(
        &self,
        _: paperboy_store::Frequency,
        _: paperboy_store::MailKind,
        _: &str,
        _: paperboy_store::SubscriberId,
        _: u32,
    ) -> Result<Vec<paperboy_store::Subscriber>, StoreError> {
        Err(broken())
    }
    async fn enqueue_mail(&self, _: &paperboy_store::NewMail) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn claim_mail(
        &self,
        _: &str,
        _: DateTime<Utc>,
        _: std::time::Duration,
        _: u32,
    ) -> Result<Vec<paperboy_store::OutboxMail>, StoreError> {
        Err(broken())
    }
    async fn mark_sent(&self, _: i64, _: &str, _: DateTime<Utc>) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn mark_retry(&self, _: i64, _: &str, _: DateTime<Utc>, _: &str) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn mark_failed(&self, _: i64, _: &str, _: &str, _: u32) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn outbox_counts(&self) -> Result<paperboy_store::OutboxCounts, StoreError> {
        Err(broken())
    }
    async fn next_mail_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Err(broken())
    }
}

#[tokio::test]
async fn store_failures_are_generic_500s() {
    let s = Launch::bind().await.serve(BrokenStore);
    for path in ["/", "/papers/date/2026-03-11", "/papers/2603.00101", "/feed.atom"] {
        let body = s.text(path, StatusCode::INTERNAL_SERVER_ERROR).await;
        assert!(body.contains("Something went wrong"), "{path}");
        assert!(!body.contains("secret-detail") && !body.contains("disk on fire"), "{path}");
    }
    for path in ["/api/daily_papers", "/api/papers/2603.00101"] {
        let v = s.json(path, StatusCode::INTERNAL_SERVER_ERROR).await;
        let msg = v["error"].as_str().unwrap();
        assert!(msg.contains("Something went wrong") && !msg.contains("disk"), "{path}");
    }
    // Bad input is still a 400, even with a broken store.
    s.text("/papers/date/2026-13-01", StatusCode::BAD_REQUEST).await;
    let r = s.get("/healthz").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[async_trait::async_trait]
impl paperboy_store::Interests for BrokenStore {
    async fn interest_profile(&self, _: UserId, _: u32) -> Result<paperboy_store::InterestProfile, StoreError> {
        Err(broken())
    }
    async fn set_not_for_me(&self, _: UserId, _: &PaperId, _: bool, _: DateTime<Utc>) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn not_for_me_papers(&self, _: UserId, _: u32, _: u32) -> Result<Vec<StoredPaper>, StoreError> {
        Err(broken())
    }
    async fn not_for_me_among(&self, _: UserId, _: &[PaperId]) -> Result<Vec<PaperId>, StoreError> {
        Err(broken())
    }
    async fn follow_author(&self, _: UserId, _: &str, _: bool, _: DateTime<Utc>) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn follow_category(&self, _: UserId, _: &str, _: bool, _: DateTime<Utc>) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn import_library(
        &self,
        _: UserId,
        _: paperboy_store::LibraryFormat,
        _: &[paperboy_store::NewLibraryEntry],
        _: DateTime<Utc>,
    ) -> Result<paperboy_store::LibraryImport, StoreError> {
        Err(broken())
    }
    async fn library(&self, _: UserId, _: u32, _: u32) -> Result<Vec<paperboy_store::LibraryEntry>, StoreError> {
        Err(broken())
    }
    async fn remove_library_entry(&self, _: UserId, _: i64) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn clear_interests(&self, _: UserId, _: paperboy_store::InterestKind) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn rotate_feed_secret(&self, _: UserId, _: DateTime<Utc>) -> Result<paperboy_store::Secret, StoreError> {
        Err(broken())
    }
    async fn has_feed_secret(&self, _: UserId) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn feed_secret_user(&self, _: &str) -> Result<Option<UserId>, StoreError> {
        Err(broken())
    }
}

#[async_trait::async_trait]
impl paperboy_store::Embeddings for BrokenStore {
    async fn register_embedding_model(
        &self,
        _: &paperboy_store::ModelKey,
    ) -> Result<paperboy_store::ModelRegistration, StoreError> {
        Err(broken())
    }
    async fn claim_embedding_work(
        &self,
        _: &paperboy_store::ModelKey,
        _: &str,
        _: u32,
        _: std::time::Duration,
    ) -> Result<Option<paperboy_store::EmbedClaim>, StoreError> {
        Err(broken())
    }
    async fn renew_embedding_claim(&self, _: &str, _: &str, _: std::time::Duration) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn store_embeddings(
        &self,
        _: &paperboy_store::ModelKey,
        _: &str,
        _: &str,
        _: &[paperboy_store::NewEmbedding],
    ) -> Result<paperboy_store::StoredBatch, StoreError> {
        Err(broken())
    }
    async fn release_embedding_claim(&self, _: &str, _: &str) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn embeddings_since(
        &self,
        _: &paperboy_store::ModelKey,
        _: u64,
        _: u32,
    ) -> Result<Vec<paperboy_store::StoredEmbedding>, StoreError> {
        Err(broken())
    }
    async fn embedding_backlog(
        &self,
        _: &paperboy_store::ModelKey,
    ) -> Result<paperboy_store::EmbeddingBacklog, StoreError> {
        Err(broken())
    }
    async fn embedding_store_counts(&self, _: &paperboy_store::ModelKey) -> Result<Vec<(PaperId, u64)>, StoreError> {
        Err(broken())
    }
    async fn prune_other_embeddings(&self, _: &paperboy_store::ModelKey) -> Result<u64, StoreError> {
        Err(broken())
    }
}
