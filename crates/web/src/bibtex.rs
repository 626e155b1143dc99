//! BibTeX for a member's reading list (`/reading-list.bib`): one `@misc`
//! entry per paper with the arXiv fields (`eprint`, `archivePrefix`,
//! `primaryClass`), authors joined with `and`, and every text value escaped
//! so that braces, backslashes and TeX's special characters (`& % $ # _ ~ ^`)
//! in titles or names cannot break the file or inject commands.

use paperboy_core::{Paper, PaperId};

/// Escapes a value for a braced BibTeX field.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '{' => out.push_str("\\{"),
            '}' => out.push_str("\\}"),
            '&' | '%' | '$' | '#' | '_' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The entry key: the id with anything but letters, digits, `.`, `-` and
/// `:` turned into `_` (`hep-th/9901001` becomes `hep-th_9901001`).
pub fn key(id: &PaperId) -> String {
    id.to_string()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':') { c } else { '_' })
        .collect()
}

/// One `@misc` entry.
pub fn entry(p: &Paper) -> String {
    let mut fields: Vec<(&str, String)> = vec![("title", format!("{{{}}}", escape(&p.title)))];
    if !p.authors.is_empty() {
        fields.push(("author", p.authors.iter().map(|a| escape(a)).collect::<Vec<_>>().join(" and ")));
    }
    let year = p.submitted_at.map(|t| t.date_naive()).unwrap_or(p.listed_on);
    fields.push(("year", year.format("%Y").to_string()));
    if let PaperId::Arxiv(id) = &p.id {
        fields.push(("eprint", escape(&id.to_string())));
        fields.push(("archivePrefix", "arXiv".to_string()));
        if let Some(c) = &p.primary_category {
            fields.push(("primaryClass", escape(c)));
        }
    }
    if let Some(doi) = &p.doi {
        fields.push(("doi", escape(doi)));
    }
    if let Some(url) = p.abs_url() {
        // Built by us from the id: no characters that need escaping.
        fields.push(("url", url.to_string()));
    }
    let mut out = format!("@misc{{{},\n", key(&p.id));
    for (name, value) in fields {
        out.push_str(&format!("  {name} = {{{value}}},\n"));
    }
    out.push_str("}\n");
    out
}

/// A whole file.
pub fn file<'a>(papers: impl IntoIterator<Item = &'a Paper>) -> String {
    papers.into_iter().map(entry).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn special_characters_are_escaped() {
        assert_eq!(escape(r"a {b} \c"), r"a \{b\} \textbackslash{}c");
        assert_eq!(escape("50% & $x$ #1 a_b ~ ^"), r"50\% \& \$x\$ \#1 a\_b \textasciitilde{} \textasciicircum{}");
        assert_eq!(escape("Schrödinger\nline"), "Schrödinger line");
    }

    #[test]
    fn entries_have_arxiv_fields_and_balanced_braces() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
        let mut p = Paper::new(PaperId::parse("hep-th/9901001").unwrap(), r"A {Nasty} Title} \end{document}", day);
        p.authors = vec!["Ada Lovelace".into(), "O'Brien, } @misc{evil".into()];
        p.categories = vec!["hep-th".into()];
        p.primary_category = Some("hep-th".into());
        let e = entry(&p);
        assert!(e.starts_with("@misc{hep-th_9901001,\n"), "{e}");
        assert!(e.contains("eprint = {hep-th/9901001}") && e.contains("archivePrefix = {arXiv}"), "{e}");
        assert!(e.contains(r"author = {Ada Lovelace and O'Brien, \} @misc\{evil}"), "{e}");
        assert!(e.contains(r"title = {{A \{Nasty\} Title\} \textbackslash{}end\{document\}}}"), "{e}");
        assert!(e.contains("url = {https://arxiv.org/abs/hep-th/9901001}"), "{e}");
        assert!(e.contains("year = {2026}"), "{e}");
        // Unescaped braces balance: no value can close its field early.
        let mut depth = 0i32;
        let mut prev = ' ';
        for c in e.chars() {
            if prev != '\\' {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        assert!(depth >= 0, "{e}");
                    }
                    _ => {}
                }
            }
            prev = c;
        }
        assert_eq!(depth, 0, "{e}");
    }
}
