//! Secret tokens for holds and bookings: random 128-bit values, shown to
//! the client once and stored only as a SHA-256 hash, so a copy of Redis
//! cannot be used to act on anyone's hold or booking.

use sha2::{Digest, Sha256};

/// Length of a token in hex characters (128 bits).
pub const TOKEN_HEX_LEN: usize = 32;

/// A fresh random token, as 32 lowercase hex characters.
pub fn generate() -> String {
    let mut bytes = [0u8; 16];
    // The WASI random source only fails if the host is broken; a zero
    // token would be guessable, so refuse to continue rather than issue it.
    getrandom::fill(&mut bytes).expect("the host's random source failed");
    hex(&bytes)
}

/// The hash stored in place of a token.
pub fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0xf) as usize] as char);
    }
    out
}

/// Compares two secrets in time that depends only on their lengths.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hex_is_lowercase_two_digits_per_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }

    #[test]
    fn same_secret_compares_whole_strings() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert!(!same_secret("", "a"));
    }
}
