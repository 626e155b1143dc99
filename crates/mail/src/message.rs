//! Building RFC 5322 messages with lettre: `multipart/alternative` (plain
//! text first, HTML last), a deterministic `Message-ID` per outbox row, and
//! RFC 8058 one-click unsubscribe headers.
//!
//! Header safety: addresses are parsed by lettre (no CR/LF possible in a
//! valid mailbox), every free text that reaches a header (the site name,
//! the subject) has control characters replaced by spaces first, and our own
//! headers are checked to be printable ASCII before they are added.

use lettre::Message;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};

use crate::MailError;

/// Longest free text put in a header, in characters. lettre folds long
/// headers only at spaces, so a longer word would make a line over RFC
/// 5322's 998 characters (found by the property tests).
pub const MAX_HEADER_TEXT_CHARS: usize = 200;

/// Replaces control characters (CR, LF, tabs, …) with spaces, trims, and
/// cuts at [`MAX_HEADER_TEXT_CHARS`]: what is left cannot start a new header
/// line nor make one too long.
pub fn header_text(s: &str) -> String {
    let cleaned: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let joined = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    match joined.char_indices().nth(MAX_HEADER_TEXT_CHARS) {
        Some((cut, _)) => joined[..cut].trim_end().to_string(),
        None => joined,
    }
}

/// The sender: `"Site name" <address>`.
pub fn sender(site_name: &str, address: &str) -> Result<Mailbox, MailError> {
    let addr = address
        .trim()
        .parse()
        .map_err(|e| MailError::Config(format!("the from address {address:?} is not valid ({e}): use name@domain")))?;
    Ok(Mailbox::new(Some(header_text(site_name)), addr))
}

/// The domain part of Message-IDs: the site's host name.
pub fn id_domain(base_url: &str) -> String {
    let rest = base_url.split_once("://").map_or(base_url, |(_, r)| r);
    let host = rest.split(['/', ':', '?', '#']).next().unwrap_or("");
    let host: String = host.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-')).collect();
    if host.is_empty() { "paperboy.invalid".to_string() } else { host }
}

/// `<paperboy.{kind}.{period}.{subscriber}@{domain}>`: the same for every
/// attempt of one outbox row, so a receiver can drop a duplicate.
pub fn message_id(kind: &str, period_key: &str, subscriber: i64, domain: &str) -> String {
    let clean = |s: &str| s.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.')).collect::<String>();
    format!("<paperboy.{}.{}.{subscriber}@{}>", clean(kind), clean(period_key), clean(domain))
}

/// What goes into one mail.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    pub from: &'a Mailbox,
    pub to: &'a str,
    pub subject: &'a str,
    pub message_id: &'a str,
    pub text: String,
    pub html: String,
    /// The https unsubscribe link; adds `List-Unsubscribe` and
    /// `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
    pub unsubscribe_url: Option<&'a str>,
}

/// The whole message as 7-bit text, ready for the outbox.
pub fn build(m: &Outgoing<'_>) -> Result<String, MailError> {
    let to: Mailbox =
        m.to.parse().map_err(|e| MailError::Build(format!("the recipient {:?} is not a valid address ({e})", m.to)))?;
    let mut b = Message::builder()
        .from(m.from.clone())
        .to(to)
        .subject(header_text(m.subject))
        .message_id(Some(m.message_id.to_string()))
        .header(AutoSubmitted);
    if let Some(url) = m.unsubscribe_url {
        if !url.starts_with("https://") && !url.starts_with("http://") || !is_header_safe(url) {
            return Err(MailError::Build(format!("the unsubscribe link {url:?} is not a plain http(s) URL")));
        }
        b = b.header(ListUnsubscribe(format!("<{url}>"))).header(ListUnsubscribePost);
    }
    let body = MultiPart::alternative()
        .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(m.text.clone()))
        .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(m.html.clone()));
    let msg = b.multipart(body).map_err(|e| MailError::Build(e.to_string()))?;
    String::from_utf8(msg.formatted()).map_err(|_| MailError::Build("the message is not 7-bit text".into()))
}

fn is_header_safe(s: &str) -> bool {
    s.bytes().all(|b| (0x21..0x7f).contains(&b)) && !s.contains(['<', '>'])
}

/// `List-Unsubscribe: <https://…>` (RFC 2369).
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_string())
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): no auto-replies, please.
#[derive(Debug, Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_string())
    }
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_have_both_parts_and_one_click_headers_and_no_injected_lines() {
        let from = sender("Paper\r\nBcc: evil@example.org", "digest@p.example").unwrap();
        let id = message_id("daily", "2026-11-27", 7, &id_domain("https://p.example:8443/x"));
        assert_eq!(id, "<paperboy.daily.2026-11-27.7@p.example>");
        let raw = build(&Outgoing {
            from: &from,
            to: "ada@example.org",
            subject: "Hello\r\nBcc: evil@example.org",
            message_id: &id,
            text: "plain ünïcode".into(),
            html: "<p>html</p>".into(),
            unsubscribe_url: Some("https://p.example/unsubscribe/u-7-1-ab"),
        })
        .unwrap();
        assert!(raw.is_ascii());
        assert!(!raw.lines().any(|l| l.starts_with("Bcc:")), "{raw}");
        assert!(raw.contains("List-Unsubscribe: <https://p.example/unsubscribe/u-7-1-ab>"));
        assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(raw.contains("Message-ID: <paperboy.daily.2026-11-27.7@p.example>"));
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.contains("text/plain") && raw.contains("text/html"));
        let bad = Outgoing {
            unsubscribe_url: Some("https://x/\r\nBcc: y"),
            ..Outgoing {
                from: &from,
                to: "ada@example.org",
                subject: "s",
                message_id: &id,
                text: String::new(),
                html: String::new(),
                unsubscribe_url: None,
            }
        };
        assert!(build(&bad).is_err());
        assert!(build(&Outgoing { to: "ada@example.org\r\nBcc: e@x.org", ..bad.clone() }).is_err());
        assert!(sender("P", "not an address").is_err());
    }
}
