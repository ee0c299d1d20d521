//! `Idempotency-Key` support: a retried POST replays the first answer byte
//! for byte and changes nothing; the same key with another request is 422.
//!
//! The store keeps the first success answer for 24 hours, written by the
//! same script that made the change (so a crash can never leave a change
//! without its answer). Answers carry secret tokens, and only token hashes
//! may rest in Redis, so a token inside a stored answer is *sealed*: XORed
//! with a pad derived from the Idempotency-Key, which only the client
//! knows. Redis holds a hash of the key, never the key itself.
//!
//! So the key is what a replay proves: whoever sends the same key and the
//! same request gets the first answer, tokens and all. A key someone else
//! can guess would hand them a buyer's hold or booking; a random key is as
//! hard to guess as a token. Keys must therefore look random ([`check_key`]):
//! the component cannot measure randomness, but it refuses what is surely
//! not 128 bits of it (short keys, counters, timestamps, repeated
//! characters), and a UUID v4 or 16 random bytes in hex or base64url, what
//! clients generate (the IETF draft recommends a UUID v4), always pass.
//! Binding a replay to the client's address instead would fail the very
//! retries idempotency is for: a phone that changes networks, a retry after
//! a failover through another proxy.

use sha2::{Digest, Sha256};

use crate::token::{hex, TOKEN_HEX_LEN};

/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// The fewest different characters (`-` aside) a key may have: a random
/// key of the shortest lengths allowed has fewer with a chance below one
/// in a billion; keys like `aaaa…` or `abab…` have fewer.
pub const MIN_DISTINCT: usize = 6;

/// The rule, as the 400's detail and the documentation state it.
pub const KEY_RULE: &str = "the Idempotency-Key must be a random value of at least 128 bits: \
    at most 255 visible ASCII characters holding, besides '-', at least 32 hex digits (a UUID \
    v4 does), 39 decimal digits or 22 characters of a wider alphabet such as base64url, of at \
    least 6 different characters";

/// Whether `value` may be an Idempotency-Key: at most [`MAX_KEY_LEN`]
/// visible ASCII characters whose characters other than `-` (the symbols)
/// have room for 128 bits in the narrowest alphabet holding them (39
/// decimal digits, 32 hex digits, else 22 characters, 6 bits each as in
/// base64url), with at least [`MIN_DISTINCT`] different symbols.
pub fn check_key(value: &[u8]) -> Result<(), &'static str> {
    if value.len() > MAX_KEY_LEN || !value.iter().all(u8::is_ascii_graphic) {
        return Err(KEY_RULE);
    }
    let mut seen = [false; 128];
    let (mut symbols, mut distinct) = (0, 0);
    let (mut decimal, mut hexadecimal) = (true, true);
    for &b in value.iter().filter(|&&b| b != b'-') {
        symbols += 1;
        decimal &= b.is_ascii_digit();
        hexadecimal &= b.is_ascii_hexdigit();
        if !seen[usize::from(b)] {
            seen[usize::from(b)] = true;
            distinct += 1;
        }
    }
    let needed = if decimal {
        39
    } else if hexadecimal {
        32
    } else {
        22
    };
    if symbols < needed || distinct < MIN_DISTINCT {
        return Err(KEY_RULE);
    }
    Ok(())
}

/// A validated `Idempotency-Key` with the fingerprint of its request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    key: String,
    fingerprint: String,
}

impl Idempotency {
    /// Reads the header's value: `Err` for one that breaks [`check_key`]'s
    /// rule. A request without the header has no `Idempotency`
    /// (`http::submission`).
    pub fn from_header(
        value: &[u8],
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Idempotency, &'static str> {
        check_key(value)?;
        let key = String::from_utf8_lossy(value).into_owned();
        let mut h = Sha256::new();
        h.update(method.as_bytes());
        h.update(b" ");
        h.update(path.as_bytes());
        h.update(b"\n");
        h.update(body);
        Ok(Idempotency {
            key,
            fingerprint: hex(&h.finalize()),
        })
    }

    /// The name the stored answer is filed under (a hash of the key).
    pub fn key_hash(&self) -> String {
        hex(&Sha256::digest(format!("seat-booking key\n{}", self.key)))
    }

    /// The request's fingerprint: a hash of method, path and body.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    fn pad(&self) -> [u8; 32] {
        Sha256::digest(format!(
            "seat-booking pad\n{}\n{}",
            self.key, self.fingerprint
        ))
        .into()
    }

    /// Seals a token for storage, or unseals a sealed one (XOR is its own inverse).
    pub fn seal(&self, token: &str) -> String {
        let pad = self.pad();
        let mut out = Vec::with_capacity(token.len() / 2);
        for (i, pair) in token.as_bytes().chunks(2).enumerate() {
            let byte = std::str::from_utf8(pair)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .unwrap_or(0);
            out.push(byte ^ pad[i % pad.len()]);
        }
        hex(&out)
    }
}

/// The token as it goes into a stored answer: sealed with a key, as is without.
pub fn seal(idempotency: Option<&Idempotency>, token: &str) -> String {
    idempotency.map_or_else(|| token.to_owned(), |i| i.seal(token))
}

/// Turns a stored answer back into what the client sees: every
/// `…Token":"<32 hex>"` value is unsealed. Without a key nothing was sealed.
pub fn unseal_body(idempotency: Option<&Idempotency>, body: &str) -> String {
    let Some(idempotency) = idempotency else {
        return body.to_owned();
    };
    const MARK: &str = "Token\":\"";
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find(MARK) {
        let start = at + MARK.len();
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        if rest.len() >= TOKEN_HEX_LEN
            && rest[..TOKEN_HEX_LEN].bytes().all(|b| b.is_ascii_hexdigit())
        {
            out.push_str(&idempotency.seal(&rest[..TOKEN_HEX_LEN]));
            rest = &rest[TOKEN_HEX_LEN..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "3f1c9a2e-7b4d-4e8a-9c61-2d5f8b0e7a34";
    const OTHER: &str = "d2b7e3f0-41a6-4c9b-8e15-7f3a0c6d9b52";

    fn key(k: &str, body: &str) -> Idempotency {
        Idempotency::from_header(k.as_bytes(), "POST", "/p", body.as_bytes()).unwrap()
    }

    #[test]
    fn random_keys_pass() {
        let keys = [
            UUID,
            "3F1C9A2E-7B4D-4E8A-9C61-2D5F8B0E7A34",
            "3f1c9a2e7b4d4e8a9c612d5f8b0e7a34",
            // 16 random bytes in base64url (22) and base64 (24).
            "P1yaLntNToqcYS1fiw56NA",
            "P1y+Lnt/ToqcYS1fiw56NA==",
            // 128 bits in decimal.
            "205946417283760514921356829340125867033",
            // A ULID, a prefixed UUID.
            "01HZX3K8VQ4N7T2M9B6C5D1E0F",
            "hold-3f1c9a2e-7b4d-4e8a-9c61-2d5f8b0e7a34",
        ];
        for k in keys {
            assert_eq!(check_key(k.as_bytes()), Ok(()), "{k}");
        }
        let mut long = UUID.repeat(7);
        long.truncate(MAX_KEY_LEN);
        assert_eq!(check_key(long.as_bytes()), Ok(()));
    }

    #[test]
    fn keys_that_are_surely_not_random_are_refused_with_the_rule() {
        let keys: &[&[u8]] = &[
            b"",
            b"k1",
            b"a b c d e f g h i j k l m n o p q r s t u v w",
            b"\x01bcdefghijklmnopqrstuvw",
            // Counters, timestamps and names.
            b"order-12345",
            b"client-3-purchase-17",
            b"1700000000123",
            b"2026-11-26-10-00-00-000123",
            // Hex or decimal too short for 128 bits.
            b"3f1c9a2e-7b4d-4e8a-9c61-2d5f8b0e",
            b"20594641728376051492135682934012586703",
            // Long, but one or two characters.
            &[b'k'; 255],
            b"abababababababababababababababab",
            b"aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa",
            &[b'a'; 256],
        ];
        for k in keys {
            assert_eq!(
                check_key(k),
                Err(KEY_RULE),
                "{}",
                String::from_utf8_lossy(k)
            );
        }
        let mut long = UUID.repeat(8);
        long.truncate(MAX_KEY_LEN + 1);
        assert_eq!(check_key(long.as_bytes()), Err(KEY_RULE));
        assert!(Idempotency::from_header(b"k1", "POST", "/", b"").is_err());
    }

    /// A random key of the shortest length allowed has fewer than six
    /// different characters too rarely to matter: bounded by the union
    /// over the alphabets of five characters.
    #[test]
    fn a_random_key_almost_never_has_too_few_different_characters() {
        // (alphabet size, symbols): a UUID v4's 30 random hex digits,
        // 39 decimal digits, 22 base64url characters.
        for (alphabet, length) in [(16.0_f64, 30), (10.0, 39), (64.0, 22)] {
            let choose: f64 = (0..5)
                .map(|i| (alphabet - i as f64) / (i + 1) as f64)
                .product();
            let bound = choose * (5.0 / alphabet).powi(length);
            assert!(bound < 1e-9, "alphabet {alphabet}: {bound:e}");
        }
    }

    #[test]
    fn fingerprint_changes_with_the_request() {
        assert_eq!(key(UUID, "{}").fingerprint(), key(UUID, "{}").fingerprint());
        assert_ne!(
            key(UUID, "{}").fingerprint(),
            key(UUID, "{ }").fingerprint()
        );
    }

    #[test]
    fn sealing_hides_the_token_and_round_trips() {
        let token = "00112233445566778899aabbccddeeff";
        let k = key(UUID, "{}");
        let sealed = k.seal(token);
        assert_eq!(sealed.len(), TOKEN_HEX_LEN);
        assert_ne!(sealed, token);
        assert_eq!(k.seal(&sealed), token);
        assert_ne!(key(OTHER, "{}").seal(&sealed), token);
    }

    #[test]
    fn unseal_body_restores_every_token_and_nothing_else() {
        let token = "00112233445566778899aabbccddeeff";
        let k = key(UUID, "{}");
        let stored = format!(
            "{{\"holdId\":\"h\",\"holdToken\":\"{}\",\"seats\":[\"A-1\"]}}",
            k.seal(token)
        );
        assert_eq!(
            unseal_body(Some(&k), &stored),
            format!("{{\"holdId\":\"h\",\"holdToken\":\"{token}\",\"seats\":[\"A-1\"]}}")
        );
        assert_eq!(
            unseal_body(None, "{\"holdToken\":\"x\"}"),
            "{\"holdToken\":\"x\"}"
        );
    }
}
