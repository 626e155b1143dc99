//! Member accounts over the store's [`Accounts`] trait: sign-up, login and
//! password changes, and the workflows of the account pages built on them:
//! sign-up with its verification link, log-in with a fresh session, logout,
//! password reset (request and link), email verification, and a password
//! change that logs out every other session; personal API tokens.
//!
//! * Passwords are hashed with argon2id (the `argon2` crate's defaults:
//!   19 MiB, 2 passes, 1 lane, a 16-byte random salt) in PHC string form;
//!   the store only ever sees the hash. Hashing runs on a blocking thread.
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
//! Rate limiting and cookies are the web layer's job.

use std::sync::{Arc, OnceLock};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::Utc;
use paperboy_core::{ApiTokenId, CoreError, Email, Role, UserId, Username};
use paperboy_mail::Postman;
use paperboy_store::{Accounts, ApiToken, Database, EmailPurpose, NewSession, NewUser, Secret, StoreError, User};

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
    /// Whether the person who sent the values is at fault (a 4xx), rather than us.
    pub fn is_client_error(&self) -> bool {
        !matches!(self, AccountError::Store(_) | AccountError::Hash(_))
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

/// Hashes a password with argon2id and a fresh random salt (PHC string).
pub async fn hash_password(password: &str) -> Result<String, AccountError> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || hash_now(&password)).await.map_err(|e| AccountError::Hash(e.to_string()))?
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
/// inside argon2). An unreadable hash never matches.
async fn verify(password: &str, hash: String) -> Result<bool, AccountError> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || match PasswordHash::new(&hash) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(e) => {
            tracing::error!(error = %e, "a stored password hash is unreadable");
            false
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
    let user = if login.contains('@') {
        match Email::parse(login) {
            Ok(e) => db.user_by_email(&e).await?,
            Err(_) => None,
        }
    } else {
        match Username::parse(login) {
            Ok(u) => db.user_by_username(&u).await?,
            Err(_) => None,
        }
    };
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
    let hash = db.password_hash(user.id).await?;
    let known = hash.is_some();
    if !(verify(current, hash.unwrap_or_else(dummy_hash)).await? && known) {
        return Err(AccountError::Invalid("the current password is wrong".to_string()));
    }
    set_password(db, user, new).await
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

/// Sign-up on the site: creates the account (see [`sign_up`]), sends the
/// verification link, and logs the new member in (ending the browser's
/// `old` session).
pub async fn register(
    db: &dyn Accounts,
    form: &SignUp<'_>,
    old: Option<&str>,
    mail: LinkMail<'_>,
) -> Result<(User, NewSession), AccountError> {
    let user = sign_up(db, form).await?;
    send_verification(db, &user, mail).await?;
    let session = start_session(db, user.id, old).await?;
    Ok((user, session))
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

/// Log-in on the site: checks the credentials (see [`log_in`]) and starts
/// a new session, ending the browser's `old` one.
pub async fn log_in_session(
    db: &dyn Accounts,
    login: &str,
    password: &str,
    old: Option<&str>,
) -> Result<(User, NewSession), AccountError> {
    let user = log_in(db, login, password).await?;
    let session = start_session(db, user.id, old).await?;
    tracing::info!(user = %user.username, "logged in");
    Ok((user, session))
}

/// Ends the session with cookie token `token`.
pub async fn log_out(db: &dyn Accounts, token: &str) -> Result<(), AccountError> {
    db.delete_session(token).await?;
    Ok(())
}

/// Makes a reset link for `email` if a member who is not suspended has it,
/// and mails (or logs) it. The caller answers the same either way.
pub async fn request_reset(db: &dyn Accounts, email: &Email, mail: LinkMail<'_>) -> Result<(), AccountError> {
    let Some(user) = db.user_by_email(email).await?.filter(|u| !u.is_suspended()) else {
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

/// Uses the reset link `token`: sets `password` and logs the member out
/// everywhere. A password shorter than [`MIN_PASSWORD_CHARS`] is refused
/// ([`AccountError::PasswordTooShort`]) before the link is used up.
pub async fn reset_password(db: &dyn Accounts, token: &str, password: &str) -> Result<User, AccountError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::PasswordTooShort);
    }
    let user = db.consume_email_token(token, EmailPurpose::Reset).await?;
    set_password(db, &user, password).await?;
    db.delete_user_sessions(user.id).await?;
    tracing::info!(user = %user.username, "password reset");
    Ok(user)
}

/// Uses the verification link `token`: the member's address is confirmed.
pub async fn verify_email(db: &dyn Accounts, token: &str) -> Result<User, AccountError> {
    Ok(db.consume_email_token(token, EmailPurpose::Verify).await?)
}

/// The settings page's password change: checks the current password, sets
/// the new one, ends every session of the member, and starts a fresh one
/// for the browser that asked.
pub async fn change_password_everywhere(
    db: &dyn Accounts,
    user: &User,
    current: &str,
    new: &str,
) -> Result<NewSession, AccountError> {
    change_password(db, user, current, new).await?;
    db.delete_user_sessions(user.id).await?;
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
