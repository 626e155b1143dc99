//! Members of the community: their ids, usernames, email addresses and roles,
//! and the rules for the text they write (comments, token names).
//!
//! Validation happens here, once, at the edge; the store and the web layer
//! pass the checked types around. Usernames and email addresses keep the
//! spelling people typed for display, and compare through a lowercase key so
//! that `Ada` and `ada` are the same member.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::CoreError;

/// A member's database id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A comment's database id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CommentId(pub i64);

impl fmt::Display for CommentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A personal API token's database id (not the secret).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiTokenId(pub i64);

impl fmt::Display for ApiTokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A member's public name: 3 to 32 characters from `A-Z a-z 0-9 _ -`.
/// Unique regardless of case ([`Username::key`]); shown as typed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub const MIN_CHARS: usize = 3;
    pub const MAX_CHARS: usize = 32;

    /// Checks a username as typed (surrounding spaces are ignored).
    pub fn parse(input: &str) -> Result<Self, CoreError> {
        let s = input.trim();
        let bad = |why: &'static str| CoreError::BadUsername { input: input.chars().take(40).collect(), why };
        if s.len() < Self::MIN_CHARS || s.len() > Self::MAX_CHARS {
            return Err(bad("use 3 to 32 characters"));
        }
        if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err(bad("use only letters A-Z, digits, '_' and '-'"));
        }
        Ok(Username(s.to_string()))
    }

    /// The name as the member spelled it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The uniqueness key: the name in lowercase.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Username {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Username::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An email address, checked loosely (one `@`, a dotted domain, no spaces or
/// control characters, at most 254 characters): the verification mail is the
/// real test. Unique regardless of case ([`Email::key`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub const MAX_CHARS: usize = 254;

    /// Checks an address as typed (surrounding spaces are ignored).
    pub fn parse(input: &str) -> Result<Self, CoreError> {
        let s = input.trim();
        let bad = |why: &'static str| CoreError::BadEmail { input: input.chars().take(60).collect(), why };
        if s.is_empty() || s.chars().count() > Self::MAX_CHARS {
            return Err(bad("give an address of at most 254 characters, such as ada@example.org"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("an address has no spaces or control characters"));
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err(bad("an address has an '@', as in ada@example.org"));
        };
        if local.is_empty() || local.contains('@') || local.len() > 64 {
            return Err(bad("put one name of at most 64 characters before the '@'"));
        }
        let labels_ok = domain.split('.').all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
        if !domain.contains('.') || !labels_ok || domain.contains(['[', ']', '(', ')', '<', '>', ',', ';', ':', '"']) {
            return Err(bad("the part after the '@' must be a domain such as example.org"));
        }
        Ok(Email(s.to_string()))
    }

    /// The address as the member typed it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The uniqueness key: the whole address in lowercase.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Email::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// What a member may do beyond voting, submitting and commenting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    Member,
    /// Hides papers and comments, suspends members, sees what is hidden.
    Admin,
}

impl Role {
    pub const ALLOWED: &'static str = "member, admin";

    pub fn parse(s: &str) -> Result<Self, CoreError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "member" => Ok(Role::Member),
            "admin" => Ok(Role::Admin),
            _ => Err(CoreError::BadRole { input: s.chars().take(40).collect(), allowed: Self::ALLOWED }),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Admin => "admin",
        }
    }

    pub fn is_admin(&self) -> bool {
        matches!(self, Role::Admin)
    }
}

/// Longest comment we accept, in characters.
pub const MAX_COMMENT_CHARS: usize = 10_000;

/// Checks a comment's Markdown source: not blank, at most
/// [`MAX_COMMENT_CHARS`]. The text is kept exactly as written (rendering and
/// escaping are the web layer's job); only trailing whitespace is trimmed.
pub fn comment_body(input: &str) -> Result<&str, CoreError> {
    let s = input.trim_end();
    if s.trim().is_empty() {
        return Err(CoreError::BadText { what: "comment", why: "write something first" });
    }
    if s.chars().count() > MAX_COMMENT_CHARS {
        return Err(CoreError::BadText { what: "comment", why: "shorten it to at most 10000 characters" });
    }
    Ok(s)
}

/// Longest API token name, in characters.
pub const MAX_TOKEN_NAME_CHARS: usize = 100;

/// Checks the name a member gives a personal API token: 1 to 100 characters
/// after trimming, no control characters.
pub fn token_name(input: &str) -> Result<&str, CoreError> {
    let s = input.trim();
    if s.is_empty() || s.chars().count() > MAX_TOKEN_NAME_CHARS {
        return Err(CoreError::BadText { what: "token name", why: "use 1 to 100 characters, e.g. \"laptop script\"" });
    }
    if s.chars().any(char::is_control) {
        return Err(CoreError::BadText { what: "token name", why: "leave out line breaks and control characters" });
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["ada", "Ada_Lovelace-1815", "abc", &"x".repeat(32), "  bob  "] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(Username::parse(" Ada ").unwrap().as_str(), "Ada");
        assert_eq!(Username::parse("AdA").unwrap().key(), "ada");
        for bad in ["ab", "", &"x".repeat(33), "ada lovelace", "ada'; DROP TABLE users;--", "adé", "a.b", "a/b"] {
            let e = Username::parse(bad).unwrap_err().to_string();
            assert!(e.contains("use"), "{bad}: {e}");
        }
        let u: Username = serde_json::from_str("\"Grace\"").unwrap();
        assert_eq!(u.to_string(), "Grace");
        assert!(serde_json::from_str::<Username>("\"no\"").is_err());
    }

    #[test]
    fn emails() {
        for ok in ["ada@example.org", "Ada.Lovelace+papers@Math.Example.ac.uk", "o'brien@example.ie"] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(Email::parse(" Ada@Example.ORG ").unwrap().key(), "ada@example.org");
        assert_eq!(Email::parse("Ada@Example.ORG").unwrap().as_str(), "Ada@Example.ORG");
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.org",
            "ada@example",
            "ada@@example.org",
            "a da@example.org",
            "ada@example..org",
            "ada@-example.org",
            "ada@[127.0.0.1]",
            "ada@exa\u{0}mple.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(Email::parse("ada@example.org\n").is_ok(), "surrounding whitespace is trimmed");
        assert!(Email::parse(&format!("{}@example.org", "a".repeat(65))).is_err());
        assert!(Email::parse(&format!("a@{}.org", "b".repeat(260))).is_err());
    }

    #[test]
    fn roles() {
        assert_eq!(Role::parse("ADMIN").unwrap(), Role::Admin);
        assert_eq!(Role::parse("member").unwrap().as_str(), "member");
        assert!(Role::Admin.is_admin() && !Role::default().is_admin());
        assert!(Role::parse("root").unwrap_err().to_string().contains("member, admin"));
    }

    #[test]
    fn comment_bodies_and_token_names() {
        assert_eq!(comment_body("  *hi*  \n").unwrap(), "  *hi*");
        assert!(comment_body(" \n\t ").is_err());
        assert!(comment_body(&"x".repeat(MAX_COMMENT_CHARS)).is_ok());
        assert!(comment_body(&"x".repeat(MAX_COMMENT_CHARS + 1)).is_err());
        assert_eq!(token_name(" ci ").unwrap(), "ci");
        assert!(token_name("").is_err());
        assert!(token_name("a\u{7}b").is_err());
        assert!(token_name(&"n".repeat(101)).is_err());
    }
}
