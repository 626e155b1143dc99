//! Choosing a backend from a database location: [`open`] and [`AnyStore`].
//!
//! A location that starts with `postgres://` or `postgresql://` is a
//! PostgreSQL database ([`PgStore`], for several servers on one database);
//! anything else is the path of a SQLite file ([`SqliteStore`], the embedded
//! default), created if missing. [`AnyStore`] is either, and is a
//! [`crate::Database`] itself: a [`Store`], a [`Community`], a [`Mailing`],
//! a [`Harvests`] and a [`Coordination`], each call going to the backend it
//! holds.

use std::path::Path;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use paperboy_core::{ApiTokenId, CommentId, Email, Paper, PaperId, RankingParams, Role, UserId, Username};

use crate::community::{
    ApiToken, Audience, Comment, Community, EmailPurpose, MemberPapers, NewSession, NewUser, Profile, ReadingListEntry,
    Secret, Session, Submission, User, Vote,
};
use crate::coordination::{Coordination, Lease};
use crate::harvest::{HarvestArgs, HarvestCounts, HarvestRun, HarvestTrigger, Harvests};
use crate::mailing::{
    Frequency, MailKind, Mailing, NewMail, OutboxCounts, OutboxMail, SavedSearch, Subscriber, SubscriberId,
};
use crate::{
    Change, FeedPage, FeedQuery, PaperBatch, PgStore, SqliteStore, Store, StoreError, StoredPaper, UpsertOutcome,
};

/// A store on either backend; see [`open`].
#[derive(Clone, Debug)]
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// Whether `location` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(location: &str) -> bool {
    let lower = location.trim_start().to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// Opens the database at `location` and applies its migrations:
/// `postgres://user:password@host:port/database` (or `postgresql://…`; a
/// unix socket directory goes in `?host=/run/postgresql`) for PostgreSQL,
/// anything else as the path of a SQLite file, created if missing.
pub async fn open(location: &str) -> Result<AnyStore, StoreError> {
    if is_postgres_url(location) {
        Ok(AnyStore::Postgres(PgStore::open(location.trim()).await?))
    } else {
        Ok(AnyStore::Sqlite(SqliteStore::open(Path::new(location)).await?))
    }
}

impl AnyStore {
    /// `"sqlite"` or `"postgres"`, for logs and test names.
    pub fn backend(&self) -> &'static str {
        match self {
            AnyStore::Sqlite(_) => "sqlite",
            AnyStore::Postgres(_) => "postgres",
        }
    }

    /// The same store ranking `trending` feeds with `params` (see docs/RANKING.md).
    pub fn with_ranking(self, params: RankingParams) -> Self {
        match self {
            AnyStore::Sqlite(s) => AnyStore::Sqlite(s.with_ranking(params)),
            AnyStore::Postgres(s) => AnyStore::Postgres(s.with_ranking(params)),
        }
    }
}

impl From<SqliteStore> for AnyStore {
    fn from(store: SqliteStore) -> Self {
        AnyStore::Sqlite(store)
    }
}

impl From<PgStore> for AnyStore {
    fn from(store: PgStore) -> Self {
        AnyStore::Postgres(store)
    }
}

/// Runs `$call` on whichever store `$self` holds, bound to `$s`.
macro_rules! delegate {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $call,
            AnyStore::Postgres($s) => $call,
        }
    };
}

#[async_trait]
impl Store for AnyStore {
    async fn upsert_papers(&self, papers: &[Paper]) -> Result<Vec<UpsertOutcome>, StoreError> {
        delegate!(self, s => s.upsert_papers(papers).await)
    }

    async fn upsert_batch(&self, batch: PaperBatch) -> Result<Vec<UpsertOutcome>, StoreError> {
        delegate!(self, s => s.upsert_batch(batch).await)
    }

    async fn get_paper(&self, id: &PaperId) -> Result<Option<StoredPaper>, StoreError> {
        delegate!(self, s => s.get_paper(id).await)
    }

    async fn feed(&self, query: &FeedQuery) -> Result<FeedPage, StoreError> {
        delegate!(self, s => s.feed(query).await)
    }

    async fn latest_listing_date(&self) -> Result<Option<NaiveDate>, StoreError> {
        delegate!(self, s => s.latest_listing_date().await)
    }

    async fn neighbour_dates(&self, day: NaiveDate) -> Result<(Option<NaiveDate>, Option<NaiveDate>), StoreError> {
        delegate!(self, s => s.neighbour_dates(day).await)
    }

    async fn count_papers(&self) -> Result<u64, StoreError> {
        delegate!(self, s => s.count_papers().await)
    }

    async fn changes_since(&self, after: u64, limit: u32) -> Result<Vec<Change>, StoreError> {
        delegate!(self, s => s.changes_since(after, limit).await)
    }

    async fn last_change_seq(&self) -> Result<u64, StoreError> {
        delegate!(self, s => s.last_change_seq().await)
    }
}

#[async_trait]
impl Community for AnyStore {
    async fn create_user(&self, new: &NewUser) -> Result<User, StoreError> {
        delegate!(self, s => s.create_user(new).await)
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        delegate!(self, s => s.user_by_id(id).await)
    }

    async fn user_by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        delegate!(self, s => s.user_by_username(username).await)
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        delegate!(self, s => s.user_by_email(email).await)
    }

    async fn password_hash(&self, id: UserId) -> Result<Option<String>, StoreError> {
        delegate!(self, s => s.password_hash(id).await)
    }

    async fn set_password(&self, id: UserId, password_hash: &str) -> Result<(), StoreError> {
        delegate!(self, s => s.set_password(id, password_hash).await)
    }

    async fn set_email(&self, id: UserId, email: &Email) -> Result<User, StoreError> {
        delegate!(self, s => s.set_email(id, email).await)
    }

    async fn mark_email_verified(&self, id: UserId) -> Result<(), StoreError> {
        delegate!(self, s => s.mark_email_verified(id).await)
    }

    async fn set_role(&self, id: UserId, role: Role) -> Result<(), StoreError> {
        delegate!(self, s => s.set_role(id, role).await)
    }

    async fn set_suspended(&self, id: UserId, suspended: bool) -> Result<(), StoreError> {
        delegate!(self, s => s.set_suspended(id, suspended).await)
    }

    async fn create_session(&self, user: UserId, expires_at: DateTime<Utc>) -> Result<NewSession, StoreError> {
        delegate!(self, s => s.create_session(user, expires_at).await)
    }

    async fn session(&self, token: &str) -> Result<Option<Session>, StoreError> {
        delegate!(self, s => s.session(token).await)
    }

    async fn delete_session(&self, token: &str) -> Result<bool, StoreError> {
        delegate!(self, s => s.delete_session(token).await)
    }

    async fn delete_user_sessions(&self, user: UserId) -> Result<u64, StoreError> {
        delegate!(self, s => s.delete_user_sessions(user).await)
    }

    async fn purge_expired(&self) -> Result<u64, StoreError> {
        delegate!(self, s => s.purge_expired().await)
    }

    async fn create_api_token(&self, user: UserId, name: &str) -> Result<(ApiToken, Secret), StoreError> {
        delegate!(self, s => s.create_api_token(user, name).await)
    }

    async fn api_tokens(&self, user: UserId) -> Result<Vec<ApiToken>, StoreError> {
        delegate!(self, s => s.api_tokens(user).await)
    }

    async fn revoke_api_token(&self, user: UserId, token: ApiTokenId) -> Result<bool, StoreError> {
        delegate!(self, s => s.revoke_api_token(user, token).await)
    }

    async fn api_token_user(&self, secret: &str) -> Result<Option<User>, StoreError> {
        delegate!(self, s => s.api_token_user(secret).await)
    }

    async fn create_email_token(
        &self,
        user: UserId,
        purpose: EmailPurpose,
        expires_at: DateTime<Utc>,
    ) -> Result<Secret, StoreError> {
        delegate!(self, s => s.create_email_token(user, purpose, expires_at).await)
    }

    async fn consume_email_token(&self, secret: &str, purpose: EmailPurpose) -> Result<User, StoreError> {
        delegate!(self, s => s.consume_email_token(secret, purpose).await)
    }

    async fn toggle_vote(&self, user: UserId, paper: &PaperId) -> Result<Vote, StoreError> {
        delegate!(self, s => s.toggle_vote(user, paper).await)
    }

    async fn set_vote(&self, user: UserId, paper: &PaperId, voted: bool) -> Result<Vote, StoreError> {
        delegate!(self, s => s.set_vote(user, paper, voted).await)
    }

    async fn voted_among(&self, user: UserId, papers: &[PaperId]) -> Result<Vec<PaperId>, StoreError> {
        delegate!(self, s => s.voted_among(user, papers).await)
    }

    async fn submit_paper(&self, user: UserId, paper: &Paper, now: DateTime<Utc>) -> Result<Submission, StoreError> {
        delegate!(self, s => s.submit_paper(user, paper, now).await)
    }

    async fn add_comment(
        &self,
        author: UserId,
        paper: &PaperId,
        parent: Option<CommentId>,
        body: &str,
    ) -> Result<Comment, StoreError> {
        delegate!(self, s => s.add_comment(author, paper, parent, body).await)
    }

    async fn edit_comment(&self, author: UserId, comment: CommentId, body: &str) -> Result<Comment, StoreError> {
        delegate!(self, s => s.edit_comment(author, comment, body).await)
    }

    async fn delete_comment(&self, author: UserId, comment: CommentId) -> Result<(), StoreError> {
        delegate!(self, s => s.delete_comment(author, comment).await)
    }

    async fn set_comment_hidden(&self, comment: CommentId, hidden: bool) -> Result<(), StoreError> {
        delegate!(self, s => s.set_comment_hidden(comment, hidden).await)
    }

    async fn comments(&self, paper: &PaperId, audience: Audience) -> Result<Vec<Comment>, StoreError> {
        delegate!(self, s => s.comments(paper, audience).await)
    }

    async fn comment_counts(&self, papers: &[PaperId]) -> Result<Vec<(PaperId, u64)>, StoreError> {
        delegate!(self, s => s.comment_counts(papers).await)
    }

    async fn add_to_reading_list(&self, user: UserId, paper: &PaperId) -> Result<bool, StoreError> {
        delegate!(self, s => s.add_to_reading_list(user, paper).await)
    }

    async fn remove_from_reading_list(&self, user: UserId, paper: &PaperId) -> Result<bool, StoreError> {
        delegate!(self, s => s.remove_from_reading_list(user, paper).await)
    }

    async fn reading_list(&self, user: UserId) -> Result<Vec<ReadingListEntry>, StoreError> {
        delegate!(self, s => s.reading_list(user).await)
    }

    async fn profile(&self, username: &Username) -> Result<Option<Profile>, StoreError> {
        delegate!(self, s => s.profile(username).await)
    }

    async fn member_papers(
        &self,
        user: UserId,
        which: MemberPapers,
        offset: u32,
        limit: u32,
    ) -> Result<FeedPage, StoreError> {
        delegate!(self, s => s.member_papers(user, which, offset, limit).await)
    }

    async fn paper_for(&self, id: &PaperId, audience: Audience) -> Result<Option<StoredPaper>, StoreError> {
        delegate!(self, s => s.paper_for(id, audience).await)
    }

    async fn feed_for(
        &self,
        query: &FeedQuery,
        audience: Audience,
        now: DateTime<Utc>,
    ) -> Result<FeedPage, StoreError> {
        delegate!(self, s => s.feed_for(query, audience, now).await)
    }

    async fn set_paper_hidden(&self, paper: &PaperId, hidden: bool) -> Result<(), StoreError> {
        delegate!(self, s => s.set_paper_hidden(paper, hidden).await)
    }
}

#[async_trait]
impl Mailing for AnyStore {
    async fn subscribe(&self, email: &Email, user: Option<UserId>) -> Result<Subscriber, StoreError> {
        delegate!(self, s => s.subscribe(email, user).await)
    }

    async fn subscriber(&self, id: SubscriberId) -> Result<Option<Subscriber>, StoreError> {
        delegate!(self, s => s.subscriber(id).await)
    }

    async fn subscriber_by_email(&self, email: &Email) -> Result<Option<Subscriber>, StoreError> {
        delegate!(self, s => s.subscriber_by_email(email).await)
    }

    async fn subscriber_for_user(&self, user: UserId) -> Result<Option<Subscriber>, StoreError> {
        delegate!(self, s => s.subscriber_for_user(user).await)
    }

    async fn confirm_subscriber(&self, id: SubscriberId) -> Result<Subscriber, StoreError> {
        delegate!(self, s => s.confirm_subscriber(id).await)
    }

    async fn unsubscribe(&self, id: SubscriberId) -> Result<bool, StoreError> {
        delegate!(self, s => s.unsubscribe(id).await)
    }

    async fn update_subscription(
        &self,
        id: SubscriberId,
        frequency: Frequency,
        categories: &[String],
    ) -> Result<Subscriber, StoreError> {
        delegate!(self, s => s.update_subscription(id, frequency, categories).await)
    }

    async fn saved_searches(&self, id: SubscriberId) -> Result<Vec<SavedSearch>, StoreError> {
        delegate!(self, s => s.saved_searches(id).await)
    }

    async fn add_saved_search(&self, id: SubscriberId, query: &str) -> Result<SavedSearch, StoreError> {
        delegate!(self, s => s.add_saved_search(id, query).await)
    }

    async fn remove_saved_search(&self, id: SubscriberId, search: i64) -> Result<bool, StoreError> {
        delegate!(self, s => s.remove_saved_search(id, search).await)
    }

    async fn digest_candidates(
        &self,
        frequency: Frequency,
        kind: MailKind,
        period_key: &str,
        after: SubscriberId,
        limit: u32,
    ) -> Result<Vec<Subscriber>, StoreError> {
        delegate!(self, s => s.digest_candidates(frequency, kind, period_key, after, limit).await)
    }

    async fn enqueue_mail(&self, mail: &NewMail) -> Result<bool, StoreError> {
        delegate!(self, s => s.enqueue_mail(mail).await)
    }

    async fn claim_mail(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: u32,
    ) -> Result<Vec<OutboxMail>, StoreError> {
        delegate!(self, s => s.claim_mail(owner, now, lease, limit).await)
    }

    async fn mark_sent(&self, id: i64, owner: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        delegate!(self, s => s.mark_sent(id, owner, now).await)
    }

    async fn mark_retry(&self, id: i64, owner: &str, retry_at: DateTime<Utc>, error: &str) -> Result<bool, StoreError> {
        delegate!(self, s => s.mark_retry(id, owner, retry_at, error).await)
    }

    async fn mark_failed(&self, id: i64, owner: &str, error: &str, pause_after: u32) -> Result<bool, StoreError> {
        delegate!(self, s => s.mark_failed(id, owner, error, pause_after).await)
    }

    async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        delegate!(self, s => s.outbox_counts().await)
    }

    async fn next_mail_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        delegate!(self, s => s.next_mail_due().await)
    }
}

#[async_trait]
impl Harvests for AnyStore {
    async fn start_harvest(
        &self,
        args: &HarvestArgs,
        trigger: HarvestTrigger,
        resume: bool,
    ) -> Result<HarvestRun, StoreError> {
        delegate!(self, s => s.start_harvest(args, trigger, resume).await)
    }

    async fn record_harvest_page(
        &self,
        run: i64,
        counts: &HarvestCounts,
        next_token: Option<&str>,
        complete_list_size: Option<u64>,
    ) -> Result<(), StoreError> {
        delegate!(self, s => s.record_harvest_page(run, counts, next_token, complete_list_size).await)
    }

    async fn finish_harvest(&self, run: i64, error: Option<&str>) -> Result<HarvestRun, StoreError> {
        delegate!(self, s => s.finish_harvest(run, error).await)
    }

    async fn harvest_run(&self, id: i64) -> Result<Option<HarvestRun>, StoreError> {
        delegate!(self, s => s.harvest_run(id).await)
    }

    async fn recent_harvests(&self, limit: u32) -> Result<Vec<HarvestRun>, StoreError> {
        delegate!(self, s => s.recent_harvests(limit).await)
    }

    async fn last_completed_harvest(
        &self,
        base_url: &str,
        metadata_prefix: &str,
        set: Option<&str>,
    ) -> Result<Option<HarvestRun>, StoreError> {
        delegate!(self, s => s.last_completed_harvest(base_url, metadata_prefix, set).await)
    }
}

#[async_trait]
impl Coordination for AnyStore {
    async fn acquire_lease(&self, name: &str, holder: &str, ttl: std::time::Duration) -> Result<Lease, StoreError> {
        delegate!(self, s => s.acquire_lease(name, holder, ttl).await)
    }

    async fn renew_lease(&self, name: &str, holder: &str, ttl: std::time::Duration) -> Result<bool, StoreError> {
        delegate!(self, s => s.renew_lease(name, holder, ttl).await)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        delegate!(self, s => s.release_lease(name, holder).await)
    }

    async fn lease(&self, name: &str) -> Result<Option<Lease>, StoreError> {
        delegate!(self, s => s.lease(name).await)
    }

    async fn record_failure(&self, key: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        delegate!(self, s => s.record_failure(key, at).await)
    }

    async fn recent_failures(
        &self,
        key: &str,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        delegate!(self, s => s.recent_failures(key, since, limit).await)
    }

    async fn clear_failures(&self, key: &str) -> Result<(), StoreError> {
        delegate!(self, s => s.clear_failures(key).await)
    }

    async fn sweep_failures(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        delegate!(self, s => s.sweep_failures(before).await)
    }

    async fn shared_secret(&self, name: &str, candidate: &str) -> Result<String, StoreError> {
        delegate!(self, s => s.shared_secret(name, candidate).await)
    }
}
