//! Member accounts over the store's [`Accounts`] trait: sign-up, login and
//! password changes, and the workflows of the account pages built on them:
//! sign-up with its verification link, log-in with a fresh session, logout,
//! password reset (request and link), email verification, and a password
//! change that logs out every other session; personal API tokens.
//!
//! * Passwords are hashed with argon2id (the `argon2` crate's defaults:
//!   19 MiB, 2 passes, 1 lane, a 16-byte random salt) in PHC string form;
//!   the store only ever sees the hash. Hashing runs on a blocking thread,
//!   with a permit from [`HashGate::global`] (at most about 256 MiB of
//!   hashing at once; no permit within two seconds is
//!   [`LimitError::Busy`]).
//! * A password has at least [`MIN_PASSWORD_CHARS`] characters, at most
//!   [`MAX_PASSWORD_CHARS`], and is not the username.
//! * Login checks the password with argon2's constant-time verification;
//!   for an unknown member it verifies against a dummy hash all the same, so
//!   the answer takes as long and says only "wrong username or password".
//!
//! * Every log-in starts a new session and ends the one the browser had, so
//!   a session id planted before login is worthless. Sessions last
//!   [`SESSION_DAYS`].
//! * Verification and reset links are mailed when a [`Postman`] is given;
//!   otherwise they are written to the server log (see [`LinkMail`]).
//!
//! * The site's workflows apply the rate limits ([`Limits`], see
//!   `limits.rs`) themselves, counting an attempt before the password is
//!   checked: log-in and password change per client address and per
//!   account, sign-up and reset requests per client address. `client` is
//!   the client's address block (an IPv4 address, or an IPv6 /64).
//! * A password reset or change ends every session of the member, revokes
//!   their API tokens and spends their other reset links.
//!
//! Cookies are the web layer's job.

use std::sync::{Arc, OnceLock};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::Utc;
use paperboy_core::{ApiTokenId, CoreError, Email, Role, UserId, Username};
use paperboy_mail::Postman;
use paperboy_store::{
    Accounts, ApiToken, Coordination, Database, EmailPurpose, NewSession, NewUser, Secret, StoreError, User,
};

use crate::limits::{Attempt, HashGate, LimitError, Limiter, Limits};
use crate::subscriptions::{self, Digest};
use thiserror::Error;

/// How long a login lasts.
pub const SESSION_DAYS: i64 = 30;
/// How long a verification link lasts.
pub const VERIFY_HOURS: i64 = 48;
/// How long a reset link lasts.
pub const RESET_HOURS: i64 = 1;

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted, in characters (bounds the hashing work).
pub const MAX_PASSWORD_CHARS: usize = 1000;

/// Why an account operation was refused. Every message can be shown to the
/// person who typed the values, except [`AccountError::Store`] and
/// [`AccountError::Hash`], which are our failures.
#[derive(Debug, Error)]
pub enum AccountError {
    /// A username, address or password that breaks the rules.
    #[error("{0}")]
    Invalid(String),
    #[error("the username {0:?} is taken (names are compared ignoring case): choose another")]
    UsernameTaken(String),
    #[error("an account with this email address already exists: log in, or reset its password")]
    EmailTaken,
    /// Unknown member or wrong password: deliberately the same answer.
    #[error("wrong username or password")]
    WrongCredentials,
    #[error("this account is suspended")]
    Suspended,
    /// A new password refused before a reset link is used up, so that the
    /// link still works for a second try.
    #[error("the password is too short: use at least {MIN_PASSWORD_CHARS} characters")]
    PasswordTooShort,
    #[error(transparent)]
    Store(StoreError),
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// Over a rate limit, or the server is busy hashing (see `limits.rs`).
    #[error(transparent)]
    Limited(LimitError),
}

impl From<LimitError> for AccountError {
    fn from(e: LimitError) -> Self {
        match e {
            LimitError::Store(s) => AccountError::Store(s),
            other => AccountError::Limited(other),
        }
    }
}

impl From<StoreError> for AccountError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UsernameTaken { username } => AccountError::UsernameTaken(username),
            StoreError::EmailTaken => AccountError::EmailTaken,
            StoreError::Invalid(e) => AccountError::Invalid(e.to_string()),
            other => AccountError::Store(other),
        }
    }
}

impl From<CoreError> for AccountError {
    fn from(e: CoreError) -> Self {
        AccountError::Invalid(e.to_string())
    }
}

impl AccountError {
    /// Whether the person who sent the values is at fault, so that the form
    /// is shown again with the message (a 400 or 401), rather than us or a
    /// limit (which have their own answers).
    pub fn is_client_error(&self) -> bool {
        !matches!(self, AccountError::Store(_) | AccountError::Hash(_) | AccountError::Limited(_))
    }
}

/// What sign-up asks for.
#[derive(Debug, Clone)]
pub struct SignUp<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    pub role: Role,
    /// Accounts made by the operator may start verified.
    pub email_verified: bool,
}

/// Checks the password rules for `username`.
pub fn check_password(username: &Username, password: &str) -> Result<(), AccountError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(AccountError::Invalid(format!(
            "the password is too short: use at least {MIN_PASSWORD_CHARS} characters (a few words make a good one)"
        )));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(AccountError::Invalid(format!(
            "the password is too long: use at most {MAX_PASSWORD_CHARS} characters"
        )));
    }
    if password.trim().eq_ignore_ascii_case(username.as_str()) {
        return Err(AccountError::Invalid("the password must not be your username".to_string()));
    }
    Ok(())
}

/// Hashes a password with argon2id and a fresh random salt (PHC string),
/// with a permit of [`HashGate::global`].
pub async fn hash_password(password: &str) -> Result<String, AccountError> {
    let password = password.to_string();
    let permit = HashGate::global().permit().await?;
    tokio::task::spawn_blocking(move || {
        // Held until the hash is done, even if the request went away.
        let _permit = permit;
        hash_now(&password)
    })
    .await
    .map_err(|e| AccountError::Hash(e.to_string()))?
}

fn hash_now(password: &str) -> Result<String, AccountError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AccountError::Hash(format!("no random salt: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AccountError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC `hash` (constant-time comparison
/// inside argon2), with a permit of [`HashGate::global`]. An unreadable
/// hash never matches.
async fn verify(password: &str, hash: String) -> Result<bool, AccountError> {
    let password = password.to_string();
    let permit = HashGate::global().permit().await?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        match PasswordHash::new(&hash) {
            Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
            Err(e) => {
                tracing::error!(error = %e, "a stored password hash is unreadable");
                false
            }
        }
    })
    .await
    .map_err(|e| AccountError::Hash(e.to_string()))
}

/// A hash of a random password, verified against when the member is
/// unknown so that the response takes as long as for a known one.
fn dummy_hash() -> String {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY
        .get_or_init(|| {
            let mut pw = [0u8; 24];
            let _ = getrandom::fill(&mut pw);
            let pw: String = pw.iter().map(|b| char::from(b'a' + b % 26)).collect();
            hash_now(&pw).unwrap_or_default()
        })
        .clone()
}

/// Creates an account after checking every rule.
pub async fn sign_up(db: &dyn Accounts, form: &SignUp<'_>) -> Result<User, AccountError> {
    let username = Username::parse(form.username)?;
    let email = Email::parse(form.email)?;
    check_password(&username, form.password)?;
    let password_hash = hash_password(form.password).await?;
    let new = NewUser { username, email, password_hash, role: form.role, email_verified: form.email_verified };
    Ok(db.create_user(&new).await?)
}

/// Checks a login: `login` is a username or an email address. Unknown
/// members and wrong passwords are both [`AccountError::WrongCredentials`],
/// in about the same time; a suspended member with the right password is
/// [`AccountError::Suspended`].
pub async fn log_in(db: &dyn Accounts, login: &str, password: &str) -> Result<User, AccountError> {
    let user = find_member(db, login).await?;
    check_login(db, user, password).await
}

/// The member `login` (a username or an email address) names, if any.
async fn find_member(db: &dyn Accounts, login: &str) -> Result<Option<User>, AccountError> {
    Ok(if login.contains('@') {
        match Email::parse(login) {
            Ok(e) => db.user_by_email(&e).await?,
            Err(_) => None,
        }
    } else {
        match Username::parse(login) {
            Ok(u) => db.user_by_username(&u).await?,
            Err(_) => None,
        }
    })
}

/// Checks `password` against `user`'s (a dummy hash when unknown); see [`log_in`].
async fn check_login(db: &dyn Accounts, user: Option<User>, password: &str) -> Result<User, AccountError> {
    let hash = match &user {
        Some(u) => db.password_hash(u.id).await?,
        None => None,
    };
    let known = hash.is_some();
    let ok = verify(password, hash.unwrap_or_else(dummy_hash)).await?;
    match user {
        Some(u) if ok && known => {
            if u.is_suspended() {
                Err(AccountError::Suspended)
            } else {
                Ok(u)
            }
        }
        _ => Err(AccountError::WrongCredentials),
    }
}

/// Changes a member's password after checking the current one. Sessions
/// are left to the caller (log out elsewhere with `delete_user_sessions`).
pub async fn change_password(db: &dyn Accounts, user: &User, current: &str, new: &str) -> Result<(), AccountError> {
    check_current(db, user, current).await?;
    set_password(db, user, new).await
}

/// Whether `current` is `user`'s password (else `Invalid`, for the form).
async fn check_current(db: &dyn Accounts, user: &User, current: &str) -> Result<(), AccountError> {
    let hash = db.password_hash(user.id).await?;
    let known = hash.is_some();
    if !(verify(current, hash.unwrap_or_else(dummy_hash)).await? && known) {
        return Err(AccountError::Invalid("the current password is wrong".to_string()));
    }
    Ok(())
}

/// After a password reset or change: ends every session of `user`, revokes
/// their API tokens and spends their unused reset links, so whoever knew
/// the old password (or held a link or token made with it) is out.
async fn revoke_everything(db: &dyn Accounts, user: &User) -> Result<(), AccountError> {
    db.delete_user_sessions(user.id).await?;
    let tokens = db.revoke_user_api_tokens(user.id).await?;
    let links = db.spend_email_tokens(user.id, EmailPurpose::Reset).await?;
    tracing::info!(user = %user.username, tokens, links, "sessions ended, API tokens revoked, reset links spent");
    Ok(())
}

/// The attempts one password check counts: one per client address, one
/// per account, both under `limiter`.
struct Tries<'l> {
    limiter: &'l Limiter,
    user_key: String,
    ip: Attempt,
    user: Attempt,
}

impl<'l> Tries<'l> {
    /// Counts the attempt under `ip:{client}` and `user_key`, or refuses it
    /// (counting nothing) when either is over its limit.
    async fn reserve(
        db: &dyn Coordination,
        limiter: &'l Limiter,
        client: &str,
        user_key: String,
    ) -> Result<Tries<'l>, AccountError> {
        let ip = limiter.reserve(db, &format!("ip:{client}")).await?;
        match limiter.reserve(db, &user_key).await {
            Ok(user) => Ok(Tries { limiter, user_key, ip, user }),
            Err(e) => {
                limiter.release(db, ip).await?;
                Err(e.into())
            }
        }
    }

    /// The password was right: the address's attempt is given back and the
    /// account's failures are forgotten.
    async fn succeeded(self, db: &dyn Coordination) -> Result<(), AccountError> {
        self.limiter.release(db, self.ip).await?;
        self.limiter.clear(db, &self.user_key).await?;
        Ok(())
    }

    /// The password was never checked (no hashing permit): both attempts
    /// are given back.
    async fn not_made(self, db: &dyn Coordination) -> Result<(), AccountError> {
        self.limiter.release(db, self.ip).await?;
        self.limiter.release(db, self.user).await?;
        Ok(())
    }

    /// Settles the attempts after a password check that ended with
    /// `outcome`: a failure (wrong password, suspended) stays counted.
    async fn settle<T>(self, db: &dyn Coordination, outcome: &Result<T, AccountError>) -> Result<(), AccountError> {
        match outcome {
            Ok(_) => self.succeeded(db).await,
            Err(AccountError::Limited(_)) => self.not_made(db).await,
            Err(_) => Ok(()),
        }
    }
}

/// The per-account rate-limit key: the member's name when `login` names
/// one (so a username and an email address share a limit), else what was
/// typed.
fn user_key(user: Option<&User>, login: &str) -> String {
    match user {
        Some(u) => format!("user:{}", u.username.as_str().to_lowercase()),
        None => format!("user:{}", login.trim().to_lowercase()),
    }
}

/// Sets a new password without asking for the old one (after a reset link).
pub async fn set_password(db: &dyn Accounts, user: &User, new: &str) -> Result<(), AccountError> {
    check_password(&user.username, new)?;
    let hash = hash_password(new).await?;
    db.set_password(user.id, &hash).await?;
    Ok(())
}

// --- The account workflows ------------------------------------------------

/// Where account links point and how they travel: mailed by `postman`, or,
/// without one, written to the server log for the operator to pass on.
#[derive(Clone, Copy)]
pub struct LinkMail<'a> {
    /// The site's address without trailing slash; links are `{base_url}/verify/…`, `{base_url}/reset/…`.
    pub base_url: &'a str,
    pub postman: Option<&'a Arc<Postman>>,
}

impl LinkMail<'_> {
    /// Mails `link` to `user` (or logs it); `what` names it in the log.
    fn send(&self, user: &User, what: &str, mail: AccountMail<'_>, link: &str) {
        match self.postman {
            Some(postman) => {
                postman.send_account_mail(&user.email, mail.subject, mail.intro, mail.button, link);
                tracing::info!(user = %user.username, "{what} mail sent");
            }
            None => tracing::info!(user = %user.username, %link, "{what} link (no SMTP server is configured)"),
        }
    }
}

/// The words of one account mail.
struct AccountMail<'a> {
    subject: &'a str,
    intro: &'a str,
    button: &'a str,
}

/// Ends the session `old` (the browser's, if any) and starts a new one for
/// `user`, lasting [`SESSION_DAYS`].
pub async fn start_session(db: &dyn Accounts, user: UserId, old: Option<&str>) -> Result<NewSession, AccountError> {
    if let Some(token) = old {
        db.delete_session(token).await?;
    }
    let expires = Utc::now() + chrono::Duration::days(SESSION_DAYS);
    Ok(db.create_session(user, expires).await?)
}

/// Sign-up on the site: counts the attempt against the sign-up limit of
/// `client` (every attempt counts, so this limits account creation, not
/// just mistakes), creates the account (see [`sign_up`]), sends the
/// verification link, and logs the new member in (ending the browser's
/// `old` session).
pub async fn register(
    db: &dyn Database,
    limits: &Limits,
    client: &str,
    form: &SignUp<'_>,
    old: Option<&str>,
    mail: LinkMail<'_>,
) -> Result<(User, NewSession), AccountError> {
    let attempt = limits.signup.reserve(db, &format!("ip:{client}")).await?;
    let user = match sign_up(db, form).await {
        Ok(user) => user,
        Err(e @ AccountError::Limited(_)) => {
            // Never tried (no hashing permit): it does not count.
            limits.signup.release(db, attempt).await?;
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    send_verification(db, &user, mail).await?;
    let session = start_session(db, user.id, old).await?;
    Ok((user, session))
}

/// A member's request for a new confirmation link (from their settings):
/// nothing to do when the address is already confirmed (`false`), else
/// counted against [`Limits::verify_mail`] and sent (`true`).
pub async fn resend_verification(
    db: &dyn Database,
    limits: &Limits,
    user: &User,
    mail: LinkMail<'_>,
) -> Result<bool, AccountError> {
    if user.is_verified() {
        return Ok(false);
    }
    // Every request counts: the attempt is kept.
    let _counted = limits.verify_mail.reserve(db, &format!("user:{}", user.id)).await?;
    send_verification(db, user, mail).await?;
    Ok(true)
}

/// Mails (or logs) `user` a link that confirms their address, valid for
/// [`VERIFY_HOURS`]: at sign-up, and again when they ask from their settings.
pub async fn send_verification(db: &dyn Accounts, user: &User, mail: LinkMail<'_>) -> Result<(), AccountError> {
    let expires = Utc::now() + chrono::Duration::hours(VERIFY_HOURS);
    let secret = db.create_email_token(user.id, EmailPurpose::Verify, expires).await?;
    let link = format!("{}/verify/{}", mail.base_url, secret.as_str());
    let intro = format!("Welcome, {}! Confirm that this address is yours.", user.username);
    let words = AccountMail { subject: "Confirm your email address", intro: &intro, button: "Confirm my address" };
    mail.send(user, "email verification", words, &link);
    Ok(())
}

/// Log-in on the site: counts the attempt against the login limits of
/// `client` and of the account before the password is checked
/// ([`AccountError::Limited`] when either is reached), checks the
/// credentials (see [`log_in`]) and starts a new session, ending the
/// browser's `old` one. A wrong password stays counted; a right one gives
/// the address's attempt back and clears the account's failures.
pub async fn log_in_session(
    db: &dyn Database,
    limits: &Limits,
    client: &str,
    login: &str,
    password: &str,
    old: Option<&str>,
) -> Result<(User, NewSession), AccountError> {
    let member = find_member(db, login).await?;
    let tries = Tries::reserve(db, &limits.login, client, user_key(member.as_ref(), login)).await?;
    let outcome = check_login(db, member, password).await;
    tries.settle(db, &outcome).await?;
    let user = outcome?;
    let session = start_session(db, user.id, old).await?;
    tracing::info!(user = %user.username, "logged in");
    Ok((user, session))
}

/// Ends the session with cookie token `token`.
pub async fn log_out(db: &dyn Accounts, token: &str) -> Result<(), AccountError> {
    db.delete_session(token).await?;
    Ok(())
}

/// Makes a reset link for the address `email` (as typed) if a member who
/// is not suspended has it, and mails (or logs) it. Every request counts
/// against the reset limit of `client` (under `reset-ip:…`); an address
/// that is not one is [`AccountError::Invalid`]. The caller answers the
/// same whether the address has an account or not.
pub async fn request_reset(
    db: &dyn Database,
    limits: &Limits,
    client: &str,
    email: &str,
    mail: LinkMail<'_>,
) -> Result<(), AccountError> {
    let _counted = limits.signup.reserve(db, &format!("reset-ip:{client}")).await?;
    let email = Email::parse(email)?;
    let Some(user) = db.user_by_email(&email).await?.filter(|u| !u.is_suspended()) else {
        return Ok(());
    };
    let expires = Utc::now() + chrono::Duration::hours(RESET_HOURS);
    let secret = db.create_email_token(user.id, EmailPurpose::Reset, expires).await?;
    let link = format!("{}/reset/{}", mail.base_url, secret.as_str());
    let words = AccountMail {
        subject: "Reset your password",
        intro: "Someone asked to reset your password. The link works for one hour; ignore this mail if it was not you.",
        button: "Choose a new password",
    };
    mail.send(&user, "password reset", words, &link);
    Ok(())
}

/// Uses the reset link `token`: sets `password`, logs the member out
/// everywhere, revokes their API tokens and spends their other reset
/// links. A password shorter than [`MIN_PASSWORD_CHARS`] is refused
/// ([`AccountError::PasswordTooShort`]) before the link is used up.
pub async fn reset_password(db: &dyn Accounts, token: &str, password: &str) -> Result<User, AccountError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::PasswordTooShort);
    }
    let user = db.consume_email_token(token, EmailPurpose::Reset).await?;
    set_password(db, &user, password).await?;
    revoke_everything(db, &user).await?;
    tracing::info!(user = %user.username, "password reset");
    Ok(user)
}

/// Uses the verification link `token`: the member's address is confirmed.
pub async fn verify_email(db: &dyn Accounts, token: &str) -> Result<User, AccountError> {
    Ok(db.consume_email_token(token, EmailPurpose::Verify).await?)
}

/// The settings page's password change: checks the current password
/// under the same limits as log-in (per `client` address and per account,
/// counted before the check), sets the new one, ends every session of the
/// member, revokes their API tokens and spends their reset links, and
/// starts a fresh session for the browser that asked.
pub async fn change_password_everywhere(
    db: &dyn Database,
    limits: &Limits,
    client: &str,
    user: &User,
    current: &str,
    new: &str,
) -> Result<NewSession, AccountError> {
    let tries = Tries::reserve(db, &limits.login, client, user_key(Some(user), "")).await?;
    let outcome = check_current(db, user, current).await;
    tries.settle(db, &outcome).await?;
    outcome?;
    set_password(db, user, new).await?;
    revoke_everything(db, user).await?;
    start_session(db, user.id, None).await
}

/// What a member's settings page shows.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Their API tokens, revoked ones included.
    pub tokens: Vec<ApiToken>,
    /// Their email digest, when they have one (and `digests` was asked for).
    pub digest: Option<Digest>,
}

/// The settings of `user`; `digests` says whether the site sends digests
/// (without, the page has no digest part).
pub async fn settings(db: &dyn Database, user: &User, digests: bool) -> Result<Settings, AccountError> {
    let tokens = db.api_tokens(user.id).await?;
    let digest = if digests { subscriptions::member_digest(db, user).await? } else { None };
    Ok(Settings { tokens, digest })
}

/// Makes a personal API token named `name` (1 to 100 characters) for
/// `user`: its secret, to be shown once.
pub async fn create_api_token(db: &dyn Accounts, user: &User, name: &str) -> Result<Secret, AccountError> {
    let name = paperboy_core::member::token_name(name)?;
    let (_, secret) = db.create_api_token(user.id, name).await?;
    Ok(secret)
}

/// Revokes `user`'s live token `id`; `false` when they have no such token.
pub async fn revoke_api_token(db: &dyn Accounts, user: &User, id: ApiTokenId) -> Result<bool, AccountError> {
    Ok(db.revoke_api_token(user.id, id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules() {
        let ada = Username::parse("ada_lovelace").unwrap();
        assert!(check_password(&ada, "correct horse battery").is_ok());
        assert!(check_password(&ada, "short").unwrap_err().to_string().contains("at least 10"));
        assert!(check_password(&ada, "ADA_LOVELACE").unwrap_err().to_string().contains("username"));
        assert!(check_password(&ada, &"x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
        // Characters, not bytes.
        assert!(check_password(&ada, "ééééé").is_err());
    }

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash_now("correct horse battery").unwrap();
        let b = hash_now("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$v=19$"), "{a}");
        assert_ne!(a, b, "a fresh salt each time");
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        assert!(rt.block_on(verify("correct horse battery", a.clone())).unwrap());
        assert!(!rt.block_on(verify("correct horse batterx", a)).unwrap());
        assert!(!rt.block_on(verify("x", "not a hash".into())).unwrap());
        assert!(!dummy_hash().is_empty());
    }
}
