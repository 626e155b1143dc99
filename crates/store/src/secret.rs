//! Random secrets and their hashes: every token the store hands out comes
//! from the operating system's CSPRNG (`getrandom`), and only its SHA-256
//! hash, in hex, is written to the database.

use sha2::{Digest, Sha256};

use crate::StoreError;

/// Prefix of personal API tokens, so that secret scanners and people can
/// recognise a leaked one.
pub const API_TOKEN_PREFIX: &str = "pb_";

/// 32 random bytes (256 bits) as 64 lowercase hex digits.
pub fn random_hex() -> Result<String, StoreError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Random(e.to_string()))?;
    Ok(hex(&bytes))
}

/// The stored form of a secret: SHA-256, 64 lowercase hex digits.
pub fn hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_hashes_are_sha256() {
        let (a, b) = (random_hex().unwrap(), random_hex().unwrap());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
