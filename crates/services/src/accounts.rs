//! Member accounts over the store's [`Accounts`] trait: sign-up, login and
//! password changes.
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
//! Rate limiting and sessions are the web layer's job.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use paperboy_core::{CoreError, Email, Role, Username};
use paperboy_store::{Accounts, NewUser, StoreError, User};
use thiserror::Error;

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
