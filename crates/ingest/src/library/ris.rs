//! RIS as Zotero, Mendeley and EndNote export it: `TY  - JOUR` … `ER  - `,
//! one `TAG  - value` a line, long values continued on the lines after.
//!
//! Tags read: `TI`/`T1` (title), `AU`/`A1` (authors, "Last, First"),
//! `AB`/`N2` (abstract), `PY`/`Y1`/`DA` (year), `DO` (DOI), `UR` (URLs),
//! `ID` (key), and `JO`/`T2`/`JF`/`N1`/`AN`/`M3` searched for an arXiv id.

use super::{
    LibraryRecord, Rejected, arxiv_from_doi, arxiv_from_url, arxiv_id, arxiv_in_text, display_name, non_empty,
    normalize_doi, year_in,
};

/// `TAG  - value` (two upper-case letters or a letter and a digit, two
/// spaces, a dash): the tag and the value. `ER  -` may have nothing after.
pub(crate) fn tag_line(line: &str) -> Option<(&str, &str)> {
    let line = line.trim_end_matches(['\r', '\n']);
    let bytes = line.as_bytes();
    if bytes.len() < 5
        || !bytes[0].is_ascii_uppercase()
        || !(bytes[1].is_ascii_uppercase() || bytes[1].is_ascii_digit())
    {
        return None;
    }
    let rest = &line[2..];
    // Exports vary between "  - " and " - "; the dash is what matters.
    let after_spaces = rest.trim_start_matches(' ');
    let spaces = rest.len() - after_spaces.len();
    if !(1..=2).contains(&spaces) || !after_spaces.starts_with('-') {
        return None;
    }
    let value = &after_spaces[1..];
    if !value.is_empty() && !value.starts_with(' ') {
        return None;
    }
    Some((&line[..2], value.trim()))
}

#[derive(Default)]
struct Open {
    line: usize,
    tags: Vec<(String, String)>,
}

/// Every record of a RIS file: those read and those rejected.
pub(crate) fn parse(text: &str) -> (Vec<LibraryRecord>, Vec<Rejected>) {
    let mut records = Vec::new();
    let mut rejected = Vec::new();
    let mut open: Option<Open> = None;
    let mut stray_reported = false;
    for (n, raw) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = raw.trim_start_matches('\u{feff}');
        match tag_line(line) {
            Some(("TY", _)) => {
                if let Some(prev) = open.take() {
                    rejected.push(Rejected {
                        line: prev.line,
                        why: format!("the record has no `ER  -` line before the next `TY  -` on line {line_no}"),
                    });
                }
                open = Some(Open { line: line_no, tags: Vec::new() });
                stray_reported = false;
            }
            Some(("ER", _)) => match open.take() {
                Some(rec) => match record(&rec.tags) {
                    Ok(r) => records.push(r),
                    Err(why) => rejected.push(Rejected { line: rec.line, why }),
                },
                None => {
                    rejected.push(Rejected { line: line_no, why: "an `ER  -` line with no `TY  -` before it".into() })
                }
            },
            Some((tag, value)) => match open.as_mut() {
                Some(rec) => rec.tags.push((tag.to_string(), value.to_string())),
                None if !stray_reported => {
                    stray_reported = true;
                    rejected.push(Rejected {
                        line: line_no,
                        why: format!("a `{tag}  -` line outside a record (records start with `TY  -`)"),
                    });
                }
                None => {}
            },
            None => {
                let cont = line.trim();
                if cont.is_empty() {
                    continue;
                }
                let in_record = open.is_some();
                match open.as_mut().and_then(|rec| rec.tags.last_mut()) {
                    Some((_, value)) => {
                        if !value.is_empty() {
                            value.push(' ');
                        }
                        value.push_str(cont);
                    }
                    None if in_record => {}
                    None if !stray_reported => {
                        stray_reported = true;
                        rejected.push(Rejected {
                            line: line_no,
                            why: "text outside a record (records start with `TY  -`)".into(),
                        });
                    }
                    None => {}
                }
            }
        }
    }
    if let Some(rec) = open {
        rejected.push(Rejected {
            line: rec.line,
            why: "the file ends inside this record: its `ER  -` line is missing".into(),
        });
    }
    (records, rejected)
}

fn record(tags: &[(String, String)]) -> Result<LibraryRecord, String> {
    let all = |names: &[&str]| -> Vec<&str> {
        tags.iter()
            .filter(|(t, _)| names.contains(&t.as_str()))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
            .collect()
    };
    let first = |names: &[&str]| names.iter().find_map(|n| all(&[n]).first().map(|v| v.to_string()));
    let key = first(&["ID"]);
    let title = first(&["TI", "T1", "CT"]).map(|t| paperboy_core::text::normalize_ws(&t)).unwrap_or_default();
    if title.is_empty() {
        let what = key.as_deref().map(|k| format!("the record `{k}`")).unwrap_or_else(|| "a record".into());
        return Err(format!("{what} has no title (`TI  -` or `T1  -`)"));
    }
    let mut authors: Vec<String> = all(&["AU", "A1"]).into_iter().map(display_name).filter(|a| !a.is_empty()).collect();
    authors.dedup();
    let abstract_text = first(&["AB", "N2"]).map(|a| paperboy_core::text::normalize_ws(&a)).and_then(non_empty);
    let year = ["PY", "Y1", "DA"].iter().find_map(|t| all(&[t]).into_iter().find_map(year_in));
    let doi = all(&["DO"]).into_iter().find_map(normalize_doi);
    let arxiv_id = all(&["UR", "L1", "L2", "LK"])
        .into_iter()
        .flat_map(str::split_whitespace)
        .find_map(arxiv_from_url)
        .or_else(|| doi.as_deref().and_then(arxiv_from_doi))
        .or_else(|| all(&["JO", "T2", "JF", "J2", "N1", "AN", "M3", "VL", "SN"]).into_iter().find_map(arxiv_in_text))
        .or_else(|| all(&["AN"]).into_iter().find_map(arxiv_id));
    Ok(LibraryRecord { key, title, abstract_text, authors, year, arxiv_id, doi })
}
