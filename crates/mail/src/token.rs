//! Signed links: confirm, unsubscribe and manage links carry an HMAC-SHA256
//! token over (purpose, subscriber, expiry), so no token table is needed and
//! a link cannot be forged or pointed at another subscriber.
//!
//! A token reads `{purpose}-{subscriber}-{expires_unix}-{mac hex}`: only
//! URL-safe characters, so it sits in a path as is. The key is 32 random
//! bytes kept in the database as a shared secret ([`Signer::shared`]), so
//! that a link mailed by one server verifies on every other. An older
//! installation's key file (`DATA_DIR/mail.key`) becomes the shared key the
//! first time, so links already mailed keep working.

use std::path::Path;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use paperboy_store::{Coordination, SubscriberId};
use sha2::Sha256;

use crate::MailError;

type HmacSha256 = Hmac<Sha256>;

/// What a signed link lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Confirm a subscription (double opt-in).
    Confirm,
    /// Stop all digests (one click).
    Unsubscribe,
    /// Change frequency, categories and saved searches.
    Manage,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Confirm => "c",
            Purpose::Unsubscribe => "u",
            Purpose::Manage => "m",
        }
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("this link is not valid (it may have been cut short when copied): use the link from your latest email")]
    Invalid,
    #[error("this link has expired: use the link from a more recent email, or subscribe again")]
    Expired,
}

/// The name of the mail key among the database's shared secrets.
pub const MAIL_KEY_SECRET: &str = "mail-signing-key";

/// Signs and checks tokens with the site's mail key.
#[derive(Clone)]
pub struct Signer {
    key: [u8; 32],
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(..)")
    }
}

impl Signer {
    pub fn new(key: [u8; 32]) -> Self {
        Signer { key }
    }

    /// A signer with a fresh random key (tests, previews).
    pub fn random() -> Result<Self, MailError> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| MailError::Random(e.to_string()))?;
        Ok(Signer { key })
    }

    /// The site's signer: the key shared by every process on the database
    /// (the shared secret [`MAIL_KEY_SECRET`]), created on first use from
    /// the key file `legacy` if there is one (links signed before the key
    /// moved into the database stay valid), else from random bytes.
    pub async fn shared<C: Coordination + ?Sized>(db: &C, legacy: &Path) -> Result<Self, MailError> {
        let candidate = match std::fs::read(legacy) {
            Ok(bytes) => Self::from_file_bytes(&bytes).ok_or_else(|| MailError::Key {
                path: legacy.display().to_string(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "the key file must hold 32 bytes; remove it to use the key in the database",
                ),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Signer::random()?,
            Err(source) => return Err(MailError::Key { path: legacy.display().to_string(), source }),
        };
        let stored = db.shared_secret(MAIL_KEY_SECRET, &hex(&candidate.key)).await?;
        unhex(&stored).and_then(|bytes| Self::from_file_bytes(&bytes)).ok_or_else(|| MailError::Key {
            path: format!("the database's shared secret {MAIL_KEY_SECRET:?}"),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, "it is not 64 hex digits"),
        })
    }

    fn from_file_bytes(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(bytes).ok().map(Signer::new)
    }

    fn mac(&self, payload: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(payload.as_bytes());
        mac
    }

    /// A token for `purpose` on `subscriber`, valid until `expires`.
    pub fn sign(&self, purpose: Purpose, subscriber: SubscriberId, expires: DateTime<Utc>) -> String {
        let payload = format!("{}-{}-{}", purpose.as_str(), subscriber.0, expires.timestamp());
        let tag = self.mac(&payload).finalize().into_bytes();
        format!("{payload}-{}", hex(&tag))
    }

    /// The subscriber a token is for, if it is genuine, for `purpose`, and
    /// not expired at `now`. The MAC is checked in constant time, before
    /// the expiry is looked at.
    pub fn verify(&self, token: &str, purpose: Purpose, now: DateTime<Utc>) -> Result<SubscriberId, TokenError> {
        if token.len() > 200 || !token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(TokenError::Invalid);
        }
        let (payload, tag_hex) = token.rsplit_once('-').ok_or(TokenError::Invalid)?;
        let tag = unhex(tag_hex).ok_or(TokenError::Invalid)?;
        self.mac(payload).verify_slice(&tag).map_err(|_| TokenError::Invalid)?;
        let mut parts = payload.split('-');
        let (Some(p), Some(id), Some(exp), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(TokenError::Invalid);
        };
        if p != purpose.as_str() {
            return Err(TokenError::Invalid);
        }
        let id: i64 = id.parse().map_err(|_| TokenError::Invalid)?;
        let exp: i64 = exp.parse().map_err(|_| TokenError::Invalid)?;
        if now.timestamp() > exp {
            return Err(TokenError::Expired);
        }
        Ok(SubscriberId(id))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn tokens_round_trip_and_refuse_forgeries_and_expiry() {
        let s = Signer::new([7; 32]);
        let now = Utc::now();
        let t = s.sign(Purpose::Unsubscribe, SubscriberId(42), now + Duration::days(1));
        assert_eq!(s.verify(&t, Purpose::Unsubscribe, now), Ok(SubscriberId(42)));
        assert_eq!(s.verify(&t, Purpose::Manage, now), Err(TokenError::Invalid), "purpose is signed");
        assert_eq!(s.verify(&t, Purpose::Unsubscribe, now + Duration::days(2)), Err(TokenError::Expired));
        let forged = t.replacen("-42-", "-43-", 1);
        assert_eq!(s.verify(&forged, Purpose::Unsubscribe, now), Err(TokenError::Invalid));
        let other = Signer::new([8; 32]);
        assert_eq!(other.verify(&t, Purpose::Unsubscribe, now), Err(TokenError::Invalid));
        for junk in ["", "u-1-2", "u-1-2-zz", "../etc", "u-1-99999999999-abc\r\n"] {
            assert_eq!(s.verify(junk, Purpose::Unsubscribe, now), Err(TokenError::Invalid), "{junk:?}");
        }
    }

    #[tokio::test]
    async fn the_key_is_shared_through_the_database_and_an_old_key_file_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let db = paperboy_store::SqlStore::open_sqlite(&dir.path().join("p.db")).await.unwrap();
        let file = dir.path().join("mail.key");
        std::fs::write(&file, [9u8; 32]).unwrap();
        let a = Signer::shared(&db, &file).await.unwrap();
        assert_eq!(a.key, [9u8; 32], "the existing key file becomes the shared key");
        // Another data directory (another server) with no key file, or another one.
        let elsewhere = dir.path().join("elsewhere.key");
        assert_eq!(Signer::shared(&db, &elsewhere).await.unwrap().key, a.key);
        std::fs::write(&elsewhere, [1u8; 32]).unwrap();
        assert_eq!(Signer::shared(&db, &elsewhere).await.unwrap().key, a.key, "the first key stays");

        let fresh = paperboy_store::SqlStore::open_sqlite(&dir.path().join("q.db")).await.unwrap();
        let b = Signer::shared(&fresh, &dir.path().join("none.key")).await.unwrap();
        assert_ne!(b.key, [0u8; 32]);
        assert_ne!(b.key, a.key, "a new database gets a random key");
        std::fs::write(&file, b"short").unwrap();
        assert!(Signer::shared(&fresh, &file).await.is_err(), "a broken key file is reported, not ignored");
    }
}
