//! Digest subscriptions through `paperboy_services::subscriptions` on a
//! real SQLite file: double opt-in for visitors, none for a member's own
//! verified address, the signed links, and the manage form's changes. The
//! mailer points at a closed loopback port: these tests look at the
//! outbox, not at delivery.

use std::sync::Arc;

use chrono::Utc;
use paperboy_core::{Email, Role};
use paperboy_mail::{DeliverySettings, DigestBuilder, Mailer, Postman, Purpose, Security, Signer, Site, SmtpSettings};
use paperboy_services::accounts::{self, SignUp};
use paperboy_services::limits::Limits;
use paperboy_services::subscriptions::{self, Change, Done, SubscriptionError};
use paperboy_store::{Database, Frequency, Mailing, SqlStore};

async fn setup() -> (tempfile::TempDir, SqlStore, Arc<Postman>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::open_sqlite(&dir.path().join("paperboy.db")).await.unwrap();
    let db: Arc<dyn Database> = Arc::new(store.clone());
    let site = Site {
        name: "Paperboy".into(),
        base_url: "http://127.0.0.1:8080".into(),
        from: paperboy_mail::message::sender("Paperboy", "digest@example.org").unwrap(),
        tz: "UTC".parse().unwrap(),
    };
    // A port nobody listens on: queued mail stays queued.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let smtp = SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: Security::Plain,
        username: None,
        password: None,
        timeout: std::time::Duration::from_secs(2),
        ca_file: None,
    };
    let mailer = Mailer::new(&smtp, &site.from).unwrap();
    let builder = DigestBuilder { db, search: None, picks: None, signer: Signer::random().unwrap(), site };
    let postman = Arc::new(Postman::new(builder, mailer, DeliverySettings::default()));
    (dir, store, postman)
}

async fn queued(db: &SqlStore) -> u64 {
    let c = db.outbox_counts().await.unwrap();
    c.pending + c.sent + c.failed
}

fn link(postman: &Postman, purpose: Purpose, id: paperboy_store::SubscriberId) -> String {
    postman.signer().sign(purpose, id, Utc::now() + chrono::Duration::hours(1))
}

#[tokio::test]
async fn a_visitor_confirms_by_link_manages_and_unsubscribes() {
    let (_dir, db, postman) = setup().await;
    let email = Email::parse("reader@example.org").unwrap();
    let own = subscriptions::subscribe_address(&db, &postman, &Limits::default(), "192.0.2.1", email.as_str(), None)
        .await
        .unwrap();
    assert!(!own);
    assert_eq!(queued(&db).await, 1, "the confirmation mail is queued");
    let sub = db.subscriber_by_email(&email).await.unwrap().unwrap();
    assert!(sub.confirmed_at.is_none());
    // A forged link is refused.
    let e = subscriptions::confirm(&db, &postman, "garbage").await.unwrap_err();
    assert!(matches!(e, SubscriptionError::Link(_)), "{e:?}");
    // A link for another purpose is refused too.
    let e = subscriptions::confirm(&db, &postman, &link(&postman, Purpose::Manage, sub.id)).await.unwrap_err();
    assert!(matches!(e, SubscriptionError::Link(_)), "{e:?}");
    let confirmed = subscriptions::confirm(&db, &postman, &link(&postman, Purpose::Confirm, sub.id)).await.unwrap();
    assert!(confirmed.confirmed_at.is_some());

    let manage = link(&postman, Purpose::Manage, sub.id);
    let update = Change::Update { frequency: None, categories: "cs.LG", content: None };
    let (_, outcome) = subscriptions::manage(&db, &postman, &manage, update).await.unwrap();
    assert_eq!(outcome.unwrap_err(), "Choose how often: daily or weekly.");
    let update = Change::Update { frequency: Some(Frequency::Weekly), categories: "cs.LG; DROP", content: None };
    let (_, outcome) = subscriptions::manage(&db, &postman, &manage, update).await.unwrap();
    assert!(outcome.unwrap_err().contains("is not a category"));
    let update = Change::Update { frequency: Some(Frequency::Weekly), categories: "cs.LG, cs.CV", content: None };
    let (digest, outcome) = subscriptions::manage(&db, &postman, &manage, update).await.unwrap();
    assert_eq!(outcome, Ok(Done::Saved));
    assert_eq!(digest.subscriber.frequency, Frequency::Weekly);
    assert_eq!(digest.subscriber.categories, vec!["cs.LG", "cs.CV"]);
    let (digest, outcome) =
        subscriptions::manage(&db, &postman, &manage, Change::AddSearch("  diffusion   models ")).await.unwrap();
    assert_eq!(outcome, Ok(Done::SearchAdded("diffusion models".into())));
    assert_eq!(digest.searches.len(), 1);
    let search = digest.searches[0].id;
    let (digest, outcome) =
        subscriptions::manage(&db, &postman, &manage, Change::RemoveSearch(Some(search))).await.unwrap();
    assert_eq!(outcome, Ok(Done::SearchRemoved));
    assert!(digest.searches.is_empty());
    let (_, outcome) = subscriptions::manage(&db, &postman, &manage, Change::Unknown).await.unwrap();
    assert!(outcome.is_err());

    let gone = subscriptions::unsubscribe(&db, &postman, &link(&postman, Purpose::Unsubscribe, sub.id)).await.unwrap();
    assert_eq!(gone.id, sub.id);
    assert!(db.subscriber(sub.id).await.unwrap().unwrap().unsubscribed_at.is_some());
}

#[tokio::test]
async fn a_member_with_a_verified_address_needs_no_confirmation_mail() {
    let (_dir, db, postman) = setup().await;
    let form = SignUp {
        username: "ada",
        email: "ada@example.org",
        password: "correct horse battery",
        role: Role::Member,
        email_verified: true,
    };
    let ada = accounts::sign_up(&db, &form).await.unwrap();
    let e = subscriptions::member_manage(&db, &ada, Change::AddSearch("x")).await.unwrap_err();
    assert!(matches!(e, SubscriptionError::NoDigest));
    assert!(subscriptions::member_digest(&db, &ada).await.unwrap().is_none());
    // Another member's address from the box is a visitor's subscription.
    let other = Email::parse("someone@example.org").unwrap();
    assert!(
        !subscriptions::subscribe_address(&db, &postman, &Limits::default(), "192.0.2.1", other.as_str(), Some(&ada))
            .await
            .unwrap()
    );
    assert_eq!(queued(&db).await, 1);
    // Their own address: confirmed at once, no mail.
    assert!(
        subscriptions::subscribe_address(
            &db,
            &postman,
            &Limits::default(),
            "192.0.2.1",
            ada.email.as_str(),
            Some(&ada)
        )
        .await
        .unwrap()
    );
    assert_eq!(queued(&db).await, 1);
    let digest = subscriptions::member_digest(&db, &ada).await.unwrap().unwrap();
    assert!(digest.subscriber.confirmed_at.is_some());
    let outcome = subscriptions::member_manage(&db, &ada, Change::AddSearch("state space models")).await.unwrap();
    assert_eq!(outcome, Ok(Done::SearchAdded("state space models".into())));
    let s = accounts::settings(&db, &ada, true).await.unwrap();
    assert_eq!(s.digest.unwrap().searches.len(), 1);
}

/// Issue 14, item 4: an account whose address is not verified cannot take
/// over the digest someone already has at that address (it would then read
/// and change their saved searches from its settings).
#[tokio::test]
async fn an_unverified_member_cannot_link_an_existing_subscription() {
    let (_dir, db, postman) = setup().await;
    // The owner of the address subscribes as a visitor and saves a search.
    let email = Email::parse("owner@example.org").unwrap();
    subscriptions::subscribe_address(&db, &postman, &Limits::default(), "192.0.2.1", email.as_str(), None)
        .await
        .unwrap();
    let sub = db.subscriber_by_email(&email).await.unwrap().unwrap();
    subscriptions::confirm(&db, &postman, &link(&postman, Purpose::Confirm, sub.id)).await.unwrap();
    let manage = link(&postman, Purpose::Manage, sub.id);
    let (_, added) = subscriptions::manage(&db, &postman, &manage, Change::AddSearch("private topic")).await.unwrap();
    assert!(added.is_ok());
    // Someone signs up with that address, unverified, and asks to subscribe.
    let form = SignUp {
        username: "mallory",
        email: "owner@example.org",
        password: "correct horse battery",
        role: Role::Member,
        email_verified: false,
    };
    let mallory = accounts::sign_up(&db, &form).await.unwrap();
    let e = subscriptions::subscribe_member(&db, &postman, &mallory).await.unwrap_err();
    assert!(matches!(e, SubscriptionError::Unverified(_)), "{e:?}");
    assert!(e.to_string().contains("confirm your email address first"), "{e}");
    // Nothing was linked: the settings show no digest and cannot change it.
    assert!(subscriptions::member_digest(&db, &mallory).await.unwrap().is_none());
    assert!(db.subscriber_for_user(mallory.id).await.unwrap().is_none());
    let e = subscriptions::member_manage(&db, &mallory, Change::RemoveSearch(Some(1))).await.unwrap_err();
    assert!(matches!(e, SubscriptionError::NoDigest), "{e:?}");
    assert_eq!(db.saved_searches(sub.id).await.unwrap().len(), 1, "the owner's search is still there");
    // Once the address is verified, the member may link it.
    let verified = SignUp { username: "owner", email: "owner2@example.org", email_verified: true, ..form };
    let owner = accounts::sign_up(&db, &verified).await.unwrap();
    subscriptions::subscribe_member(&db, &postman, &owner).await.unwrap();
    assert!(subscriptions::member_digest(&db, &owner).await.unwrap().is_some());
}
