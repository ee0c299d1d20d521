//! `Idempotency-Key` support: a retried POST replays the first answer byte
//! for byte and changes nothing; the same key with another request is 422.
//!
//! The store keeps the first success answer for 24 hours, written by the
//! same script that made the change (so a crash can never leave a change
//! without its answer). Answers carry secret tokens, and only token hashes
//! may rest in Redis, so a token inside a stored answer is *sealed*: XORed
//! with a pad derived from the Idempotency-Key, which only the client
//! knows. Redis holds a hash of the key, never the key itself. Use random
//! keys (a UUID v4, as the IETF draft recommends).

use sha2::{Digest, Sha256};

use crate::token::{hex, TOKEN_HEX_LEN};

/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// A validated `Idempotency-Key` with the fingerprint of its request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    key: String,
    fingerprint: String,
}

impl Idempotency {
    /// Reads the header's value: `Err` for a malformed one (empty, over 255
    /// characters, or not visible ASCII). A request without the header has
    /// no `Idempotency` (`http::submission`).
    pub fn from_header(
        value: &[u8],
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Idempotency, &'static str> {
        let valid = !value.is_empty()
            && value.len() <= MAX_KEY_LEN
            && value.iter().all(|b| b.is_ascii_graphic());
        if !valid {
            return Err("the Idempotency-Key must be 1 to 255 visible ASCII characters");
        }
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

    fn key(k: &str, body: &str) -> Idempotency {
        Idempotency::from_header(k.as_bytes(), "POST", "/p", body.as_bytes()).unwrap()
    }

    #[test]
    fn header_rules() {
        for bad in [&b""[..], b"a b", b"\x01", &[b'k'; 256]] {
            assert!(Idempotency::from_header(bad, "POST", "/", b"").is_err());
        }
        assert!(Idempotency::from_header(&[b'k'; 255], "POST", "/", b"").is_ok());
    }

    #[test]
    fn fingerprint_changes_with_the_request() {
        assert_eq!(key("k", "{}").fingerprint(), key("k", "{}").fingerprint());
        assert_ne!(key("k", "{}").fingerprint(), key("k", "{ }").fingerprint());
    }

    #[test]
    fn sealing_hides_the_token_and_round_trips() {
        let token = "00112233445566778899aabbccddeeff";
        let k = key("3f1c-key", "{}");
        let sealed = k.seal(token);
        assert_eq!(sealed.len(), TOKEN_HEX_LEN);
        assert_ne!(sealed, token);
        assert_eq!(k.seal(&sealed), token);
        assert_ne!(key("other-key", "{}").seal(&sealed), token);
    }

    #[test]
    fn unseal_body_restores_every_token_and_nothing_else() {
        let token = "00112233445566778899aabbccddeeff";
        let k = key("key", "{}");
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
