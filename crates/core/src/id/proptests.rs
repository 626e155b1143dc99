//! Property tests of identifier parsing: every spelling of a valid id parses
//! to one canonical form, the canonical form parses to itself, and no input
//! at all makes the parser panic. The number of cases per property comes
//! from `PROPTEST_CASES` (64 by default; `bench/fuzz.sh` runs many more).

use proptest::prelude::*;
use proptest::test_runner::Config;

use super::{ArxivId, OLD_ARCHIVES, PaperId};

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64);
    Config { cases, failure_persistence: None, ..Config::default() }
}

/// A valid new-style id (`YYMM.NNNN` before 2015, `YYMM.NNNNN` from 2015 on)
/// in its canonical form.
fn new_style() -> impl Strategy<Value = String> {
    (7u32..=99, 1u32..=12, 0u32..100_000).prop_filter_map("before April 2007", |(yy, mm, n)| {
        if yy == 7 && mm < 4 {
            return None;
        }
        Some(if yy < 15 { format!("{yy:02}{mm:02}.{:04}", n % 10_000) } else { format!("{yy:02}{mm:02}.{n:05}") })
    })
}

/// A valid old-style id (`archive/YYMMNNN`, 1991 to 2007) in its canonical
/// form, and how it may be written (upper case, with a subject class).
fn old_style() -> impl Strategy<Value = (String, String)> {
    let year = prop_oneof![91u32..=99, 0u32..=7];
    (proptest::sample::select(OLD_ARCHIVES), year, 1u32..=12, 0u32..1000, any::<bool>(), "[A-Z]{2}").prop_map(
        |(archive, yy, mm, n, upper, class)| {
            let canonical = format!("{archive}/{yy:02}{mm:02}{n:03}");
            let archive_typed = if upper { archive.to_ascii_uppercase() } else { archive.to_string() };
            let typed = if class.starts_with('A') {
                format!("{archive_typed}.{class}/{yy:02}{mm:02}{n:03}")
            } else {
                format!("{archive_typed}/{yy:02}{mm:02}{n:03}")
            };
            (canonical, typed)
        },
    )
}

/// A valid id: (canonical base, as typed).
fn any_valid() -> impl Strategy<Value = (String, String)> {
    prop_oneof![new_style().prop_map(|s| (s.clone(), s)), old_style()]
}

/// The ways people wrap an id: a prefix, a suffix, and surrounding spaces.
fn decoration() -> impl Strategy<Value = (String, String)> {
    let prefix = proptest::sample::select(vec![
        "",
        "arXiv:",
        "arxiv:",
        "ARXIV: ",
        "https://arxiv.org/abs/",
        "http://arxiv.org/abs/",
        "https://arxiv.org/pdf/",
        "https://export.arxiv.org/abs/",
        "arxiv.org/abs/",
        "https://huggingface.co/papers/",
        "https://www.arxiv.org/html/",
    ]);
    let suffix = proptest::sample::select(vec!["", "/", "?context=cs", "#section-2", ".pdf", ".PDF"]);
    (prefix, suffix, "[ \t\n]{0,2}", "[ \t\n]{0,2}")
        .prop_map(|(p, s, lead, trail)| (format!("{lead}{p}"), format!("{s}{trail}")))
}

proptest! {
    #![proptest_config(config())]

    /// Any string: no panic; an accepted id prints a canonical form that
    /// parses back to the same id; a refusal names a bounded input.
    #[test]
    fn any_text_parses_or_is_refused(s in any::<String>()) {
        match ArxivId::parse(&s) {
            Ok(id) => {
                let printed = id.to_string();
                prop_assert_eq!(ArxivId::parse(&printed), Ok(id.clone()));
                prop_assert!(printed.is_ascii() && printed.len() <= 40, "{}", printed);
            }
            Err(e) => prop_assert!(e.to_string().len() <= 80 * 12 + 300),
        }
        match PaperId::parse(&s) {
            Ok(id) => {
                prop_assert_eq!(PaperId::parse(&id.to_string()), Ok(id.clone()));
                prop_assert!(id.arxiv().is_none_or(|a| a.version().is_none()));
            }
            Err(e) => prop_assert!(e.to_string().len() <= 80 * 12 + 300),
        }
    }

    /// Text shaped like ids (digits, dots, slashes, `v`, decorations mixed
    /// with non-ASCII) reaches the deeper branches of the parser.
    #[test]
    fn id_like_text_never_panics(s in "(arXiv:|https://|[a-z.-]{0,8}/|é|€)?[0-9.vV/€éa-z-]{0,24}(\\.pdf|/|€)?") {
        if let Ok(id) = ArxivId::parse(&s) {
            prop_assert_eq!(ArxivId::parse(&id.to_string()), Ok(id));
        }
        let _ = PaperId::parse(&s);
    }

    /// Every spelling of a valid id parses to its canonical form, with the
    /// version kept by `ArxivId` and dropped by `PaperId`.
    #[test]
    fn every_spelling_has_one_canonical_form(
        (canonical, typed) in any_valid(),
        version in proptest::option::of(1u32..=u32::MAX),
        upper_v in any::<bool>(),
        (prefix, suffix) in decoration(),
    ) {
        let v = version.map(|n| format!("{}{n}", if upper_v { 'V' } else { 'v' })).unwrap_or_default();
        let input = format!("{prefix}{typed}{v}{suffix}");
        let id = ArxivId::parse(&input).map_err(|e| TestCaseError::fail(format!("{input:?}: {e}")))?;
        prop_assert_eq!(id.base(), canonical.as_str());
        prop_assert_eq!(id.version(), version);
        let expected = match version {
            Some(n) => format!("{canonical}v{n}"),
            None => canonical.clone(),
        };
        prop_assert_eq!(id.to_string(), expected);
        prop_assert_eq!(id.is_old_style(), canonical.contains('/'));
        let paper = PaperId::parse(&input).map_err(|e| TestCaseError::fail(format!("{input:?}: {e}")))?;
        prop_assert_eq!(paper.to_string(), canonical);
    }

    /// Local ids: any 16 hex digits in either case, one lower-case form.
    #[test]
    fn local_ids_round_trip(hex in "[0-9a-fA-F]{16}", title in any::<String>()) {
        let id = PaperId::parse(&format!(" pb-{hex} ")).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(id.to_string(), format!("pb-{}", hex.to_ascii_lowercase()));
        let local = PaperId::local_from_title(&title);
        prop_assert!(local.is_local());
        prop_assert_eq!(PaperId::parse(&local.to_string()), Ok(local));
    }
}
