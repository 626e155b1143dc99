//! Property tests of every importer: arbitrary and mutated inputs never
//! panic and yield a bounded number of items; generated records written in
//! each format (arXiv JSONL, Kaggle, Atom, OAI-PMH `arXiv` and `arXivRaw`,
//! plain listing) parse back to the papers they were made from; a bad
//! record among good ones is rejected with its location and the others are
//! kept. Also the date, author and OAI paging parsers. Cases per property:
//! `PROPTEST_CASES` (64 by default; `bench/fuzz.sh` runs many more).

use std::io::{Cursor, Write as _};

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use paperboy_core::{ArxivId, Paper, PaperId};
use proptest::prelude::*;
use proptest::test_runner::Config;

use crate::authors::split_authors;
use crate::dates::{parse_day_header, parse_rfc2822, parse_rfc3339, parse_ymd};
use crate::{Format, ImportOptions, Item, from_reader, oai_page_info};

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64);
    Config { cases, failure_persistence: None, ..Config::default() }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2031, 6, 15).unwrap_or_default()
}

fn opts() -> ImportOptions {
    ImportOptions { listed_on: None, today: today() }
}

/// Imports `bytes`; every item is read (the iterator must end), and there
/// are never more items than lines, records or bytes could explain.
fn import(bytes: &[u8]) -> Result<(Format, Vec<Item>), TestCaseError> {
    let records = match from_reader(Cursor::new(bytes.to_vec()), &opts()) {
        Ok(r) => r,
        Err(_) => return Ok((Format::Listing, Vec::new())),
    };
    let format = records.format();
    let bound = bytes.len() + 2;
    let items: Vec<Item> = records.take(bound + 1).collect();
    prop_assert!(items.len() <= bound, "{} items from {} bytes", items.len(), bytes.len());
    for item in &items {
        match item {
            Item::Paper(p) => prop_assert!(p.validate().is_ok(), "{p:?}"),
            Item::Rejected(r) | Item::Skipped(r) => {
                prop_assert!(!r.location.is_empty() && !r.reason.is_empty(), "{r:?}");
            }
        }
    }
    Ok((format, items))
}

// ---- Generated papers -------------------------------------------------

/// Words with the characters each format must escape (`&<>'"\`) and
/// non-ASCII letters; no control characters, no `:` (so no URLs).
fn words(min: usize, max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec("[A-Za-z0-9&<>'\"\\\\éü€λ-]{1,9}", min..=max).prop_map(|w| w.join(" "))
}

/// Letters only: names and listing text.
fn name_part() -> impl Strategy<Value = String> {
    "[A-Z][a-z]{1,8}"
}

#[derive(Debug, Clone)]
struct GenPaper {
    base: String,
    versions: Vec<DateTime<Utc>>,
    title: String,
    /// (forenames, keyname)
    authors: Vec<(String, String)>,
    abstract_text: String,
    categories: Vec<String>,
    comment: Option<String>,
    journal_ref: Option<String>,
    doi: Option<String>,
}

impl GenPaper {
    fn full_names(&self) -> Vec<String> {
        self.authors.iter().map(|(f, k)| format!("{f} {k}")).collect()
    }

    fn version(&self) -> u32 {
        self.versions.len() as u32
    }

    fn submitted(&self) -> DateTime<Utc> {
        self.versions[0]
    }

    fn updated(&self) -> DateTime<Utc> {
        self.versions[self.versions.len() - 1]
    }

    /// The paper every format should produce, before the format's own
    /// choices (version, dates, listing day) are filled in.
    fn expected(&self, listed_on: NaiveDate) -> Paper {
        let id = PaperId::parse(&self.base).unwrap_or_else(|_| PaperId::local_from_title(&self.title));
        let mut p = Paper::new(id, self.title.clone(), listed_on);
        p.authors = self.full_names();
        p.abstract_text = self.abstract_text.clone();
        p.categories = self.categories.clone();
        p.comment = self.comment.clone();
        p.journal_ref = self.journal_ref.clone();
        p.doi = self.doi.clone();
        p
    }
}

fn new_style_id() -> impl Strategy<Value = String> {
    (8u32..=40, 1u32..=12, 0u32..100_000).prop_map(|(yy, mm, n)| {
        if yy < 15 { format!("{yy:02}{mm:02}.{:04}", n % 10_000) } else { format!("{yy:02}{mm:02}.{n:05}") }
    })
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    // 2008-01-01 to 2030-12-31, whole seconds.
    (1_199_145_600i64..1_924_991_999).prop_map(|s| Utc.timestamp_opt(s, 0).single().unwrap_or_default())
}

fn gen_paper() -> impl Strategy<Value = GenPaper> {
    let cats = proptest::sample::subsequence(
        vec!["cs.LG", "cs.AI", "math.CO", "hep-th", "astro-ph.GA", "stat.ML", "q-bio.NC", "cond-mat.str-el"],
        1..4,
    )
    .prop_shuffle();
    (
        new_style_id(),
        (instant(), proptest::collection::vec(1i64..10_000_000, 0..4)),
        words(1, 12),
        proptest::collection::vec((name_part(), name_part()), 1..5),
        words(1, 60),
        cats,
        proptest::option::of(words(1, 6)),
        proptest::option::of(words(1, 4)),
        proptest::option::of("10\\.[0-9]{4}/[a-z0-9.]{1,10}"),
    )
        .prop_map(|(base, (first, gaps), title, authors, abstract_text, categories, comment, journal_ref, doi)| {
            let mut versions = vec![first];
            for g in gaps {
                let last = versions[versions.len() - 1];
                versions.push(last + chrono::TimeDelta::seconds(g));
            }
            GenPaper {
                base,
                versions,
                title,
                authors,
                abstract_text,
                categories: categories.into_iter().map(str::to_string).collect(),
                comment,
                journal_ref,
                doi,
            }
        })
}

fn rfc2822(d: DateTime<Utc>) -> String {
    d.format("%a, %-d %b %Y %H:%M:%S GMT").to_string()
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN))
}

// ---- Each format: writing a record, and the paper expected back ----------

fn jsonl_line(p: &GenPaper, listing_date: NaiveDate) -> String {
    serde_json::json!({
        "id": format!("{}v{}", p.base, p.version()),
        "title": p.title,
        "authors": p.full_names(),
        "abstract": p.abstract_text,
        "categories": p.categories,
        "comment": p.comment,
        "journal_ref": p.journal_ref,
        "doi": p.doi,
        "listing_date": listing_date.to_string(),
    })
    .to_string()
}

fn jsonl_expected(p: &GenPaper, listing_date: NaiveDate) -> Paper {
    let mut e = p.expected(listing_date);
    e.version = Some(p.version());
    e
}

fn kaggle_line(p: &GenPaper) -> String {
    let versions: Vec<_> = p
        .versions
        .iter()
        .enumerate()
        .map(|(i, d)| serde_json::json!({"version": format!("v{}", i + 1), "created": rfc2822(*d)}))
        .collect();
    let parsed: Vec<_> = p.authors.iter().map(|(f, k)| serde_json::json!([k, f, ""])).collect();
    serde_json::json!({
        "id": p.base,
        "submitter": "Someone",
        "authors": p.full_names().join(", "),
        "title": p.title,
        "comments": p.comment,
        "journal-ref": p.journal_ref,
        "doi": p.doi,
        "report-no": null,
        "categories": p.categories.join(" "),
        "license": null,
        "abstract": p.abstract_text,
        "versions": versions,
        "update_date": p.updated().date_naive().to_string(),
        "authors_parsed": parsed,
    })
    .to_string()
}

fn kaggle_expected(p: &GenPaper) -> Paper {
    let mut e = p.expected(p.submitted().date_naive());
    e.version = Some(p.version());
    e.submitted_at = Some(p.submitted());
    e.updated_at = Some(p.updated());
    e
}

fn atom_entry(p: &GenPaper) -> String {
    let mut s = format!(
        "<entry><id>http://arxiv.org/abs/{}v{}</id><updated>{}</updated><published>{}</published>\
         <title>{}</title><summary>{}</summary>",
        p.base,
        p.version(),
        p.updated().format("%Y-%m-%dT%H:%M:%SZ"),
        p.submitted().format("%Y-%m-%dT%H:%M:%SZ"),
        xml(&p.title),
        xml(&p.abstract_text)
    );
    for name in p.full_names() {
        s.push_str(&format!("<author><name>{}</name></author>", xml(&name)));
    }
    for (tag, v) in [("comment", &p.comment), ("journal_ref", &p.journal_ref), ("doi", &p.doi)] {
        if let Some(v) = v {
            s.push_str(&format!("<arxiv:{tag}>{}</arxiv:{tag}>", xml(v)));
        }
    }
    s.push_str(&format!("<arxiv:primary_category term=\"{}\"/>", p.categories[0]));
    for c in &p.categories {
        s.push_str(&format!("<category term=\"{c}\" scheme=\"http://arxiv.org/schemas/atom\"/>"));
    }
    s.push_str("</entry>\n");
    s
}

fn atom_feed(entries: &[String]) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" \
         xmlns:arxiv=\"http://arxiv.org/schemas/atom\"><title>query</title>\n{}</feed>\n",
        entries.concat()
    )
}

fn atom_expected(p: &GenPaper) -> Paper {
    let mut e = kaggle_expected(p);
    e.primary_category = Some(p.categories[0].clone());
    e
}

fn oai_optional(p: &GenPaper) -> String {
    let mut s = String::new();
    for (tag, v) in [("comments", &p.comment), ("journal-ref", &p.journal_ref), ("doi", &p.doi)] {
        if let Some(v) = v {
            s.push_str(&format!("<{tag}>{}</{tag}>", xml(v)));
        }
    }
    s
}

fn oai_arxiv_record(p: &GenPaper) -> String {
    let authors: String = p
        .authors
        .iter()
        .map(|(f, k)| format!("<author><keyname>{k}</keyname><forenames>{f}</forenames></author>"))
        .collect();
    format!(
        "<record><header><identifier>oai:arXiv.org:{id}</identifier><datestamp>{up}</datestamp>\
         <setSpec>cs</setSpec></header><metadata><arXiv xmlns=\"http://arxiv.org/OAI/arXiv/\">\
         <id>{id}</id><created>{cr}</created><updated>{up}</updated><authors>{authors}</authors>\
         <title>{t}</title><categories>{c}</categories>{opt}<abstract>{a}</abstract></arXiv></metadata></record>\n",
        id = p.base,
        cr = p.submitted().date_naive(),
        up = p.updated().date_naive(),
        t = xml(&p.title),
        c = p.categories.join(" "),
        opt = oai_optional(p),
        a = xml(&p.abstract_text),
    )
}

fn oai_arxiv_expected(p: &GenPaper) -> Paper {
    let mut e = p.expected(p.submitted().date_naive());
    e.submitted_at = Some(midnight(p.submitted().date_naive()));
    e.updated_at = Some(midnight(p.updated().date_naive()));
    e
}

fn oai_raw_record(p: &GenPaper) -> String {
    let versions: String = p
        .versions
        .iter()
        .enumerate()
        .map(|(i, d)| {
            format!(
                "<version version=\"v{}\"><date>{}</date><size>12kb</size><source_type>D</source_type></version>",
                i + 1,
                rfc2822(*d)
            )
        })
        .collect();
    format!(
        "<record><header><identifier>oai:arXiv.org:{id}</identifier><datestamp>{up}</datestamp></header>\
         <metadata><arXivRaw xmlns=\"http://arxiv.org/OAI/arXivRaw/\"><id>{id}</id><submitter>S</submitter>\
         {versions}<title>{t}</title><authors>{au}</authors><categories>{c}</categories>{opt}\
         <abstract>{a}</abstract></arXivRaw></metadata></record>\n",
        id = p.base,
        up = p.updated().date_naive(),
        t = xml(&p.title),
        au = xml(&join_authors(&p.full_names())),
        c = p.categories.join(" "),
        opt = oai_optional(p),
        a = xml(&p.abstract_text),
    )
}

/// `A, B and C`, as arXiv writes author lists.
fn join_authors(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn oai_page(records: &[String], token: Option<&str>) -> String {
    let token = match token {
        Some(t) => format!("<resumptionToken cursor=\"0\" completeListSize=\"999\">{}</resumptionToken>", xml(t)),
        None => String::new(),
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<OAI-PMH xmlns=\"http://www.openarchives.org/OAI/2.0/\">\
         <responseDate>2024-03-12T10:00:00Z</responseDate><request verb=\"ListRecords\">https://oaipmh.arxiv.org/oai</request>\
         <ListRecords>\n{}{token}</ListRecords></OAI-PMH>\n",
        records.concat()
    )
}

fn oai_raw_expected(p: &GenPaper) -> Paper {
    kaggle_expected(p)
}

/// A listing entry: title paragraph, abstract paragraph (over 200
/// characters, wrapped over lines).
fn listing_entry(title: &str, abstract_text: &str) -> String {
    let wrapped: Vec<String> = abstract_text.split(' ').collect::<Vec<_>>().chunks(8).map(|c| c.join(" ")).collect();
    format!("{title}\n\n{}\n\n", wrapped.join("\n"))
}

fn listing_paper() -> impl Strategy<Value = (String, String)> {
    (
        proptest::collection::vec(name_part(), 1..10).prop_map(|w| format!("On {}", w.join(" "))),
        proptest::collection::vec("[a-z]{4,10}", 45..80).prop_map(|w| format!("{}.", w.join(" "))),
    )
}

// ---- Mutations ---------------------------------------------------------

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let specials = proptest::sample::select(vec![
        b"<".to_vec(),
        b">".to_vec(),
        b"</".to_vec(),
        b"\"".to_vec(),
        b"&".to_vec(),
        b"&#0;".to_vec(),
        b"&#xD800;".to_vec(),
        b"<![CDATA[".to_vec(),
        b"]]>".to_vec(),
        b"<!--".to_vec(),
        b"{".to_vec(),
        b"}".to_vec(),
        b"[".to_vec(),
        b"\n".to_vec(),
        b"\r".to_vec(),
        b"\\u0000".to_vec(),
        b"\\ud800".to_vec(),
        vec![0xff],
        vec![0xc3],
        vec![0],
        b"<record>".to_vec(),
        b"</entry>".to_vec(),
        b"<resumptionToken>".to_vec(),
    ]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), prop_oneof![specials, proptest::collection::vec(any::<u8>(), 1..8)])
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1usize..256).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len();
        let at = |i: usize| if len == 0 { 0 } else { i % (len + 1) };
        match m {
            Mutation::Flip(i, b) if len > 0 => bytes[i % len] ^= b | 1,
            Mutation::Flip(..) => {}
            Mutation::Insert(i, b) => {
                let i = at(*i);
                bytes.splice(i..i, b.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let i = at(*i);
                bytes.drain(i..(i + n).min(len));
            }
            Mutation::Truncate(i) => bytes.truncate(at(*i)),
            Mutation::Duplicate(i, n) => {
                let i = at(*i);
                let copy = bytes[i..(i + n).min(len)].to_vec();
                bytes.splice(i..i, copy);
            }
        }
    }
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 1).unwrap_or_default()
}

/// Real inputs from the test fixtures, to mutate.
const SEEDS: &[&[u8]] = &[
    include_bytes!("../../../tests/fixtures/ingest/kaggle/kaggle-snapshot.jsonl"),
    include_bytes!("../../../tests/fixtures/ingest/arxiv-api/id_1605.08386_s0_m100_199195aa31ad.atom.xml"),
    include_bytes!("../../../tests/fixtures/ingest/arxiv-api/id_abc_s0_m100_b79c8dcf6bc3.atom.xml"),
    include_bytes!("../../../tests/fixtures/ingest/oai-pmh/getrecord-should-get-a-record.0.xml"),
    include_bytes!("../../../tests/fixtures/ingest/oai-pmh/handmade-listrecords-deleted-and-dc.xml"),
    include_bytes!("../../../tests/fixtures/ingest/oai-pmh/listrecords-should-list-identifiers-from-arxiv.1.xml"),
    include_bytes!("../../../tests/fixtures/ingest/oai-pmh/handmade-error-badResumptionToken.xml"),
    include_bytes!("../../../tests/fixtures/ingest/broken/jsonl-cut-line.jsonl"),
];

/// A valid document of any format, from generated papers.
fn any_document() -> impl Strategy<Value = Vec<u8>> {
    let papers = proptest::collection::vec(gen_paper(), 1..4);
    (papers, 0u8..6, listing_paper()).prop_map(|(papers, format, (title, abs))| {
        let day = NaiveDate::from_ymd_opt(2024, 3, 11).unwrap_or_default();
        let text = match format {
            0 => papers.iter().map(|p| jsonl_line(p, day) + "\n").collect(),
            1 => papers.iter().map(|p| kaggle_line(p) + "\n").collect(),
            2 => atom_feed(&papers.iter().map(atom_entry).collect::<Vec<_>>()),
            3 => oai_page(&papers.iter().map(oai_arxiv_record).collect::<Vec<_>>(), Some("tok|1")),
            4 => oai_page(&papers.iter().map(oai_raw_record).collect::<Vec<_>>(), None),
            _ => format!("Mar 11\n\n{}", listing_entry(&title, &abs)),
        };
        text.into_bytes()
    })
}

fn the_paper(item: &Item) -> Result<&Paper, TestCaseError> {
    match item {
        Item::Paper(p) => Ok(p),
        other => Err(TestCaseError::fail(format!("expected a paper, got {other:?}"))),
    }
}

/// `expected` after the importers' own last step.
fn normalized(mut p: Paper) -> Paper {
    p.normalize();
    p
}

proptest! {
    #![proptest_config(config())]

    /// Arbitrary bytes: an error or a bounded list of items, no panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        import(&bytes)?;
    }

    /// Arbitrary bytes after each format's opening: the parsers' inner
    /// branches, not just format detection.
    #[test]
    fn arbitrary_bodies_never_panic(
        head in proptest::sample::select(vec![
            "{\"id\":\"2401.00001\",",
            "{\"id\":\"0704.0001\",\"versions\":[",
            "<feed><entry>",
            "<OAI-PMH><ListRecords><record><metadata><arXiv>",
            "<OAI-PMH><ListRecords><record><metadata><arXivRaw><version version=\"v1\">",
            "Mar 11\n\nA title\n\n",
        ]),
        body in proptest::collection::vec(any::<u8>(), 0..1024),
    ) {
        let mut bytes = head.as_bytes().to_vec();
        bytes.extend_from_slice(&body);
        import(&bytes)?;
    }

    /// Valid documents and real fixtures, mutated (also after compression):
    /// no panic, bounded output.
    #[test]
    fn mutated_documents_never_panic(
        doc in prop_oneof![any_document(), proptest::sample::select(SEEDS).prop_map(<[u8]>::to_vec)],
        compression in 0u8..4,
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let doc = match compression {
            0 => gzip(&doc),
            1 => zstd(&doc),
            _ => doc,
        };
        import(&mutate(doc, &mutations))?;
    }

    /// arXiv JSONL and Kaggle lines parse back to the generated papers.
    #[test]
    fn json_lines_round_trip(papers in proptest::collection::vec(gen_paper(), 1..5), kaggle in any::<bool>()) {
        let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap_or_default();
        let text: String = papers.iter().map(|p| if kaggle { kaggle_line(p) } else { jsonl_line(p, day) } + "\n").collect();
        let (format, items) = import(text.as_bytes())?;
        prop_assert_eq!(format, if kaggle { Format::KaggleJsonl } else { Format::ArxivJsonl });
        prop_assert_eq!(items.len(), papers.len());
        for (item, p) in items.iter().zip(&papers) {
            let expected = if kaggle { kaggle_expected(p) } else { jsonl_expected(p, day) };
            prop_assert_eq!(the_paper(item)?, &normalized(expected));
        }
    }

    /// Atom entries parse back to the generated papers.
    #[test]
    fn atom_round_trip(papers in proptest::collection::vec(gen_paper(), 1..5)) {
        let doc = atom_feed(&papers.iter().map(atom_entry).collect::<Vec<_>>());
        let (format, items) = import(doc.as_bytes())?;
        prop_assert_eq!(format, Format::ArxivAtom);
        prop_assert_eq!(items.len(), papers.len());
        for (item, p) in items.iter().zip(&papers) {
            prop_assert_eq!(the_paper(item)?, &normalized(atom_expected(p)));
        }
    }

    /// OAI-PMH records in both formats parse back to the generated papers,
    /// and the page's resumption token is read back as written.
    #[test]
    fn oai_round_trip(
        papers in proptest::collection::vec(gen_paper(), 1..5),
        raw in any::<bool>(),
        token in proptest::option::of("[!-~]{1,40}"),
    ) {
        let records: Vec<String> = papers.iter().map(|p| if raw { oai_raw_record(p) } else { oai_arxiv_record(p) }).collect();
        let doc = oai_page(&records, token.as_deref());
        let (format, items) = import(doc.as_bytes())?;
        prop_assert_eq!(format, Format::OaiPmh);
        prop_assert_eq!(items.len(), papers.len());
        for (item, p) in items.iter().zip(&papers) {
            let expected = if raw { oai_raw_expected(p) } else { oai_arxiv_expected(p) };
            prop_assert_eq!(the_paper(item)?, &normalized(expected));
        }
        let info = oai_page_info(doc.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(info.resumption_token, token.clone());
        prop_assert_eq!(info.complete_list_size, token.as_ref().map(|_| 999));
        prop_assert_eq!(info.error, None);
    }

    /// Listing pages: each title and abstract become a paper listed on the
    /// day header before it.
    #[test]
    fn listing_round_trip(entries in proptest::collection::vec(listing_paper(), 1..5), day in 1u32..=28) {
        let mut text = format!("Subscribe\n\nMar {day}\n\n");
        for (title, abs) in &entries {
            text.push_str(&listing_entry(title, abs));
        }
        let (format, items) = import(text.as_bytes())?;
        prop_assert_eq!(format, Format::Listing);
        prop_assert_eq!(items.len(), entries.len());
        let listed = NaiveDate::from_ymd_opt(today().year(), 3, day).unwrap_or_default();
        for (item, (title, abs)) in items.iter().zip(&entries) {
            let mut expected = Paper::new(PaperId::local_from_title(title), title.clone(), listed);
            expected.abstract_text = abs.clone();
            prop_assert_eq!(the_paper(item)?, &normalized(expected));
        }
    }

    /// One bad record among good ones: rejected with its location, and
    /// every good record still imported, in order.
    #[test]
    fn a_bad_record_is_located_and_the_rest_kept(
        papers in proptest::collection::vec(gen_paper(), 2..6),
        bad_at in any::<prop::sample::Index>(),
        format in 0u8..5,
        bad_id in "[a-z]{1,8}/?[0-9]{0,3}",
    ) {
        let k = bad_at.index(papers.len());
        let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap_or_default();
        let mut bad = papers[k].clone();
        bad.base = bad_id.clone();
        let records: Vec<String> = papers
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let p = if i == k { &bad } else { p };
                match format {
                    0 => jsonl_line(p, day) + "\n",
                    1 => kaggle_line(p) + "\n",
                    2 => atom_entry(p),
                    3 => oai_arxiv_record(p),
                    _ => oai_raw_record(p),
                }
            })
            .collect();
        let (doc, location) = match format {
            0 | 1 => (records.concat(), format!("line {}", k + 1)),
            2 => (atom_feed(&records), format!("entry {}", k + 1)),
            _ => (oai_page(&records, None), format!("record {} (oai:arXiv.org:{bad_id})", k + 1)),
        };
        let (_, items) = import(doc.as_bytes())?;
        prop_assert_eq!(items.len(), papers.len());
        for (i, (item, p)) in items.iter().zip(&papers).enumerate() {
            if i == k {
                match item {
                    Item::Rejected(r) => {
                        prop_assert_eq!(&r.location, &location);
                        prop_assert!(r.reason.contains("not an arXiv identifier"), "{}", r.reason);
                    }
                    other => prop_assert!(false, "record {} should be rejected: {:?}", k + 1, other),
                }
            } else {
                prop_assert_eq!(&the_paper(item)?.id, &PaperId::parse(&p.base).map_err(|e| TestCaseError::fail(e.to_string()))?);
            }
        }
    }

    /// A JSON line cut anywhere is rejected as that line, the next line kept.
    #[test]
    fn a_cut_json_line_is_rejected_alone(a in gen_paper(), b in gen_paper(), cut in any::<prop::sample::Index>()) {
        let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap_or_default();
        let line = jsonl_line(&a, day);
        let cut_at = 1 + cut.index(line.len() - 1);
        let Some(prefix) = line.get(..cut_at) else { return Ok(()) };
        let doc = format!("{prefix}\n{}\n", jsonl_line(&b, day));
        let (_, items) = import(doc.as_bytes())?;
        prop_assert_eq!(items.len(), 2);
        prop_assert!(matches!(&items[0], Item::Rejected(r) if r.location == "line 1"), "{:?}", items[0]);
        prop_assert_eq!(the_paper(&items[1])?, &normalized(jsonl_expected(&b, day)));
    }

    // ---- The small parsers ------------------------------------------------

    /// Dates written as arXiv writes them parse back to the same instant;
    /// arbitrary text never panics.
    #[test]
    fn dates_round_trip(
        secs in -5_000_000_000i64..10_000_000_000,
        offset_min in -(14 * 60)..=(14 * 60i32),
        junk in any::<String>(),
    ) {
        let t = Utc.timestamp_opt(secs, 0).single().unwrap_or_default();
        prop_assert_eq!(parse_rfc2822(&rfc2822(t)), Some(t));
        let fixed = chrono::FixedOffset::east_opt(offset_min * 60).unwrap();
        let local = t.with_timezone(&fixed);
        prop_assert_eq!(parse_rfc2822(&local.format("%-d %b %Y %H:%M:%S %z").to_string()), Some(t));
        prop_assert_eq!(parse_rfc3339(&local.to_rfc3339()), Some(t));
        prop_assert_eq!(parse_ymd(&t.date_naive().to_string()), Some(t.date_naive()));
        let _ = (parse_rfc2822(&junk), parse_rfc3339(&junk), parse_ymd(&junk), parse_day_header(&junk, today()));
    }

    /// Number-heavy near-dates reach the parsers' arithmetic.
    #[test]
    fn date_like_text_never_panics(s in "([A-Za-z]{3},? )?-?[0-9]{1,7} [A-Za-z]{3,9}\\.?,? -?[0-9]{1,9} [0-9]{1,3}:[0-9]{1,3}(:[0-9]{1,3})? ?([+-][0-9]{4}|[A-Z]{1,3})?") {
        let _ = parse_rfc2822(&s);
        let _ = parse_day_header(&s, today());
        let _ = parse_day_header(&s, NaiveDate::MIN);
        let _ = parse_day_header(&s, NaiveDate::MAX);
    }

    /// Day headers give the most recent such day not after today.
    #[test]
    fn day_headers_are_recent(month in 1u32..=12, day in 1u32..=31, full in any::<bool>(), t in 0i64..20_000) {
        let today = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or_default() + chrono::TimeDelta::days(t);
        let names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        let mut name = names[month as usize - 1].to_string();
        if full {
            name = NaiveDate::from_ymd_opt(2000, month, 1).unwrap_or_default().format("%B").to_string();
        }
        match parse_day_header(&format!("{name} {day}"), today) {
            Some(d) => {
                prop_assert!(d <= today && (d.month(), d.day()) == (month, day));
                prop_assert!(today - d < chrono::TimeDelta::days(366 * 8));
            }
            None => prop_assert!(NaiveDate::from_ymd_opt(2000, month, day).is_none(), "{} {}", name, day),
        }
    }

    /// Author lists written as arXiv writes them split back into the names.
    #[test]
    fn author_lists_split_back(names in proptest::collection::vec((name_part(), name_part()), 1..8), junk in any::<String>()) {
        let names: Vec<String> = names.into_iter().map(|(f, k)| format!("{f} {k}")).collect();
        prop_assert_eq!(split_authors(&join_authors(&names)), names.clone());
        prop_assert_eq!(split_authors(&names.join(", ")), names);
        let split = split_authors(&junk);
        prop_assert!(split.iter().all(|n| !n.is_empty() && n.len() <= junk.len() + 8));
    }

    /// OAI paging information: arbitrary bytes never panic.
    #[test]
    fn oai_page_info_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512), tail in "[<>/a-zA-Z =\"&;]{0,200}") {
        let _ = oai_page_info(&bytes);
        let _ = oai_page_info(format!("<OAI-PMH><resumptionToken{tail}").as_bytes());
        let _ = oai_page_info(format!("<OAI-PMH><error code=\"x\"{tail}").as_bytes());
    }

    /// Ids that survive the importers are canonical.
    #[test]
    fn imported_ids_are_canonical(p in gen_paper()) {
        let (_, items) = import(kaggle_line(&p).as_bytes())?;
        let paper = the_paper(&items[0])?;
        prop_assert_eq!(paper.id.to_string(), ArxivId::parse(&p.base).map_err(|e| TestCaseError::fail(e.to_string()))?.to_string());
    }
}

// ---- Library files (BibTeX, RIS) ----------------------------------------

const LIBRARY_SEEDS: &[&[u8]] = &[
    include_bytes!("../../../tests/fixtures/library/zotero.bib"),
    include_bytes!("../../../tests/fixtures/library/scholar.bib"),
    include_bytes!("../../../tests/fixtures/library/broken.bib"),
    include_bytes!("../../../tests/fixtures/library/zotero.ris"),
    include_bytes!("../../../tests/fixtures/library/mendeley.ris"),
    include_bytes!("../../../tests/fixtures/library/broken.ris"),
];

/// Parses a library; every record has a title, every rejection a line
/// inside the file and a reason, and there are no more entries than lines.
fn parse_library_checked(bytes: &[u8]) -> Result<(), TestCaseError> {
    let Ok(parse) = crate::library::parse_library(bytes) else {
        return Ok(());
    };
    let lines = bytes.split(|&b| b == b'\n').count();
    prop_assert!(parse.records.len() + parse.rejected.len() <= lines + 1);
    for r in &parse.records {
        prop_assert!(!r.title.trim().is_empty(), "{r:?}");
    }
    for r in &parse.rejected {
        prop_assert!(r.line >= 1 && r.line <= lines && !r.why.is_empty(), "{r:?} in {lines} lines");
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// Arbitrary bytes, alone or after a BibTeX or RIS opening: no panic.
    #[test]
    fn library_arbitrary_bytes_never_panic(
        head in proptest::sample::select(vec!["", "@article{k,\n title = {", "@string{x = \"", "TY  - JOUR\nTI  - ", "@misc(", "@"]),
        body in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        let mut bytes = head.as_bytes().to_vec();
        bytes.extend_from_slice(&body);
        parse_library_checked(&bytes)?;
    }

    /// The fixtures, mutated: no panic, bounded output.
    #[test]
    fn library_mutated_files_never_panic(
        doc in proptest::sample::select(LIBRARY_SEEDS).prop_map(<[u8]>::to_vec),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        parse_library_checked(&mutate(doc, &mutations))?;
    }

    /// Arbitrary text in a BibTeX title or RIS value: no panic, a title comes back.
    #[test]
    fn library_any_title_text(text in "[^{}\\\\@\r\n]{1,60}[A-Za-z]") {
        let bib = format!("@article{{k,\n  title = {{{text}}},\n}}\n");
        let parse = crate::library::parse_library(bib.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parse.records.len(), 1, "{:?}", parse);
        let ris = format!("TY  - JOUR\nTI  - {text}\nER  - \n");
        let parse = crate::library::parse_library(ris.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parse.records.len(), 1, "{:?}", parse);
        prop_assert_eq!(&parse.records[0].title, &paperboy_core::text::normalize_ws(&text));
    }
}
