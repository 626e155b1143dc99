//! The query parser on normal, malformed and hostile input: it never panics,
//! stays bounded, and falls back to plain words.

use chrono::NaiveDate;
use paperboy_search::query::{CategoryFilter, Field, MAX_CLAUSES, Text, parse};

fn words(q: &str) -> Vec<String> {
    parse(q).clauses.iter().map(|c| c.text.as_str().to_string()).collect()
}

#[test]
fn field_prefixes_and_phrases() {
    let q = parse(r#"au:"Tri Dao" ti:attention abs:"exact attention" kernels"#);
    assert_eq!(q.clauses.len(), 4);
    assert_eq!(q.clauses[0].field, Field::Authors);
    assert_eq!(q.clauses[0].text, Text::Phrase("Tri Dao".into()));
    assert_eq!(q.clauses[1].field, Field::Title);
    assert_eq!(q.clauses[2].field, Field::Abstract);
    assert_eq!(q.clauses[2].text, Text::Phrase("exact attention".into()));
    assert_eq!(q.clauses[3].field, Field::Any);
    assert_eq!(q.semantic_text(), "attention exact attention kernels");
}

#[test]
fn categories_exact_and_archive() {
    let q = parse("cat:cs.LG cat:math.* cat:hep-th -cat:cs.CV");
    assert_eq!(
        q.categories,
        [
            CategoryFilter::Exact("cs.lg".into()),
            CategoryFilter::Archive("math".into()),
            CategoryFilter::Archive("hep-th".into()),
        ]
    );
    assert_eq!(q.excluded_categories, [CategoryFilter::Exact("cs.cv".into())]);
    assert!(!q.has_text());
    assert!(q.has_filters());
}

#[test]
fn dates_intersect() {
    let q = parse("since:2024-01-01 since:2024-03-01 until:2024-12-31 year:2024 x");
    assert_eq!(q.since, NaiveDate::from_ymd_opt(2024, 3, 1));
    assert_eq!(q.until, NaiveDate::from_ymd_opt(2024, 12, 31));
    let y = parse("year:2025");
    assert_eq!(y.since, NaiveDate::from_ymd_opt(2025, 1, 1));
    assert_eq!(y.until, NaiveDate::from_ymd_opt(2025, 12, 31));
}

#[test]
fn exclusions() {
    let q = parse(r#"diffusion -video -ti:survey -"image editing""#);
    assert_eq!(words(r#"diffusion -video"#), ["diffusion"]);
    assert_eq!(q.excluded.len(), 3);
    assert_eq!(q.excluded[0].text, Text::Word("video".into()));
    assert_eq!(q.excluded[1].field, Field::Title);
    assert_eq!(q.excluded[2].text, Text::Phrase("image editing".into()));
}

#[test]
fn malformed_syntax_becomes_words() {
    // Unknown field, empty field, stray colon, lone dash, bad date, bad category.
    assert_eq!(words("foo:bar"), ["foo:bar"]);
    assert_eq!(words("ti:"), ["ti:"]);
    assert_eq!(words(": colon"), ["colon"]);
    assert_eq!(words("a - b"), ["a", "b"]);
    assert_eq!(words("since:2024-13-45"), ["since:2024-13-45"]);
    assert_eq!(words("year:20x5"), ["year:20x5"]);
    assert_eq!(words("cat:*"), ["cat:*"]);
    assert!(parse("since:2024-13-45").since.is_none());
    // An open quote: the quote is dropped, the words kept.
    assert_eq!(words(r#"mamba "state space"#), ["mamba", "state", "space"]);
    assert_eq!(words(r#"au:"Tri Dao"#), ["au:", "Tri", "Dao"]);
}

#[test]
fn direct_ids_and_urls() {
    for s in [
        "2312.00752",
        "arXiv:2312.00752v3",
        "https://arxiv.org/abs/2312.00752",
        "https://arxiv.org/pdf/2312.00752v1.pdf",
        "https://huggingface.co/papers/2312.00752",
        "hep-th/9901001",
    ] {
        let q = parse(s);
        assert!(q.direct_id.is_some(), "{s}");
        assert!(q.clauses.is_empty(), "{s}");
    }
    assert_eq!(parse("  2312.00752v2 ").direct_id.unwrap().to_string(), "2312.00752");
    for s in ["2312", "mamba 2312.00752", "transformers", "pb-0123456789abcdef", "12345"] {
        assert!(parse(s).direct_id.is_none(), "{s}");
    }
}

#[test]
fn hostile_inputs_never_panic_and_stay_bounded() {
    let long = "attention ".repeat(1_100); // 11 kB
    let q = parse(&long);
    assert!(q.truncated);
    assert!(q.clauses.len() <= MAX_CLAUSES);

    let one_word = "x".repeat(10_000);
    let q = parse(&one_word);
    assert!(q.clauses.len() <= 1);
    assert!(q.clauses.iter().all(|c| c.text.as_str().len() <= 256));

    let controls = "mamba\u{0}\u{7}\u{1b}[31m\r\nstate\u{202e}space\tmodel";
    let q = parse(controls);
    let w: Vec<String> = q.clauses.iter().map(|c| c.text.as_str().to_string()).collect();
    assert!(w.iter().all(|s| !s.chars().any(char::is_control)), "{w:?}");
    assert!(w.iter().any(|s| s == "mamba"));

    for s in [
        "\"",
        "\"\"",
        "\"\"\"",
        "-",
        "--",
        "-\"",
        ":",
        "::",
        "a:b:c",
        "ti:\"",
        "au:\"\"",
        "-cat:",
        "cat:.",
        "cat:cs..lg",
        "(a OR b) AND c^2 ~3 field:[1 TO 5] +must -not *wild? /regex/ {x}",
        "\\",
        "'''",
        "ü:ö",
        "日本語:テスト",
        "-ti:-",
        "year:99999",
        "since:",
        "\u{feff}",
        "🚀:🔥",
        "a\"b\"c\"d",
    ] {
        let _ = parse(s);
    }
    let unbalanced = "\"".repeat(5_001) + &"(".repeat(3_000);
    let q = parse(&unbalanced);
    assert!(q.clauses.len() <= MAX_CLAUSES);
}

#[test]
fn empty_and_whitespace() {
    assert!(parse("").is_empty());
    assert!(parse("   \t\n ").is_empty());
    assert!(parse("\"\"").is_empty());
}
