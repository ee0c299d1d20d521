//! Secret tokens for holds and bookings: random 128-bit values, shown to
//! the client once and stored only as a SHA-256 hash, so a copy of Redis
//! cannot be used to act on anyone's hold or booking.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Length of a token in hex characters (128 bits).
pub const TOKEN_HEX_LEN: usize = 32;

/// A fresh random token, as 32 lowercase hex characters.
pub fn generate() -> String {
    hex(&random_bytes::<16>())
}

/// `N` random bytes in one draw from the host (each draw is a host call,
/// which costs more on Spin than the bytes: callers that need several
/// random values take them from one draw).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The WASI random source only fails if the host is broken; a zero
    // token would be guessable, so refuse to continue rather than issue it.
    getrandom::fill(&mut bytes).expect("the host's random source failed");
    bytes
}

/// The hash stored in place of a token.
pub fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Lowercase hex of `bytes`.
/// Kept over `hex::encode`: it collects chars one by one, 2-3x slower here, and adds 1.7 KB.
/// Bytes are pushed rather than chars, which skips the UTF-8 encoding of each.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    // One pass that never checks capacity (a `push` per digit did, and
    // cost a booking 2,400 instructions for its 48 bytes).
    let out: Vec<u8> = bytes
        .iter()
        .flat_map(|b| [DIGITS[(b >> 4) as usize], DIGITS[(b & 0xf) as usize]])
        .collect();
    String::from_utf8(out).expect("hex digits are ASCII")
}

/// Compares two secrets in time that depends only on their lengths
/// (`subtle`'s `ct_eq`, which the optimiser cannot turn into an early exit),
/// so response times do not tell how much of a guessed secret was right.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
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
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn tokens_are_32_lowercase_hex_digits_and_differ() {
        let (a, b) = (generate(), generate());
        for t in [&a, &b] {
            assert_eq!(t.len(), TOKEN_HEX_LEN);
            assert!(t.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')));
        }
        assert_ne!(a, b);
    }

    #[test]
    fn same_secret_compares_whole_strings() {
        assert!(same_secret("abc", "abc"));
        assert!(same_secret("", ""));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "xbc"));
        assert!(!same_secret("abc", "ABC"));
        assert!(!same_secret("abc", "abcd"));
        assert!(!same_secret("abcd", "abc"));
        assert!(!same_secret("abc", "ab"));
        assert!(!same_secret("", "a"));
        assert!(!same_secret("a", ""));
        let h = hash("token");
        assert!(same_secret(&h, &hash("token")));
        assert!(!same_secret(&h, &hash("tokem")));
        assert!(!same_secret(&h, &h[..63]));
    }
}
