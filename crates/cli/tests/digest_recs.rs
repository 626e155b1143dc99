//! The personal digest end to end: `paperboy digest run` as real processes
//! against the aiosmtpd sink, on a catalog where two members upvoted papers
//! on mixture-of-experts models and asked for "recommended for me" (one
//! instead of trending, one beside it). Each gets exactly one digest for the
//! period, even with two runs racing and a third run after them; its
//! "Recommended for you" section lists the period's papers closest to what
//! they liked, each with its `Like: …` reason, in the HTML and the text
//! part, with the RFC 8058 one-click headers. A member who asked for
//! recommendations but has no signal yet gets no mail (nothing to say), and
//! a subscriber without an account keeps the trending digest.

use crate::common;

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Stdio};

use chrono::{Days, NaiveDate, Utc};
use paperboy_core::{Email, Paper, PaperId, Role, Username};
use paperboy_store::{Accounts, Catalog, Community, DigestContent, Mailing, NewUser, SqlStore};
use paperboy_test_support::smtp::{Received, Sink};

/// What the two members liked (listed well before the period).
const LIKED: [(&str, &str, &str); 3] = [
    (
        "2609.00001",
        "Sparse mixture of experts with learned token routing",
        "A sparse mixture of experts layer routes each token to a few experts chosen by a learned gating network, \
         so the model grows its parameters without growing its compute per token.",
    ),
    (
        "2609.00002",
        "Load balancing losses for mixture of experts training",
        "Auxiliary load balancing losses keep the experts of a mixture of experts model evenly used; we compare \
         them for routing stability during large scale training.",
    ),
    (
        "2609.00003",
        "Expert parallelism for sparse transformer language models",
        "We shard the experts of sparse mixture of experts transformers across devices and overlap the all-to-all \
         token routing with computation.",
    ),
];

/// The period's papers: two close to the likes, the rest far from them.
const TODAY: [(&str, &str, &str); 6] = [
    (
        "2611.00011",
        "Expert choice routing for mixture of experts language models",
        "Instead of tokens choosing experts, each expert chooses its tokens: a routing scheme for sparse mixture \
         of experts language models with perfect load balancing.",
    ),
    (
        "2611.00012",
        "Token dropping and capacity factors in sparse expert models",
        "How the capacity factor of a sparse mixture of experts layer decides which routed tokens are dropped, \
         and a gating network that drops fewer.",
    ),
    (
        "2611.00013",
        "Protein structure prediction on lattice models",
        "We fold proteins on a cubic lattice with a Monte Carlo search over contact energies and compare the \
         folds with crystal structures.",
    ),
    (
        "2611.00014",
        "Weak lensing shear of galaxy clusters",
        "Weak gravitational lensing measurements of galaxy cluster masses from the shear of background galaxies \
         in wide field surveys.",
    ),
    (
        "2611.00015",
        "Bayesian optimisation of chemical reaction yields",
        "A Gaussian process surrogate picks the next reaction conditions to try, and finds high yields in fewer \
         laboratory experiments.",
    ),
    (
        "2611.00016",
        "Glacier retreat measured from satellite radar",
        "Interferometric radar from satellites measures how fast mountain glaciers retreat over a decade.",
    ),
];

fn paper(id: &str, title: &str, abstract_text: &str, listed_on: NaiveDate) -> Paper {
    let mut p = Paper::new(PaperId::parse(id).unwrap(), title, listed_on);
    p.authors = vec!["Grace Hopper".into()];
    p.abstract_text = abstract_text.into();
    p.categories = vec!["cs.LG".into()];
    p.version = Some(1);
    p.normalize();
    p
}

/// The catalog, the members and the subscriptions.
fn prepare(data: &Path) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        std::fs::create_dir_all(data).unwrap();
        let store = SqlStore::open_sqlite(&data.join("paperboy.db")).await.unwrap();
        let today = Utc::now().date_naive();
        let earlier = today - Days::new(60);
        let mut papers: Vec<Paper> = LIKED.iter().map(|(id, t, a)| paper(id, t, a, earlier)).collect();
        papers.extend(TODAY.iter().map(|(id, t, a)| paper(id, t, a, today)));
        store.upsert_papers(&papers).await.unwrap();
        for (name, content, likes) in [
            ("ada", DigestContent::Recommended, true),
            ("bob", DigestContent::Both, true),
            ("dan", DigestContent::Recommended, false),
        ] {
            let email = Email::parse(&format!("{name}@example.org")).unwrap();
            let user = store
                .create_user(&NewUser {
                    username: Username::parse(name).unwrap(),
                    email: email.clone(),
                    password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$hash".into(),
                    role: Role::Member,
                    email_verified: true,
                })
                .await
                .unwrap();
            let sub = store.subscribe(&email, Some(user.id)).await.unwrap();
            store.confirm_subscriber(sub.id).await.unwrap();
            store.set_digest_content(sub.id, content).await.unwrap();
            if likes {
                for (id, _, _) in LIKED {
                    store.set_vote(user.id, &PaperId::parse(id).unwrap(), true).await.unwrap();
                }
            }
        }
        let carol = store.subscribe(&Email::parse("carol@example.org").unwrap(), None).await.unwrap();
        store.confirm_subscriber(carol.id).await.unwrap();
    });
}

fn digest_cmd(data: &Path, port: u16) -> Command {
    let mut c = Command::new(common::bin());
    c.arg("--data-dir")
        .arg(data)
        .args(["digest", "run", "--period", "daily"])
        .env_remove("PAPERBOY_CONFIG")
        .env("PAPERBOY_SMTP_HOST", "127.0.0.1")
        .env("PAPERBOY_SMTP_PORT", port.to_string())
        .env("PAPERBOY_SMTP_SECURITY", "plain")
        .env("PAPERBOY_MAIL_RATE", "50")
        .env("PAPERBOY_MAIL_TIME_ZONE", "UTC")
        .env("PAPERBOY_BASE_URL", "http://127.0.0.1:9");
    c
}

fn mail_to<'a>(mails: &'a [Received], rcpt: &str) -> &'a Received {
    let to: Vec<&Received> = mails.iter().filter(|m| m.rcpt == rcpt).collect();
    assert_eq!(to.len(), 1, "exactly one digest to {rcpt}");
    to[0]
}

/// Whether `body` gives a `Like: …` reason naming one of the liked papers.
fn has_like_reason(body: &str) -> bool {
    LIKED.iter().any(|(_, title, _)| body.contains(&format!("Like: {title}")))
}

#[test]
fn a_member_who_asked_for_recommendations_gets_them_with_reasons_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let Some(sink) = Sink::started(&dir.path().join("sink")) else { return };
    prepare(&data);

    // Two runs racing (say a manual run while the server's job fires).
    let racing: Vec<_> = (0..2)
        .map(|_| digest_cmd(&data, sink.port).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap())
        .collect();
    let mut queued = 0;
    for child in racing {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        let n: u32 = stdout
            .split("queued: ")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no count in {stdout}"));
        queued += n;
    }
    assert_eq!(queued, 3, "ada, bob and carol are queued once between the two runs; dan has nothing");

    // A third run finds everything queued and sends nothing more.
    let again = digest_cmd(&data, sink.port).output().unwrap();
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert!(stdout.contains("queued: 0"), "{stdout}");
    let mails = sink.messages();
    assert_eq!(mails.len(), 3, "{:?}", mails.iter().map(|m| &m.rcpt).collect::<Vec<_>>());
    let ids: HashSet<String> = mails.iter().map(|m| m.header("Message-ID").unwrap()).collect();
    assert_eq!(ids.len(), 3, "one Message-ID each");
    assert!(!mails.iter().any(|m| m.rcpt == "dan@example.org"), "no signal yet: nothing to recommend, no mail");

    // Recommended only: the picks with their reasons, no trending list.
    let ada = mail_to(&mails, "ada@example.org");
    let subject = ada.header("Subject").unwrap();
    assert!(subject.contains("recommended for you"), "{subject}");
    assert_eq!(ada.header("List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
    assert!(ada.header("List-Unsubscribe").unwrap().contains("http://127.0.0.1:9/unsubscribe/"));
    let (text, html) = (ada.part("text/plain").unwrap(), ada.part("text/html").unwrap());
    // Left for a person to look at (tests/artifacts).
    std::fs::write(common::artifacts_dir().join("digest-recommended.html"), &html).unwrap();
    std::fs::write(common::artifacts_dir().join("digest-recommended.txt"), &text).unwrap();
    assert!(text.contains("RECOMMENDED FOR YOU") && html.contains("Recommended for you"), "{text}");
    assert!(!text.contains("TRENDING") && !html.contains("Trending</h2>"), "recommendations only: {text}");
    assert!(has_like_reason(&text), "a Like: reason in the text part: {text}");
    assert!(has_like_reason(&html), "a Like: reason in the HTML part");
    let first = text.split("RECOMMENDED FOR YOU\n\n* ").nth(1).unwrap_or("");
    assert!(
        first.starts_with(TODAY[0].1) || first.starts_with(TODAY[1].1),
        "the closest paper to the likes leads: {first}"
    );
    for (_, liked, _) in LIKED {
        assert!(!text.contains(&format!("* {liked}")), "a liked paper is never recommended back");
    }

    // Both: the recommendations, then the trending list.
    let bob = mail_to(&mails, "bob@example.org");
    let text = bob.part("text/plain").unwrap();
    let (rec, trend) = (text.find("RECOMMENDED FOR YOU").unwrap(), text.find("TRENDING").unwrap());
    assert!(rec < trend, "{text}");
    assert!(has_like_reason(&text) && has_like_reason(&bob.part("text/html").unwrap()));
    assert!(bob.header("Subject").unwrap().contains("recommended for you and trending papers"));

    // Without an account: the trending digest as before.
    let carol = mail_to(&mails, "carol@example.org");
    let text = carol.part("text/plain").unwrap();
    assert!(text.contains("TRENDING") && !text.contains("RECOMMENDED"), "{text}");
    assert!(carol.header("Subject").unwrap().contains("trending papers"));
}
