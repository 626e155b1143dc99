//! Property tests of message building: whatever the site name, subject,
//! recipient, Message-ID or unsubscribe link, the message's header block
//! holds exactly our headers, each once, in 7-bit lines of legal length;
//! CR and LF in free text never start a header of their own. Cases per
//! property: `PROPTEST_CASES` (64 by default; `bench/fuzz.sh` runs many
//! more).

use lettre::message::Mailbox;
use proptest::prelude::*;
use proptest::test_runner::Config;

use super::{Outgoing, build, header_text, id_domain, message_id, sender};

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64);
    Config { cases, failure_persistence: None, ..Config::default() }
}

/// Every header a built message may have at the top level.
const ALLOWED: &[&str] = &[
    "From",
    "To",
    "Subject",
    "Message-ID",
    "Date",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Auto-Submitted",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
];
/// The headers that must be there exactly once.
const ONCE: &[&str] = &["From", "To", "Subject", "Message-ID", "Auto-Submitted"];

/// The top-level header block, unfolded into (name, value) pairs; fails on
/// anything that is not a well-formed header line.
fn headers(raw: &str) -> Result<Vec<(String, String)>, String> {
    if !raw.is_ascii() {
        return Err("the message is not 7-bit".into());
    }
    let block = raw.split("\r\n\r\n").next().unwrap_or("");
    let mut out: Vec<(String, String)> = Vec::new();
    for line in block.split("\r\n") {
        if line.contains(['\r', '\n']) {
            return Err(format!("bare CR or LF in {line:?}"));
        }
        if line.len() > 998 {
            return Err(format!("a line of {} characters", line.len()));
        }
        if line.starts_with([' ', '\t']) {
            let last = out.last_mut().ok_or("a continuation line first")?;
            last.1.push_str(line);
            continue;
        }
        let (name, value) = line.split_once(':').ok_or_else(|| format!("not a header: {line:?}"))?;
        out.push((name.to_string(), value.trim_start().to_string()));
    }
    Ok(out)
}

/// The invariants of every built message.
fn check(raw: &str, with_unsubscribe: bool) -> Result<Vec<(String, String)>, TestCaseError> {
    let hs = headers(raw).map_err(|e| TestCaseError::fail(format!("{e}\n{raw}")))?;
    for (name, _) in &hs {
        prop_assert!(ALLOWED.contains(&name.as_str()), "unexpected header {name:?}\n{raw}");
    }
    for name in ONCE {
        prop_assert_eq!(hs.iter().filter(|(n, _)| n == name).count(), 1, "{}\n{}", name, raw);
    }
    let unsubscribe = hs.iter().filter(|(n, _)| n.starts_with("List-Unsubscribe")).count();
    prop_assert_eq!(unsubscribe, if with_unsubscribe { 2 } else { 0 });
    Ok(hs)
}

/// Free text with what header injection needs: CR, LF, colons, header
/// names, encoded-word markers, non-ASCII and long runs.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        proptest::sample::select(vec![
            "\r\n",
            "\n",
            "\r",
            "\r\n ",
            "\u{85}",
            "\u{2028}",
            "\0",
            ":",
            "Bcc: evil@example.org",
            "Subject: x",
            "=?utf-8?q?x?=",
            "\"",
            "<",
            ">",
            ",",
            ";",
            "\\",
            "é",
            "日本",
            "🦀",
            " ",
            "\t",
        ])
        .prop_map(str::to_string),
        "[A-Za-z0-9]{1,12}",
        "[A-Za-z]{60,120}",
    ];
    proptest::collection::vec(piece, 0..30).prop_map(|v| v.concat())
}

fn from() -> Mailbox {
    sender("Paperboy", "digest@p.example").expect("a fixed valid sender")
}

proptest! {
    #![proptest_config(config())]

    /// Header text has no control characters and no runs of spaces.
    #[test]
    fn header_text_is_one_clean_line(s in any::<String>(), t in hostile_text()) {
        for input in [s, t] {
            let out = header_text(&input);
            prop_assert!(!out.chars().any(char::is_control), "{out:?}");
            prop_assert!(out.chars().count() <= super::MAX_HEADER_TEXT_CHARS);
            prop_assert_eq!(&out, &out.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }

    /// Any site name and subject: a message with exactly our headers.
    #[test]
    fn free_text_never_adds_a_header(
        site in hostile_text(),
        subject in hostile_text(),
        text in any::<String>(),
        html in any::<String>(),
        unsubscribe in any::<bool>(),
    ) {
        let from = sender(&site, "digest@p.example").map_err(|e| TestCaseError::fail(e.to_string()))?;
        let id = message_id("daily", "2026-11-27", 7, "p.example");
        let raw = build(&Outgoing {
            from: &from,
            to: "ada@example.org",
            subject: &subject,
            message_id: &id,
            text,
            html,
            unsubscribe_url: unsubscribe.then_some("https://p.example/unsubscribe/u-7-1-ab"),
        })
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let hs = check(&raw, unsubscribe)?;
        let clean = header_text(&subject);
        if clean.bytes().all(|b| (b' '..=b'~').contains(&b)) && !clean.contains("=?") {
            let got = hs.iter().find(|(n, _)| n == "Subject").map(|(_, v)| v.replace("\r\n", "")).unwrap_or_default();
            prop_assert_eq!(got, clean);
        }
    }

    /// Any recipient, Message-ID and unsubscribe link: refused, or a message
    /// with exactly our headers.
    #[test]
    fn addresses_ids_and_links_never_add_a_header(
        to in prop_oneof![hostile_text(), "[a-z]{1,8}@[a-z]{1,8}\\.org", hostile_text().prop_map(|n| format!("\"{n}\" <a@b.org>"))],
        id in prop_oneof![hostile_text(), "<[a-z.]{1,20}@[a-z.]{1,20}>"],
        url in prop_oneof![hostile_text(), hostile_text().prop_map(|t| format!("https://p.example/{t}"))],
    ) {
        let from = from();
        let out = Outgoing {
            from: &from,
            to: &to,
            subject: "s",
            message_id: &id,
            text: String::new(),
            html: String::new(),
            unsubscribe_url: Some(&url),
        };
        if let Ok(raw) = build(&out) {
            check(&raw, true)?;
        }
    }

    /// Message-IDs are made of safe characters only.
    #[test]
    fn message_ids_are_safe(kind in any::<String>(), period in any::<String>(), n in any::<i64>(), base in any::<String>()) {
        let domain = id_domain(&base);
        prop_assert!(!domain.is_empty() && domain.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'));
        let id = message_id(&kind, &period, n, &domain);
        let inner = id.strip_prefix("<paperboy.").and_then(|s| s.strip_suffix('>')).unwrap_or("");
        prop_assert!(!inner.is_empty(), "{id}");
        prop_assert!(inner.bytes().all(|b| b.is_ascii_alphanumeric() || b".-@".contains(&b)), "{id}");
        prop_assert_eq!(inner.matches('@').count(), 1);
    }
}
