//! The account workflows of `paperboy_services::accounts` on a real SQLite
//! file: sessions replaced at sign-up and log-in, password resets that keep
//! the link for a second try and log out everywhere, email verification,
//! password changes, and the settings page's data.

use chrono::Utc;
use paperboy_core::Role;
use paperboy_services::accounts::{self, AccountError, LinkMail, SignUp};
use paperboy_services::limits::{LIMIT_WINDOW, LimitError, Limiter, Limits, MAX_FAILURES, SUBSCRIBE_MAX, VERIFY_MAILS};
use paperboy_store::{Accounts, Moderation};
use paperboy_store::{EmailPurpose, SqlStore, StoreError, User};

const PW: &str = "correct horse battery";

async fn store() -> (tempfile::TempDir, SqlStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::open_sqlite(&dir.path().join("paperboy.db")).await.unwrap();
    (dir, store)
}

fn form<'a>(name: &'a str, email: &'a str) -> SignUp<'a> {
    SignUp { username: name, email, password: PW, role: Role::Member, email_verified: false }
}

/// The site's limits, and the address block of the client in these tests.
const LIMITS: Limits = Limits {
    login: Limiter::new("login", MAX_FAILURES, LIMIT_WINDOW),
    signup: Limiter::new("signup", MAX_FAILURES, LIMIT_WINDOW),
    subscribe: Limiter::new("subscribe", SUBSCRIBE_MAX, LIMIT_WINDOW),
    verify_mail: Limiter::new("verify-mail", VERIFY_MAILS, LIMIT_WINDOW),
};
const CLIENT: &str = "192.0.2.1";

const NO_MAIL: LinkMail<'static> = LinkMail { base_url: "http://127.0.0.1:8080", postman: None };

async fn alice(db: &SqlStore) -> User {
    accounts::sign_up(db, &form("alice", "alice@example.org")).await.unwrap()
}

#[tokio::test]
async fn sign_up_logs_the_new_member_in_and_ends_the_browsers_old_session() {
    let (_dir, db) = store().await;
    let a = alice(&db).await;
    let old = accounts::start_session(&db, a.id, None).await.unwrap();
    let (bob, session) =
        accounts::register(&db, &LIMITS, CLIENT, &form("bob", "bob@example.org"), Some(old.token.as_str()), NO_MAIL)
            .await
            .unwrap();
    assert!(!bob.is_verified(), "verified only through the link");
    assert!(db.session(old.token.as_str()).await.unwrap().is_none(), "the old session is over");
    assert_eq!(db.session(session.token.as_str()).await.unwrap().unwrap().user.id, bob.id);
    // The rules of sign-up still hold.
    let e =
        accounts::register(&db, &LIMITS, CLIENT, &form("BOB", "other@example.org"), None, NO_MAIL).await.unwrap_err();
    assert!(matches!(e, AccountError::UsernameTaken(_)), "{e:?}");
}

#[tokio::test]
async fn log_in_checks_the_password_and_starts_a_fresh_session() {
    let (_dir, db) = store().await;
    let a = alice(&db).await;
    let e = accounts::log_in_session(&db, &LIMITS, CLIENT, "alice", "wrong password!", None).await.unwrap_err();
    assert!(matches!(e, AccountError::WrongCredentials));
    let first = accounts::start_session(&db, a.id, None).await.unwrap();
    let (user, session) =
        accounts::log_in_session(&db, &LIMITS, CLIENT, "alice@example.org", PW, Some(first.token.as_str()))
            .await
            .unwrap();
    assert_eq!(user.id, a.id);
    assert!(db.session(first.token.as_str()).await.unwrap().is_none());
    assert!(db.session(session.token.as_str()).await.unwrap().is_some());
    accounts::log_out(&db, session.token.as_str()).await.unwrap();
    assert!(db.session(session.token.as_str()).await.unwrap().is_none());
    db.set_suspended(a.id, true).await.unwrap();
    let e = accounts::log_in_session(&db, &LIMITS, CLIENT, "alice", PW, None).await.unwrap_err();
    assert!(matches!(e, AccountError::Suspended));
}

#[tokio::test]
async fn a_reset_link_survives_a_short_password_then_logs_out_everywhere() {
    let (_dir, db) = store().await;
    let a = alice(&db).await;
    let session = accounts::start_session(&db, a.id, None).await.unwrap();
    // Asking for a link says nothing about whether the address has an account.
    accounts::request_reset(&db, &LIMITS, CLIENT, "nobody@example.org", NO_MAIL).await.unwrap();
    accounts::request_reset(&db, &LIMITS, CLIENT, a.email.as_str(), NO_MAIL).await.unwrap();
    let token =
        db.create_email_token(a.id, EmailPurpose::Reset, Utc::now() + chrono::Duration::hours(1)).await.unwrap();
    let e = accounts::reset_password(&db, token.as_str(), "short").await.unwrap_err();
    assert!(matches!(e, AccountError::PasswordTooShort));
    assert!(e.is_client_error());
    let user = accounts::reset_password(&db, token.as_str(), "a brand new passphrase").await.unwrap();
    assert_eq!(user.id, a.id);
    assert!(db.session(session.token.as_str()).await.unwrap().is_none(), "every session was ended");
    assert!(accounts::log_in(&db, "alice", "a brand new passphrase").await.is_ok());
    assert!(matches!(accounts::log_in(&db, "alice", PW).await, Err(AccountError::WrongCredentials)));
    // A link works once.
    let e = accounts::reset_password(&db, token.as_str(), "yet another passphrase").await.unwrap_err();
    assert!(matches!(e, AccountError::Store(StoreError::TokenUsed | StoreError::TokenUnknown)), "{e:?}");
}

#[tokio::test]
async fn verification_confirms_the_address() {
    let (_dir, db) = store().await;
    let a = alice(&db).await;
    let token =
        db.create_email_token(a.id, EmailPurpose::Verify, Utc::now() + chrono::Duration::hours(48)).await.unwrap();
    let user = accounts::verify_email(&db, token.as_str()).await.unwrap();
    assert_eq!(user.id, a.id);
    assert!(db.user_by_id(a.id).await.unwrap().unwrap().is_verified());
    assert!(accounts::verify_email(&db, &"0".repeat(64)).await.is_err());
}

#[tokio::test]
async fn a_password_change_ends_every_session_but_a_fresh_one() {
    let (_dir, db) = store().await;
    let a = alice(&db).await;
    let one = accounts::start_session(&db, a.id, None).await.unwrap();
    let two = accounts::start_session(&db, a.id, None).await.unwrap();
    let e =
        accounts::change_password_everywhere(&db, &LIMITS, CLIENT, &a, "not the password", "a brand new passphrase")
            .await;
    assert!(matches!(e, Err(AccountError::Invalid(_))));
    assert!(db.session(one.token.as_str()).await.unwrap().is_some(), "nothing changed");
    let fresh =
        accounts::change_password_everywhere(&db, &LIMITS, CLIENT, &a, PW, "a brand new passphrase").await.unwrap();
    assert!(db.session(one.token.as_str()).await.unwrap().is_none());
    assert!(db.session(two.token.as_str()).await.unwrap().is_none());
    assert_eq!(db.session(fresh.token.as_str()).await.unwrap().unwrap().user.id, a.id);
}

#[tokio::test]
async fn api_tokens_are_named_listed_and_revoked() {
    let (_dir, db) = store().await;
    let a = alice(&db).await;
    let e = accounts::create_api_token(&db, &a, "   ").await.unwrap_err();
    assert!(matches!(e, AccountError::Invalid(_)) && e.to_string().contains("token name"), "{e}");
    let secret = accounts::create_api_token(&db, &a, " laptop ").await.unwrap();
    assert_eq!(db.api_token_user(secret.as_str()).await.unwrap().unwrap().id, a.id);
    let s = accounts::settings(&db, &a, false).await.unwrap();
    assert_eq!(s.tokens.len(), 1);
    assert_eq!(s.tokens[0].name, "laptop");
    assert!(s.digest.is_none());
    assert!(accounts::revoke_api_token(&db, &a, s.tokens[0].id).await.unwrap());
    assert!(!accounts::revoke_api_token(&db, &a, s.tokens[0].id).await.unwrap(), "revoked already");
    assert!(db.api_token_user(secret.as_str()).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_wrong_passwords_are_checked_at_most_the_limit_times() {
    let (_dir, db) = store().await;
    alice(&db).await;
    let db = std::sync::Arc::new(db);
    let mut tasks = Vec::new();
    for i in 0..40 {
        let db = db.clone();
        // From many addresses, so that only the account's limit holds them back.
        let client = format!("192.0.2.{i}");
        tasks.push(tokio::spawn(async move {
            accounts::log_in_session(db.as_ref(), &LIMITS, &client, "alice", "wrong password!", None).await
        }));
    }
    let (mut checked, mut limited) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Err(AccountError::WrongCredentials) => checked += 1,
            Err(AccountError::Limited(LimitError::TooMany { retry_after })) => {
                assert!((1..=900).contains(&retry_after));
                limited += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(checked, MAX_FAILURES as usize, "exactly the limit was checked");
    assert_eq!(limited, 40 - checked);
    // The right password waits too, by email address as by name.
    let e = accounts::log_in_session(db.as_ref(), &LIMITS, "198.51.100.1", "alice@example.org", PW, None).await;
    assert!(matches!(e, Err(AccountError::Limited(LimitError::TooMany { .. }))), "{e:?}");
}

#[tokio::test]
async fn a_right_password_gives_its_attempt_back() {
    let (_dir, db) = store().await;
    alice(&db).await;
    // Many good logins from one address never reach the limit...
    for _ in 0..(MAX_FAILURES + 2) {
        accounts::log_in_session(&db, &LIMITS, CLIENT, "alice", PW, None).await.unwrap();
    }
    // ...and wrong ones count.
    for _ in 0..MAX_FAILURES {
        let e = accounts::log_in_session(&db, &LIMITS, CLIENT, "nobody_at_all", PW, None).await.unwrap_err();
        assert!(matches!(e, AccountError::WrongCredentials));
    }
    let e = accounts::log_in_session(&db, &LIMITS, CLIENT, "alice", PW, None).await.unwrap_err();
    assert!(matches!(e, AccountError::Limited(LimitError::TooMany { .. })), "the address is at its limit: {e:?}");
}
