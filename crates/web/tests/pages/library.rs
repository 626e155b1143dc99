//! `/settings/library` (`src/pages/library.rs`, `src/multipart.rs`): the
//! fixtures of `tests/fixtures/library/` uploaded as a browser does
//! (multipart, CSRF token in the body) and the report they give; pasted
//! text; refused uploads (empty, 3 MiB, not BibTeX or RIS, no token);
//! paging; and privacy (another member sees and removes nothing, visitors
//! are sent to log in, nothing is cacheable).

use crate::common;

use common::catalog::paper;
use common::{Browser, Launch, Server};
use paperboy_core::UserId;
use paperboy_store::{Catalog, Interests, SqlStore};
use reqwest::StatusCode;

const PW: &str = "correct horse battery";

pub struct Member {
    pub b: Browser,
    pub csrf: String,
    pub id: UserId,
}

/// A site whose catalog has some papers the fixtures name (by arXiv id,
/// DOI and title), and members `ann` and `bob`.
pub async fn site() -> Server {
    let (dir, store) = common::sqlite().await;
    let mut lstm = paper("2603.00200", "Long Short-Term Memory (catalog copy)", "2026-03-10", &["cs.NE"]);
    lstm.doi = Some("10.1162/NECO.1997.9.8.1735".into());
    store
        .upsert_papers(&[
            paper("1706.03762", "Attention Is All You Need", "2026-03-10", &["cs.CL"]),
            paper(
                "2312.00752",
                "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
                "2026-03-10",
                &["cs.LG"],
            ),
            paper("1810.04805", "BERT", "2026-03-10", &["cs.CL"]),
            paper("1512.03385", "Deep Residual Learning for Image Recognition", "2026-03-10", &["cs.CV"]),
            lstm,
        ])
        .await
        .unwrap();
    common::members(&store, &["ann", "bob"], PW).await;
    Launch::bind().await.keep(dir).serve(store)
}

pub async fn member(site: &Server, name: &str) -> Member {
    let mut b = Browser::new(site);
    let r = b.log_in(name, PW).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let csrf = b.get("/settings").await.csrf();
    let user = accounts_user(&site.store, name).await;
    Member { b, csrf, id: user }
}

async fn accounts_user(store: &SqlStore, name: &str) -> UserId {
    use paperboy_store::Accounts;
    let username = paperboy_core::Username::parse(name).unwrap();
    store.user_by_username(&username).await.unwrap().unwrap().id
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../../tests/fixtures/library/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

pub struct Answer {
    pub status: StatusCode,
    pub cache_control: String,
    pub body: String,
}

/// Posts a multipart form as a browser does: `(name, filename, content)`.
pub async fn multipart(m: &Member, path: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Answer {
    let boundary = "----PaperboyTestBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, filename, content) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let r =
        m.b.client
            .post(m.b.url(path))
            .header("cookie", m.b.cookie_header())
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
            .await
            .unwrap();
    let status = r.status();
    let cache_control = common::header(&r, "cache-control");
    Answer { status, cache_control, body: r.text().await.unwrap() }
}

async fn upload(m: &Member, file: &str) -> Answer {
    let bytes = fixture(file);
    multipart(
        m,
        "/settings/library",
        &[("csrf", None, m.csrf.as_bytes()), ("file", Some(file), &bytes), ("text", None, b"")],
    )
    .await
}

/// The report's counters, as the page prints them.
fn counts(body: &str) -> String {
    let grab = |class: &str| {
        let at = body.find(&format!("<span class=\"{class}\">")).unwrap_or_else(|| panic!("no {class} in {body}"));
        let rest = &body[at..];
        let start = rest.find('>').unwrap() + 1;
        rest[start..start + rest[start..].find('<').unwrap()].to_string()
    };
    ["parsed", "added", "matched", "duplicates", "rejected"].map(grab).join(", ")
}

#[tokio::test]
async fn each_fixture_uploads_with_its_report() {
    let site = site().await;
    let cases = [
        ("zotero.bib", "4 read, 4 added, 3 matched to papers here, 0 already in your library, 0 could not be read"),
        ("scholar.bib", "4 read, 4 added, 2 matched to papers here, 0 already in your library, 0 could not be read"),
        ("zotero.ris", "3 read, 3 added, 1 matched to papers here, 0 already in your library, 0 could not be read"),
        ("mendeley.ris", "3 read, 3 added, 2 matched to papers here, 0 already in your library, 0 could not be read"),
        ("broken.bib", "3 read, 3 added, 0 matched to papers here, 0 already in your library, 3 could not be read"),
        ("broken.ris", "2 read, 2 added, 0 matched to papers here, 0 already in your library, 3 could not be read"),
    ];
    for (file, expected) in cases {
        // A fresh library each time: `ann` clears hers through the page.
        let mut ann = member(&site, "ann").await;
        let r = upload(&ann, file).await;
        assert_eq!(r.status, StatusCode::OK, "{file}: {}", r.body);
        assert_eq!(r.cache_control, "private, no-store", "{file}");
        assert_eq!(counts(&r.body), expected, "{file}");
        let cleared = ann.b.post("/settings/interests/clear", &[("csrf", &ann.csrf), ("kind", "library")]).await;
        assert_eq!(cleared.status, StatusCode::SEE_OTHER, "{}", cleared.body);
    }
}

#[tokio::test]
async fn the_report_links_matches_lists_the_rest_and_the_rejected_lines() {
    let site = site().await;
    let mut ann = member(&site, "ann").await;
    let r = upload(&ann, "zotero.bib").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let matched = &r.body[r.body.find("<ul class=\"matched\">").expect("matched list")..];
    let matched = &matched[..matched.find("</ul>").unwrap()];
    for id in ["1706.03762", "2312.00752", "2603.00200"] {
        assert!(matched.contains(&format!("href=\"/papers/{id}\"")), "{id} linked: {matched}");
    }
    let unmatched = &r.body[r.body.find("<ul class=\"unmatched\">").expect("unmatched list")..];
    assert!(
        unmatched[..unmatched.find("</ul>").unwrap()]
            .contains("Grundlagen der Quantenmechanik für Sprachmodelle – eine Étude")
    );

    // The same file again: everything is a duplicate.
    let again = upload(&ann, "zotero.bib").await;
    assert_eq!(
        counts(&again.body),
        "4 read, 0 added, 0 matched to papers here, 4 already in your library, 0 could not be read"
    );

    let broken = upload(&ann, "broken.bib").await;
    assert_eq!(broken.status, StatusCode::OK);
    for line in [
        "Line 18: unterminated braces: the field `title` on line 19 is never closed",
        "Line 23: the entry `no_title_2019` has no title",
        "Line 37: the field `title` on line 38 has no `=`",
    ] {
        assert!(broken.body.contains(line), "{line}: {}", broken.body);
    }

    // The library lists every entry, newest first, each with a remove button.
    let page = ann.b.get("/settings/library").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Entries (7)"), "{}", page.body);
    assert!(page.body.contains("Language Models are Unsupervised Multitask Learners"));
    assert_eq!(page.body.matches("action=\"/settings/library/remove\"").count(), 7);
}

#[tokio::test]
async fn pasted_text_is_imported_from_the_multipart_form_and_a_plain_form() {
    let site = site().await;
    let mut ann = member(&site, "ann").await;
    let text = b"@misc{a, title = {Attention Is All You Need}, eprint = {1706.03762}, archivePrefix = {arXiv}}";
    let r = multipart(
        &ann,
        "/settings/library",
        &[("csrf", None, ann.csrf.as_bytes()), ("file", Some(""), b""), ("text", None, text)],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        counts(&r.body),
        "1 read, 1 added, 1 matched to papers here, 0 already in your library, 0 could not be read"
    );
    let ris = "TY  - JOUR\nTI  - Deep residual learning for image recognition\nER  - \n";
    let r = ann.b.post("/settings/library", &[("csrf", &ann.csrf), ("text", ris)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("<span class=\"matched\">1 matched"), "matched by title: {}", r.body);
}

async fn send(m: &Member, file: Vec<u8>) -> Answer {
    multipart(m, "/settings/library", &[("csrf", None, m.csrf.as_bytes()), ("file", Some("x.bib"), &file)]).await
}

#[tokio::test]
async fn bad_uploads_are_refused_with_readable_messages() {
    let site = site().await;
    let ann = member(&site, "ann").await;
    let empty = send(&ann, Vec::new()).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert!(empty.body.contains("the upload was empty"), "{}", empty.body);

    let html = send(&ann, b"<!doctype html><html><body>My papers</body></html>".to_vec()).await;
    assert_eq!(html.status, StatusCode::BAD_REQUEST);
    assert!(html.body.contains("does not look like a BibTeX or RIS file"), "{}", html.body);

    let all_broken = send(&ann, b"@article{x, author = {Nobody}}\n".to_vec()).await;
    assert_eq!(all_broken.status, StatusCode::BAD_REQUEST);
    assert!(all_broken.body.contains("line 1: the entry `x` has no title"), "{}", all_broken.body);

    let mut huge = b"@misc{big, title = {Big}, abstract = {".to_vec();
    huge.resize(3 * 1024 * 1024, b'a');
    let big = send(&ann, huge).await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(big.body.contains("Export part of your library and upload it in pieces"), "{}", big.body);

    let mut over = b"@misc{big, title = {Big}, abstract = {".to_vec();
    over.resize(paperboy_services::library::MAX_LIBRARY_BYTES + 10, b'a');
    let just_over = send(&ann, over).await;
    assert_eq!(just_over.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(just_over.body.contains("the largest library file accepted is 2048 KiB"), "{}", just_over.body);

    // No CSRF token, or someone else's: nothing stored.
    let bytes = fixture("zotero.bib");
    let forged = multipart(&ann, "/settings/library", &[("file", Some("z.bib"), &bytes)]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let wrong = multipart(
        &ann,
        "/settings/library",
        &[("csrf", None, b"0123456789abcdef0123"), ("file", Some("z.bib"), &bytes)],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(site.store.library(ann.id, 100, 0).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_library_is_paged() {
    let site = site().await;
    let mut ann = member(&site, "ann").await;
    let text: String = (0..60).map(|i| format!("@misc{{k{i}, title = {{Paged entry number {i:02}}}}}\n")).collect();
    let r =
        multipart(&ann, "/settings/library", &[("csrf", None, ann.csrf.as_bytes()), ("text", None, text.as_bytes())])
            .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let first = ann.b.get("/settings/library").await;
    assert_eq!(first.body.matches("action=\"/settings/library/remove\"").count(), 50);
    assert!(first.body.contains("Page 1 of 2"));
    let second = ann.b.get("/settings/library?p=1").await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(second.body.matches("action=\"/settings/library/remove\"").count(), 10);
    assert_eq!(ann.b.get("/settings/library?p=2").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn nobody_else_sees_or_removes_a_members_library() {
    let site = site().await;
    let mut ann = member(&site, "ann").await;
    assert_eq!(upload(&ann, "zotero.bib").await.status, StatusCode::OK);
    let entries = site.store.library(ann.id, 100, 0).await.unwrap();
    assert_eq!(entries.len(), 4);

    let mut bob = member(&site, "bob").await;
    let page = bob.b.get("/settings/library").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Nothing imported yet"));
    assert!(!page.body.contains("Attention Is All You Need"));
    let theirs =
        bob.b.post("/settings/library/remove", &[("csrf", &bob.csrf), ("entry", &entries[0].id.to_string())]).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{}", theirs.body);
    assert_eq!(site.store.library(ann.id, 100, 0).await.unwrap().len(), 4);

    // Visitors are sent to log in; their posts change nothing.
    let mut visitor = Browser::new(&site);
    let r = visitor.get("/settings/library").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/login?next=%2Fsettings%2Flibrary");
    let r = visitor.post("/settings/library/remove", &[("entry", &entries[0].id.to_string())]).await;
    assert!(r.status.is_client_error());
    assert_eq!(site.store.library(ann.id, 100, 0).await.unwrap().len(), 4);

    // The member removes her own entry.
    let own =
        ann.b.post("/settings/library/remove", &[("csrf", &ann.csrf), ("entry", &entries[0].id.to_string())]).await;
    assert_eq!(own.status, StatusCode::SEE_OTHER);
    assert_eq!(site.store.library(ann.id, 100, 0).await.unwrap().len(), 3);
    let page = ann.b.get("/settings/library").await;
    assert_eq!(page.headers.get("cache-control").unwrap(), "private, no-store");
    assert!(page.body.contains("Entries (3)"));
}
