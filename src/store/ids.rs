//! Random identifiers and API tokens. Case ids are `c_` + 80 random bits in
//! lowercase base32 (not guessable); tokens carry 256 random bits and only
//! their SHA-256 is stored.

use rand::RngCore;
use sha2::{Digest, Sha256};

const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// `prefix` + 16 lowercase base32 characters (80 random bits).
pub(crate) fn random_id(prefix: &str) -> String {
    let mut bytes = [0u8; 10];
    rand::thread_rng().fill_bytes(&mut bytes);
    let mut id = String::with_capacity(prefix.len() + 16);
    id.push_str(prefix);
    // 10 bytes = 80 bits = 16 groups of 5 bits.
    let mut bits: u128 = 0;
    for byte in bytes {
        bits = (bits << 8) | u128::from(byte);
    }
    for group in (0..16).rev() {
        let index = ((bits >> (group * 5)) & 0x1f) as usize;
        id.push(char::from(BASE32[index]));
    }
    id
}

/// A new case id.
pub(crate) fn case_id() -> String {
    random_id("c_")
}

/// Whether `id` has the form of a case id this store issues: `c_` and 16
/// lowercase base32 characters. Anything else names no case.
pub fn is_case_id(id: &str) -> bool {
    id.len() == 18 && id.starts_with("c_") && id.bytes().skip(2).all(|byte| BASE32.contains(&byte))
}

/// A new API token: `esc_` + 64 hex characters.
pub(crate) fn token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("esc_{}", hex::encode(bytes))
}

/// The hex SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_ids_are_prefixed_lowercase_base32_and_differ() {
        let first = case_id();
        assert_eq!(first.len(), 18);
        assert!(
            first[2..].bytes().all(|byte| BASE32.contains(&byte)),
            "{first}"
        );
        assert_ne!(first, case_id());
        assert!(is_case_id(&first));
        for other in [
            "c_aaaaaaaaaaaaaaa",
            "c_aaaaaaaaaaaaaaaaa",
            "c_aaaaaaaaaaaaaaa1",
            "d_aaaaaaaaaaaaaaaa",
            "c_aaaaaaaaaaaaaaaA",
        ] {
            assert!(!is_case_id(other), "{other}");
        }
    }

    #[test]
    fn tokens_carry_256_bits_and_hash_to_hex() {
        let token = token();
        assert_eq!(token.len(), 4 + 64);
        assert_eq!(token_hash(&token).len(), 64);
    }
}
