//! Author names: splitting arXiv's one-string author lists
//! (`"A. Smith (MIT), B. Jones and C. Wu"`) and assembling parsed names
//! (`keyname`, `forenames`, `suffix`) in reading order.

use paperboy_core::text::normalize_ws;

/// Name suffixes that arXiv authors sometimes separate with a comma
/// (`"John Smith, Jr."`); they belong to the previous name.
const SUFFIXES: &[&str] = &["Jr.", "Jr", "Sr.", "Sr", "II", "III", "IV"];

/// Splits an arXiv author string into names, in order.
///
/// Names are separated by commas and by the word `and`; anything in
/// parentheses (affiliations, footnote markers, `((1) MIT, (2) CMU)`) is
/// dropped, including commas inside it. `et al.` is dropped, and a bare
/// suffix such as `Jr.` is attached to the name before it.
pub(crate) fn split_authors(s: &str) -> Vec<String> {
    let s = normalize_ws(s);
    let mut names: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        let Some(c) = rest.chars().next() else { break };
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            ',' | ';' => push_name(&mut names, &mut current),
            ' ' if rest.starts_with(" and ") => {
                push_name(&mut names, &mut current);
                i += " and".len();
                continue;
            }
            _ => current.push(c),
        }
        i += c.len_utf8();
    }
    push_name(&mut names, &mut current);
    names
}

fn push_name(names: &mut Vec<String>, current: &mut String) {
    let name = normalize_ws(current);
    current.clear();
    let mut name = name.as_str();
    for et_al in ["et al.", "et al", "et. al."] {
        if name == et_al {
            return;
        }
        if let Some(stripped) = name.strip_suffix(et_al)
            && stripped.ends_with(' ')
        {
            name = stripped.trim_end();
        }
    }
    if name.is_empty() {
        return;
    }
    if SUFFIXES.contains(&name)
        && let Some(prev) = names.last_mut()
    {
        prev.push(' ');
        prev.push_str(name);
        return;
    }
    names.push(name.to_string());
}

/// `"Forenames Keyname Suffix"`, skipping empty parts.
pub(crate) fn full_name(forenames: &str, keyname: &str, suffix: &str) -> String {
    let mut out = String::with_capacity(forenames.len() + keyname.len() + suffix.len() + 2);
    for part in [forenames, keyname, suffix] {
        let part = part.trim();
        if !part.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(part);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_and_the_word_and_separate_names() {
        assert_eq!(split_authors("A. Smith, B. Jones and C. Wu"), vec!["A. Smith", "B. Jones", "C. Wu"]);
        assert_eq!(split_authors("A. Smith, B. Jones, and C. Wu"), vec!["A. Smith", "B. Jones", "C. Wu"]);
        assert_eq!(split_authors("Naoum C. Bacalis"), vec!["Naoum C. Bacalis"]);
        assert_eq!(split_authors(""), Vec::<String>::new());
    }

    #[test]
    fn affiliations_with_commas_and_line_breaks_are_dropped() {
        assert_eq!(
            split_authors(
                "Robert H. Brandenberger (McGill), Keshav Dasgupta (McGill) and\n  Anne-Christine Davis (DAMTP, Cambridge)"
            ),
            vec!["Robert H. Brandenberger", "Keshav Dasgupta", "Anne-Christine Davis"]
        );
        assert_eq!(split_authors("A. Smith (1), B. Jones (2) ((1) MIT, (2) CMU)"), vec!["A. Smith", "B. Jones"]);
    }

    #[test]
    fn names_containing_and_are_not_split() {
        assert_eq!(split_authors("Alexander Anderson and Sandy Andrews"), vec!["Alexander Anderson", "Sandy Andrews"]);
        assert_eq!(split_authors("Rolando Randall"), vec!["Rolando Randall"]);
    }

    #[test]
    fn suffixes_and_et_al() {
        assert_eq!(split_authors("John Smith, Jr., Mary Major et al."), vec!["John Smith Jr.", "Mary Major"]);
        assert_eq!(split_authors("John Smith, Jr., Mary Major, et al."), vec!["John Smith Jr.", "Mary Major"]);
        assert_eq!(
            split_authors("The ATLAS Collaboration: G. Aad, B. Abbott"),
            vec!["The ATLAS Collaboration: G. Aad", "B. Abbott"]
        );
    }

    #[test]
    fn parsed_names_read_forenames_first() {
        assert_eq!(full_name("C.", "Balázs", ""), "C. Balázs");
        assert_eq!(full_name("Jr", "Smith", "III"), "Jr Smith III");
        assert_eq!(full_name("", "ATLAS Collaboration", ""), "ATLAS Collaboration");
        assert_eq!(full_name(" Bas ", "Westerbaan", " "), "Bas Westerbaan");
    }
}
