//! The library importers on exports in the shapes Zotero, Google Scholar,
//! Mendeley and JabRef write (`tests/fixtures/library/`): every field of
//! several entries, arXiv ids and DOIs from every place they hide, and bad
//! entries reported with their line while the rest are kept.

use std::path::PathBuf;

use paperboy_core::PaperId;
use paperboy_ingest::{LibraryError, LibraryFileFormat, LibraryParse, LibraryRecord, Rejected, parse_library};

fn fixture(name: &str) -> LibraryParse {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/library/")).join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse_library(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn arxiv(id: &str) -> Option<PaperId> {
    Some(PaperId::parse(id).expect("test id"))
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn rejected(line: usize, why: &str) -> Rejected {
    Rejected { line, why: why.to_string() }
}

#[test]
fn zotero_bibtex_every_field() {
    let parse = fixture("zotero.bib");
    assert_eq!(parse.format, LibraryFileFormat::Bibtex);
    assert_eq!(parse.rejected, vec![]);
    assert_eq!(parse.records.len(), 4);
    assert_eq!(
        parse.records[0],
        LibraryRecord {
            key: Some("vaswani_attention_2017".into()),
            title: "Attention Is All You Need".into(),
            abstract_text: Some(
                "The dominant sequence transduction models are based on complex recurrent or convolutional neural \
                 networks in an encoder-decoder configuration. We propose a new simple network architecture, the \
                 Transformer, based solely on attention mechanisms."
                    .into()
            ),
            authors: names(&[
                "Ashish Vaswani",
                "Noam Shazeer",
                "Niki Parmar",
                "Jakob Uszkoreit",
                "Llion Jones",
                "Aidan N. Gomez",
                "Lukasz Kaiser",
                "Illia Polosukhin"
            ]),
            year: Some(2017),
            arxiv_id: arxiv("1706.03762"),
            doi: Some("10.48550/arxiv.1706.03762".into()),
        }
    );
    // eprint + archivePrefix; no DOI.
    let mamba = &parse.records[1];
    assert_eq!(mamba.key.as_deref(), Some("gu_mamba_2023"));
    assert_eq!(mamba.title, "Mamba: Linear-Time Sequence Modeling with Selective State Spaces");
    assert_eq!(mamba.authors, names(&["Albert Gu", "Tri Dao"]));
    assert_eq!((mamba.year, mamba.arxiv_id.clone(), mamba.doi.clone()), (Some(2023), arxiv("2312.00752"), None));
    assert!(mamba.abstract_text.as_deref().is_some_and(|a| a.starts_with("Foundation models, now powering")));
    // Accents, protected braces, `--`, a group author in braces, a resolver-prefixed upper-case DOI.
    assert_eq!(
        parse.records[2],
        LibraryRecord {
            key: Some("schrodinger_grundlagen_2021".into()),
            title: "Grundlagen der Quantenmechanik für Sprachmodelle – eine Étude".into(),
            abstract_text: None,
            authors: names(&["Erwin Schrödinger", "Jörg Müller", "Renée François", "Google DeepMind"]),
            year: Some(2021),
            arxiv_id: None,
            doi: Some("10.18653/v1/2021.physlang-1.2".into()),
        }
    );
    let lstm = &parse.records[3];
    assert_eq!(lstm.authors, names(&["Sepp Hochreiter", "Jürgen Schmidhuber"]));
    assert_eq!((lstm.year, lstm.arxiv_id.clone()), (Some(1997), None));
    assert_eq!(lstm.doi.as_deref(), Some("10.1162/neco.1997.9.8.1735"));
}

#[test]
fn google_scholar_bibtex_ids_from_journal_and_url() {
    let parse = fixture("scholar.bib");
    assert_eq!(parse.rejected, vec![]);
    let keys: Vec<_> = parse.records.iter().map(|r| r.key.clone().unwrap_or_default()).collect();
    assert_eq!(keys, ["devlin2018bert", "he2016deep", "kaplan2020scaling", "touvron2023llama"]);
    assert_eq!(
        parse.records[0],
        LibraryRecord {
            key: Some("devlin2018bert".into()),
            title: "Bert: Pre-training of deep bidirectional transformers for language understanding".into(),
            abstract_text: None,
            authors: names(&["Jacob Devlin", "Ming-Wei Chang", "Kenton Lee", "Kristina Toutanova"]),
            year: Some(2018),
            arxiv_id: arxiv("1810.04805"),
            doi: None,
        }
    );
    assert_eq!(parse.records[1].arxiv_id, None);
    assert_eq!(parse.records[1].authors, names(&["Kaiming He", "Xiangyu Zhang", "Shaoqing Ren", "Jian Sun"]));
    // `arXiv:2001.08361v1` in the journal: the version is dropped.
    assert_eq!(parse.records[2].arxiv_id, arxiv("2001.08361"));
    assert_eq!(parse.records[2].authors.len(), 10);
    assert_eq!(parse.records[2].authors[3], "Tom B Brown");
    // "and others" is not an author.
    assert_eq!(parse.records[3].authors, names(&["Hugo Touvron", "Thibaut Lavril", "Gautier Izacard"]));
    assert_eq!((parse.records[3].year, parse.records[3].arxiv_id.clone()), (Some(2023), arxiv("2302.13971")));
}

#[test]
fn broken_bibtex_entries_are_reported_and_the_rest_kept() {
    let parse = fixture("broken.bib");
    assert_eq!(
        parse.rejected,
        vec![
            rejected(18, "unterminated braces: the field `title` on line 19 is never closed"),
            rejected(23, "the entry `no_title_2019` has no title"),
            rejected(37, "the field `title` on line 38 has no `=`"),
        ]
    );
    let titles: Vec<_> = parse.records.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Denoising Diffusion Probabilistic Models",
            "Adam: A method for stochastic optimization",
            "Language Models are Unsupervised Multitask Learners"
        ]
    );
    // `@string` macro, `#`, quoted values, bare numbers, month macros, eprint.
    assert_eq!(parse.records[0].authors, names(&["Jonathan Ho", "Ajay Jain", "Pieter Abbeel"]));
    assert_eq!((parse.records[0].year, parse.records[0].arxiv_id.clone()), (Some(2020), arxiv("2006.11239")));
    // DBLP's `journal = {CoRR}, volume = {abs/1412.6980}`.
    assert_eq!(parse.records[1].arxiv_id, arxiv("1412.6980"));
    assert_eq!(parse.records[1].authors, names(&["Diederik P Kingma", "Jimmy Ba"]));
    // Upper-case field names and `( … )` delimiters; a non-arXiv URL gives no id.
    assert_eq!(parse.records[2].key.as_deref(), Some("radford2019"));
    assert_eq!((parse.records[2].year, parse.records[2].arxiv_id.clone()), (Some(2019), None));
}

#[test]
fn zotero_ris_every_field() {
    let parse = fixture("zotero.ris");
    assert_eq!(parse.format, LibraryFileFormat::Ris);
    assert_eq!(parse.rejected, vec![]);
    assert_eq!(
        parse.records[0],
        LibraryRecord {
            key: None,
            title: "Attention Is All You Need".into(),
            abstract_text: Some(
                "The dominant sequence transduction models are based on complex recurrent or convolutional neural \
                 networks in an encoder-decoder configuration."
                    .into()
            ),
            authors: names(&["Ashish Vaswani", "Noam Shazeer", "Niki Parmar"]),
            year: Some(2017),
            arxiv_id: arxiv("1706.03762"),
            doi: Some("10.48550/arxiv.1706.03762".into()),
        }
    );
    assert_eq!(parse.records[1].title, "Denoising Diffusion Probabilistic Models");
    assert_eq!((parse.records[1].year, parse.records[1].arxiv_id.clone()), (Some(2020), arxiv("2006.11239")));
    assert_eq!(
        parse.records[2],
        LibraryRecord {
            key: None,
            title: "Pattern Recognition and Machine Learning".into(),
            abstract_text: None,
            authors: names(&["Christopher M. Bishop"]),
            year: Some(2006),
            arxiv_id: None,
            doi: None,
        }
    );
}

#[test]
fn mendeley_ris_with_crlf_and_continuation_lines() {
    let parse = fixture("mendeley.ris");
    assert_eq!(parse.format, LibraryFileFormat::Ris);
    assert_eq!(parse.rejected, vec![]);
    assert_eq!(
        parse.records[0],
        LibraryRecord {
            key: Some("Gu2023".into()),
            title: "Mamba: Linear-Time Sequence Modeling with Selective State Spaces".into(),
            abstract_text: Some(
                "Foundation models, now powering most of the exciting applications in deep learning, are almost \
                 universally based on the Transformer architecture and its core attention module."
                    .into()
            ),
            authors: names(&["Albert Gu", "Tri Dao"]),
            year: Some(2023),
            arxiv_id: arxiv("2312.00752"),
            doi: None,
        }
    );
    assert_eq!(parse.records[1].authors, names(&["Sepp Hochreiter", "Jürgen Schmidhuber"]));
    assert_eq!(parse.records[1].doi.as_deref(), Some("10.1162/neco.1997.9.8.1735"));
    assert_eq!(parse.records[2].key.as_deref(), Some("Devlin2019"));
    assert_eq!(parse.records[2].doi.as_deref(), Some("10.18653/v1/n19-1423"));
    assert_eq!(parse.records[2].arxiv_id, None);
}

#[test]
fn broken_ris_records_are_reported_and_the_rest_kept() {
    let parse = fixture("broken.ris");
    assert_eq!(
        parse.rejected,
        vec![
            rejected(7, "an `ER  -` line with no `TY  -` before it"),
            rejected(9, "a record has no title (`TI  -` or `T1  -`)"),
            rejected(14, "the record has no `ER  -` line before the next `TY  -` on line 18"),
        ]
    );
    let titles: Vec<_> = parse.records.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(titles, ["A Good First Record", "A Good Last Record"]);
    assert_eq!(parse.records[0].authors, names(&["Author First"]));
    assert_eq!(parse.records[1].arxiv_id, arxiv("hep-th/9901001"));
}

#[test]
fn not_a_library() {
    assert_eq!(parse_library(b""), Err(LibraryError::Empty));
    assert_eq!(parse_library(b"  \n\n "), Err(LibraryError::Empty));
    assert_eq!(parse_library(b"<html><body>hello</body></html>"), Err(LibraryError::NotALibrary));
    assert_eq!(parse_library(b"{\"id\": \"2401.01234\"}"), Err(LibraryError::NotALibrary));
    // Windows-1252 bytes (an old JabRef export) are read, not refused.
    let latin = b"@article{k, title = {Caf\xe9 na\xefve}, author = {M\xfcller, J\xf6rg}}";
    let parse = parse_library(latin).expect("a latin-1 bib");
    assert_eq!(parse.records[0].title, "Café naïve");
    assert_eq!(parse.records[0].authors, names(&["Jörg Müller"]));
}

#[test]
fn other_spellings_of_ids_dates_and_names() {
    let bib = br#"
@article{mendeley,
  arxivId = {2401.01234},
  title = {{Mendeley's arXiv field}},
  author = {{\'{E}}mile Zola and de la Fontaine, Jean and van der Berg, Jr., Piet},
  doi = {doi:10.1000/ABC.def},
  date = {2024-01-05}
}
@online{biblatex,
  title = "A \textit{biblatex} entry",
  eprinttype = {arxiv},
  eprint = {hep-th/9901001v2},
  url = {\url{https://example.org/not-arxiv}}
}
@misc{urlonly,
  title = {Found by its URL},
  howpublished = {\url{https://arxiv.org/pdf/2401.05678v3}}
}
@misc{notarxiv,
  title = {An eprint on another server},
  eprint = {2401.09999},
  archivePrefix = {HAL}
}
"#;
    let parse = parse_library(bib).expect("bibtex");
    assert_eq!(parse.rejected, vec![]);
    let r = &parse.records;
    assert_eq!(r[0].title, "Mendeley's arXiv field");
    assert_eq!(r[0].arxiv_id, arxiv("2401.01234"));
    assert_eq!(r[0].authors, names(&["Émile Zola", "Jean de la Fontaine", "Piet van der Berg Jr."]));
    assert_eq!((r[0].doi.as_deref(), r[0].year), (Some("10.1000/abc.def"), Some(2024)));
    assert_eq!(r[1].title, "A biblatex entry");
    assert_eq!(r[1].arxiv_id, arxiv("hep-th/9901001"));
    assert_eq!(r[2].arxiv_id, arxiv("2401.05678"));
    assert_eq!(r[3].arxiv_id, None, "an eprint on HAL is not an arXiv id");
}

#[test]
fn deeply_nested_input_is_read_without_exhausting_the_stack() {
    let depth = 200_000;
    let mut bib = String::from("@article{deep, title = {Deep ");
    bib.push_str(&"\\'{".repeat(depth));
    bib.push('e');
    bib.push_str(&"}".repeat(depth));
    bib.push_str("}}\n@misc{after, title = {After}}\n");
    let parse = parse_library(bib.as_bytes()).expect("bibtex");
    let titles: Vec<_> = parse.records.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(titles, ["Deep é", "After"]);
    let braces = format!("@misc{{b, title = {{{}x{}}}}}\n", "{".repeat(depth), "}".repeat(depth));
    assert_eq!(parse_library(braces.as_bytes()).expect("bibtex").records[0].title, "x");
}

#[test]
fn a_doi_field_with_multi_byte_text_is_no_doi() {
    let parse =
        parse_library("@misc{k, title = {T}, doi = {dé:10.1/x}}\n@misc{l, title = {U}, doi = {ééééééééé}}".as_bytes())
            .expect("bibtex");
    assert_eq!(parse.records.iter().map(|r| r.doi.clone()).collect::<Vec<_>>(), [None, None]);
}
