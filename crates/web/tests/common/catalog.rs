//! The test catalog of the page, feed and API tests: fifteen hand-made papers
//! over four weeks (an old-style id, a local `pb-` id, a withdrawn paper, a
//! hostile title and author), and servers over it.

use chrono::{DateTime, NaiveDate, Utc};
use paperboy_core::{Paper, PaperId};
use paperboy_store::Catalog;
use paperboy_web::WebSettings;

use super::{Launch, Server};

/// The hostile title of paper 2603.00103, as stored and as escaped HTML.
pub const HOSTILE: &str = "<script>alert(1)</script> & \"quotes\"";
pub const HOSTILE_HTML: &str = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;";
pub const RAW_SCRIPT: &str = "<script>alert(1)</script>";
/// The abstract of paper 2603.00103: markup that an RSS reader would run if
/// it arrived as HTML.
pub const HOSTILE_ABSTRACT: &str = "We show <img src=x onerror=alert(3)> in an abstract.";

pub fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

pub fn ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A paper listed on `listed` (`YYYY-MM-DD`); the id `local` makes a local `pb-` id.
pub fn paper(id: &str, title: &str, listed: &str, cats: &[&str]) -> Paper {
    let id = if id == "local" { PaperId::local_from_title(title) } else { PaperId::parse(id).unwrap() };
    let mut p = Paper::new(id, title, day(listed));
    p.authors = vec!["Ada Lovelace".into(), "Alan Turing".into()];
    p.abstract_text = format!("We study {title}. Our results are good.");
    p.categories = cats.iter().map(|c| c.to_string()).collect();
    p.version = Some(1);
    p.normalize();
    p
}

/// Fifteen papers: five on Thu 12 March 2026, five on Wed 11 March, two on
/// Mon 9 March (all ISO week 11), one on Mon 2 March (week 10), two in
/// February.
pub fn catalog() -> Vec<Paper> {
    let mut moe = paper("2603.00101", "Sparse Mixture of Experts for Vision", "2026-03-12", &["cs.CV", "cs.LG"]);
    moe.authors = ["Grace Hopper", "Edsger Dijkstra", "Barbara Liskov", "Donald Knuth", "Frances Allen"]
        .map(String::from)
        .to_vec();
    moe.abstract_text = format!("{} The end of a long abstract.", "Long words here. ".repeat(40));
    moe.links.code = Some("https://github.com/example/moe".into());
    moe.links.project = Some("https://moe.example.org/".into());
    moe.doi = Some("10.1000/xyz123".into());
    moe.journal_ref = Some("Journal of Tests 1 (2026) 1-12".into());
    moe.comment = Some("12 pages, 4 figures".into());
    moe.version = Some(2);
    moe.submitted_at = Some(ts("2026-03-10T12:00:00Z"));
    moe.updated_at = Some(ts("2026-03-11T08:30:00Z"));

    let mut withdrawn = paper("2603.00093", "A Withdrawn Result", "2026-03-11", &["cs.CV"]);
    withdrawn.comment = Some("This paper has been withdrawn by the authors".into());
    withdrawn.normalize();

    let mut evil = paper("2603.00103", HOSTILE, "2026-03-12", &["cs.CL"]);
    evil.authors = vec!["Mallory <b>Bold</b>".into()];
    evil.links.code = Some("javascript:alert(2)".into());
    evil.abstract_text = HOSTILE_ABSTRACT.into();

    vec![
        moe,
        paper("2603.00102", "Diffusion Transformers at Scale", "2026-03-12", &["cs.CV"]),
        evil,
        paper("2603.00104", "Retrieval-Augmented Agents", "2026-03-12", &["cs.CL", "cs.AI"]),
        paper("2603.00105", "Quantum Error Correction with Neural Decoders", "2026-03-12", &["quant-ph", "cs.LG"]),
        paper("2603.00090", "Mamba Meets Attention", "2026-03-11", &["cs.LG"]),
        paper("2603.00091", "Scaling Laws for Robots", "2026-03-11", &["cs.RO"]),
        paper("2603.00092", "Graph Neural Operators", "2026-03-11", &["cs.LG", "math.NA"]),
        withdrawn,
        paper("2603.00094", "Vision Language Pretraining Revisited", "2026-03-11", &["cs.CV"]),
        paper("hep-th/9901001", "Old-Style Strings and Branes", "2026-03-09", &["hep-th"]),
        paper("local", "A Pasted Paper Without an arXiv Id", "2026-03-09", &["cs.DL"]),
        paper("2603.00010", "Last Week Paper on Vision", "2026-03-02", &["cs.CV"]),
        paper("2602.00500", "February Highlights", "2026-02-25", &["cs.CV"]),
        paper("2602.00501", "Another February Paper", "2026-02-25", &["cs.AI"]),
    ]
}

/// The real server over a SQLite store holding [`catalog`], with `page_size`.
pub async fn start(page_size: u32) -> Server {
    let (dir, store) = super::sqlite().await;
    store.upsert_papers(&catalog()).await.unwrap();
    Launch::bind().await.config(WebSettings { page_size, ..WebSettings::default() }).keep(dir).serve(store)
}

/// The real server over the test catalog, believing it is reached at
/// `public_url`.
pub async fn start_at(public_url: &str) -> Server {
    let (dir, store) = super::sqlite().await;
    store.upsert_papers(&catalog()).await.unwrap();
    Launch::bind().await.public_url(public_url).keep(dir).serve(store)
}

/// The real server over an empty SQLite store.
pub async fn start_empty() -> Server {
    let (dir, store) = super::sqlite().await;
    Launch::bind().await.keep(dir).serve(store)
}
