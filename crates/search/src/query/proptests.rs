//! Property tests of the query parser: it never panics, never fails, keeps
//! its output within the documented bounds whatever it is given, and reads
//! well-formed queries as written. Cases per property: `PROPTEST_CASES`
//! (64 by default; `bench/fuzz.sh` runs many more).

use chrono::NaiveDate;
use proptest::prelude::*;
use proptest::test_runner::Config;

use super::{CategoryFilter, Clause, Field, MAX_CLAUSES, MAX_QUERY_BYTES, MAX_VALUE_BYTES, ParsedQuery, Text, parse};

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64);
    Config { cases, failure_persistence: None, ..Config::default() }
}

/// Every clause, filter and value is within the parser's limits.
fn check_bounds(q: &ParsedQuery) -> Result<(), TestCaseError> {
    let texts = q.clauses.iter().chain(&q.excluded).map(|c| c.text.as_str());
    let filters = q.categories.iter().chain(&q.excluded_categories).map(CategoryFilter::index_term);
    let count = q.clauses.len() + q.excluded.len() + q.categories.len() + q.excluded_categories.len();
    prop_assert!(count <= MAX_CLAUSES, "{count} clauses");
    for t in texts {
        prop_assert!(!t.is_empty() && t.len() <= MAX_VALUE_BYTES, "{t:?}");
        prop_assert!(!t.chars().any(char::is_control), "{t:?}");
        prop_assert!(t.chars().any(char::is_alphanumeric), "{t:?}");
    }
    for f in filters {
        prop_assert!(!f.is_empty() && f.len() <= 32, "{f:?}");
        prop_assert!(
            f.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-'),
            "{f:?}"
        );
    }
    if q.direct_id.is_some() {
        prop_assert!(q.clauses.is_empty() && q.excluded.is_empty() && q.categories.is_empty());
        prop_assert!(q.direct_id.as_ref().is_some_and(|id| id.arxiv().is_some()));
    }
    prop_assert!(q.semantic_text().len() <= MAX_CLAUSES * (MAX_VALUE_BYTES + 1));
    Ok(())
}

/// The characters the syntax gives a meaning to, with words, digits,
/// Unicode spaces and quotes, controls and multi-byte letters.
fn syntax_soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\"".to_string()),
        Just("-".to_string()),
        Just(":".to_string()),
        Just("*".to_string()),
        Just(".".to_string()),
        Just(" ".to_string()),
        Just("\u{a0}".to_string()),
        Just("\u{3000}".to_string()),
        Just("\u{201c}".to_string()),
        Just("\u{85}".to_string()),
        Just("\n".to_string()),
        proptest::sample::select(vec!["ti", "abs", "au", "cat", "since", "until", "year", "title", "author"])
            .prop_map(str::to_string),
        "[a-zé€0-9]{1,6}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}",
        Just("2312.00752".to_string()),
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(config())]

    /// Arbitrary text: a query within bounds, no panic.
    #[test]
    fn any_text_gives_a_bounded_query(s in any::<String>()) {
        let q = parse(&s);
        check_bounds(&q)?;
        // Each token holds a piece between separators, or is an (empty) phrase.
        let quotes = |c: char| matches!(c, '"' | '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{ff02}');
        let pieces = s.split(|c: char| c.is_whitespace() || c.is_control() || quotes(c)).filter(|p| !p.is_empty()).count();
        if s.len() <= MAX_QUERY_BYTES && pieces + s.chars().filter(|&c| quotes(c)).count() < MAX_CLAUSES {
            prop_assert!(!q.truncated);
        }
    }

    /// Text made of the syntax's own characters.
    #[test]
    fn syntax_soup_gives_a_bounded_query(s in syntax_soup()) {
        check_bounds(&parse(&s))?;
    }

    /// Very long and very many-worded input is cut, not processed whole.
    #[test]
    fn long_input_is_cut(word in "[a-z]{1,12}", n in 65usize..3000) {
        let s = vec![word.as_str(); n].join(" ");
        let q = parse(&s);
        check_bounds(&q)?;
        prop_assert!(q.truncated);
        prop_assert_eq!(q.clauses.len(), MAX_CLAUSES);
    }

    /// Plain words come back as they were typed, in order.
    #[test]
    fn plain_words_are_kept_in_order(words in proptest::collection::vec("[a-z][a-z0-9]{0,10}", 0..MAX_CLAUSES)) {
        let q = parse(&words.join("  "));
        let got: Vec<&str> = q.clauses.iter().map(|c| c.text.as_str()).collect();
        prop_assert_eq!(got, words.iter().map(String::as_str).collect::<Vec<_>>());
        prop_assert!(q.clauses.iter().all(|c| c.field == Field::Any && matches!(c.text, Text::Word(_))));
        prop_assert!(!q.truncated && !q.has_filters());
    }

    /// A query built from the syntax's parts parses back to those parts.
    #[test]
    fn well_formed_queries_parse_as_written(
        phrase in "[a-z]{1,8}( [a-z]{1,8}){1,3}",
        field in proptest::sample::select(vec![("ti", Field::Title), ("abs", Field::Abstract), ("au", Field::Authors)]),
        value in "[a-z]{1,10}",
        excluded in "[a-z]{1,10}",
        archive in "[a-z]{2,8}",
        class in "[A-Z]{2}",
        since in (1990i32..2100, 1u32..=12, 1u32..=28),
        year in 1990i32..2100,
    ) {
        let since_date = NaiveDate::from_ymd_opt(since.0, since.1, since.2).unwrap_or_default();
        let s = format!(
            "\"{phrase}\" {}:{value} -{excluded} cat:{archive}.{class} -cat:{archive}.* since:{since_date} year:{year}",
            field.0
        );
        let q = parse(&s);
        prop_assert_eq!(
            &q.clauses,
            &vec![
                Clause { field: Field::Any, text: Text::Phrase(phrase.clone()) },
                Clause { field: field.1, text: Text::Word(value.clone()) },
            ]
        );
        prop_assert_eq!(&q.excluded, &vec![Clause { field: Field::Any, text: Text::Word(excluded.clone()) }]);
        prop_assert_eq!(&q.categories, &vec![CategoryFilter::Exact(format!("{archive}.{}", class.to_ascii_lowercase()))]);
        prop_assert_eq!(&q.excluded_categories, &vec![CategoryFilter::Archive(archive.clone())]);
        let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
        prop_assert_eq!(q.since, Some(since_date.max(first)));
        prop_assert_eq!(q.until, NaiveDate::from_ymd_opt(year, 12, 31));
        prop_assert!(q.direct_id.is_none() && !q.truncated);
    }
}
