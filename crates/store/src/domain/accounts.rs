//! [`Accounts`]: members, their credentials and their sessions: sign-up
//! and lookups, passwords and addresses, login sessions, personal API tokens
//! and one-time email links.
//!
//! Rules every backend keeps:
//! * Secrets (session, API and email tokens) are generated here from the
//!   operating system's CSPRNG and returned once; only their SHA-256 hashes
//!   are stored, so a copy of the database opens no accounts.
//! * Sessions and API tokens of a suspended member are refused by the
//!   lookups, and suspending ([`Moderation::set_suspended`]) deletes the
//!   member's sessions.
//! * A token belongs to the member passed in; one-time links are spent by a
//!   conditional `UPDATE`, which only one of two concurrent callers can win.
//!
//! [`Moderation::set_suspended`]: crate::Moderation::set_suspended

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::{ApiTokenId, Email, Role, UserId, Username};
use serde::Serialize;

use crate::StoreError;

/// A member's account, without the password hash (see [`Accounts::password_hash`]).
/// Not `Serialize` on purpose: it holds the private email address; public
/// pages use [`Profile`](crate::Profile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub username: Username,
    pub email: Email,
    pub role: Role,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub suspended_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.role.is_admin()
    }

    pub fn is_suspended(&self) -> bool {
        self.suspended_at.is_some()
    }

    pub fn is_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }
}

/// What sign-up (or `paperboy admin create-user`) hands the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub username: Username,
    pub email: Email,
    /// The argon2id hash in PHC string form (`$argon2id$v=19$...`), made by
    /// the caller; the store never sees the password.
    pub password_hash: String,
    pub role: Role,
    /// Accounts made by the operator may start verified.
    pub email_verified: bool,
}

/// A freshly made secret, returned once. Only its hash is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl Secret {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// A new login session: `token` goes into the session cookie, `csrf_token`
/// into the forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub token: Secret,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// A live session, found by its cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A personal API token as its owner sees it in their settings (the secret
/// itself is shown once, by [`Accounts::create_api_token`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What a one-time email link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailPurpose {
    /// Confirms the address the link was sent to.
    Verify,
    /// Lets the member choose a new password.
    Reset,
}

impl EmailPurpose {
    pub fn as_str(&self) -> &'static str {
        match self {
            EmailPurpose::Verify => "verify",
            EmailPurpose::Reset => "reset",
        }
    }
}

/// Members' accounts, sessions, API tokens and email links.
#[async_trait]
pub trait Accounts: Send + Sync + 'static {
    /// Creates an account. A username or email address already in use
    /// (ignoring case) is [`StoreError::UsernameTaken`] or
    /// [`StoreError::EmailTaken`]; the username is checked first.
    async fn create_user(&self, new: &NewUser) -> Result<User, StoreError>;

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>, StoreError>;

    /// By username, ignoring case.
    async fn user_by_username(&self, username: &Username) -> Result<Option<User>, StoreError>;

    /// By email address, ignoring case.
    async fn user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError>;

    /// The member's argon2id hash, for checking a password at login.
    async fn password_hash(&self, id: UserId) -> Result<Option<String>, StoreError>;

    /// Replaces the password hash. Sessions are left alone: call
    /// [`Accounts::delete_user_sessions`] to log out everywhere.
    async fn set_password(&self, id: UserId, password_hash: &str) -> Result<(), StoreError>;

    /// Changes the email address and marks it unverified again;
    /// [`StoreError::EmailTaken`] when another account has it.
    async fn set_email(&self, id: UserId, email: &Email) -> Result<User, StoreError>;

    /// Marks the address verified (keeps the first verification time).
    async fn mark_email_verified(&self, id: UserId) -> Result<(), StoreError>;

    /// Starts a session for `user` that ends at `expires_at`, with a new
    /// random token and CSRF token. Call it at every login (new id each time).
    async fn create_session(&self, user: UserId, expires_at: DateTime<Utc>) -> Result<NewSession, StoreError>;

    /// The session whose cookie holds `token`; `None` when unknown, expired,
    /// or the member is suspended.
    async fn session(&self, token: &str) -> Result<Option<Session>, StoreError>;

    /// Ends one session (logout); `false` when there was none.
    async fn delete_session(&self, token: &str) -> Result<bool, StoreError>;

    /// Ends every session of a member; returns how many there were.
    async fn delete_user_sessions(&self, user: UserId) -> Result<u64, StoreError>;

    /// Removes expired sessions and email links; returns how many rows went.
    async fn purge_expired(&self) -> Result<u64, StoreError>;

    /// A new token named `name` (see [`paperboy_core::member::token_name`]);
    /// the secret (`pb_` and 64 hex digits) is returned once.
    async fn create_api_token(&self, user: UserId, name: &str) -> Result<(ApiToken, Secret), StoreError>;

    /// A member's tokens, newest first, revoked ones included.
    async fn api_tokens(&self, user: UserId) -> Result<Vec<ApiToken>, StoreError>;

    /// Revokes one of `user`'s own tokens; `false` when `user` has no such
    /// live token (someone else's token is never touched).
    async fn revoke_api_token(&self, user: UserId, token: ApiTokenId) -> Result<bool, StoreError>;

    /// Revokes every live token of `user` (after a password reset or
    /// change); returns how many.
    async fn revoke_user_api_tokens(&self, user: UserId) -> Result<u64, StoreError>;

    /// The member a bearer token belongs to, recording its use; `None` when
    /// unknown, revoked, or the member is suspended.
    async fn api_token_user(&self, secret: &str) -> Result<Option<User>, StoreError>;

    /// A link secret for `purpose`, valid until `expires_at` and usable once.
    /// A verification link is bound to the member's current address.
    async fn create_email_token(
        &self,
        user: UserId,
        purpose: EmailPurpose,
        expires_at: DateTime<Utc>,
    ) -> Result<Secret, StoreError>;

    /// Uses a link: [`StoreError::TokenUnknown`] (also for the wrong purpose),
    /// [`StoreError::TokenExpired`] or [`StoreError::TokenUsed`], else the
    /// member, after marking the link used. A `Verify` link also marks the
    /// address verified, in the same transaction, if the member's address is
    /// still the one it was sent to (else `TokenUnknown`). For `Reset`, the
    /// caller then sets the password.
    async fn consume_email_token(&self, secret: &str, purpose: EmailPurpose) -> Result<User, StoreError>;

    /// Spends every unused link of `user` for `purpose` (marks it used, so
    /// it answers [`StoreError::TokenUsed`]); returns how many. A password
    /// reset or change spends the member's other reset links.
    async fn spend_email_tokens(&self, user: UserId, purpose: EmailPurpose) -> Result<u64, StoreError>;
}
