//! Waiting-room access tokens: proof that a buyer's turn in an event's
//! queue has come, checked by the component alone, with no Redis round trip.
//!
//! A token is `v1.<payload>.<mac>`, both parts base64url without padding:
//! the payload is `<eventId>\n<ticketId>\n<expiresAtMs>`, the MAC is
//! HMAC-SHA-256 over `v1.<payload>` keyed with the secret Spin variable
//! `queue_secret`. Only a holder of the secret can make one, so a valid
//! token is admission, and its expiry is inside it. The version prefix lets
//! a later format live next to this one.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use spin_sdk::variables;
use subtle::ConstantTimeEq;

use crate::ids::EventId;
use crate::time::now_millis;

/// The Spin variable holding the signing secret. Empty, unset or shorter
/// than [`MIN_SECRET_BYTES`] disables waiting rooms: no token is ever
/// issued unsigned or signed with a guessable key.
pub const QUEUE_SECRET_VARIABLE: &str = "queue_secret";

/// The shortest secret accepted: 256 bits, the size of the HMAC's hash.
pub const MIN_SECRET_BYTES: usize = 32;

/// The longest token looked at; anything longer is refused unread.
pub const MAX_TOKEN_LEN: usize = 512;

const VERSION: &str = "v1";

type HmacSha256 = Hmac<Sha256>;

/// The signing key, read from `queue_secret` only when a request needs it.
pub struct QueueSecret(Vec<u8>);

impl QueueSecret {
    /// The configured secret, or `None` when it is missing or too short
    /// (waiting rooms are then disabled).
    pub fn from_variables() -> Option<QueueSecret> {
        let value = variables::get(QUEUE_SECRET_VARIABLE).ok()?;
        QueueSecret::new(value.as_bytes())
    }

    /// A secret of at least [`MIN_SECRET_BYTES`] bytes, else `None`.
    pub fn new(bytes: &[u8]) -> Option<QueueSecret> {
        (bytes.len() >= MIN_SECRET_BYTES).then(|| QueueSecret(bytes.to_vec()))
    }

    fn mac(&self, signed: &str) -> HmacSha256 {
        // HMAC takes a key of any length; this cannot fail.
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC accepts any key length");
        mac.update(signed.as_bytes());
        mac
    }

    /// A token admitting `ticket` to `event` until `expires_at_ms`.
    pub fn sign(&self, event: &EventId, ticket: &str, expires_at_ms: u64) -> String {
        let payload = URL_SAFE_NO_PAD.encode(format!("{event}\n{ticket}\n{expires_at_ms}"));
        let signed = format!("{VERSION}.{payload}");
        let tag = URL_SAFE_NO_PAD.encode(self.mac(&signed).finalize().into_bytes());
        format!("{signed}.{tag}")
    }

    /// The ticket id a token admits to `event` at `now_ms`, or `None` for a
    /// token that is malformed, forged, tampered with, for another event,
    /// or expired. The reasons are not told apart: the caller answers them
    /// all alike.
    pub fn verify(&self, token: &str, event: &EventId, now_ms: u64) -> Option<String> {
        if token.len() > MAX_TOKEN_LEN {
            return None;
        }
        let (signed, tag) = token.rsplit_once('.')?;
        let (version, payload) = signed.split_once('.')?;
        if version != VERSION {
            return None;
        }
        let given = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let expected = self.mac(signed).finalize().into_bytes();
        if !bool::from(given.as_slice().ct_eq(expected.as_slice())) {
            return None;
        }
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        let mut parts = payload.split('\n');
        let (for_event, ticket, expires) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || for_event != event.as_str() {
            return None;
        }
        let expires_at_ms: u64 = expires.parse().ok()?;
        (now_ms < expires_at_ms).then(|| ticket.to_owned())
    }
}

/// The waiting-room ticket a request's `Authorization: Bearer` access token
/// (`bearer`) admits to `event` right now, or an empty string when it sent none or
/// one that does not verify (the hold and booking scripts then refuse it on
/// an event with a waiting room, and ignore it on any other). The secret
/// is read only when a token came, so requests without one pay nothing.
pub(crate) fn admitted_ticket(bearer: Option<&str>, event: &EventId) -> String {
    let Some(token) = bearer else {
        return String::new();
    };
    QueueSecret::from_variables()
        .and_then(|secret| secret.verify(token, event, now_millis()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICKET: &str = "6f1c1b9e-7d2a-4c1e-9f55-0a8d2f7b3c41";

    fn secret() -> QueueSecret {
        QueueSecret::new(b"0123456789abcdef0123456789abcdef").unwrap()
    }

    fn gala() -> EventId {
        EventId::new("gala").unwrap()
    }

    #[test]
    fn short_or_empty_secrets_are_refused() {
        assert!(QueueSecret::new(b"").is_none());
        assert!(QueueSecret::new(&[b'k'; 31]).is_none());
        assert!(QueueSecret::new(&[b'k'; 32]).is_some());
    }

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let token = secret().sign(&gala(), TICKET, 2_000);
        assert!(token.starts_with("v1."));
        assert!(token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
        assert_eq!(
            secret().verify(&token, &gala(), 1_999).as_deref(),
            Some(TICKET)
        );
        assert_eq!(secret().verify(&token, &gala(), 2_000), None);
    }

    #[test]
    fn other_events_secrets_and_versions_are_refused() {
        let token = secret().sign(&gala(), TICKET, 2_000);
        let other = EventId::new("gala2").unwrap();
        assert_eq!(secret().verify(&token, &other, 1), None);
        let stranger = QueueSecret::new(b"fedcba9876543210fedcba9876543210").unwrap();
        assert_eq!(stranger.verify(&token, &gala(), 1), None);
        assert_eq!(
            secret().verify(&token.replacen("v1.", "v2.", 1), &gala(), 1),
            None
        );
    }

    #[test]
    fn any_changed_byte_breaks_the_token() {
        let token = secret().sign(&gala(), TICKET, 2_000);
        for i in 0..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).unwrap();
            assert_eq!(secret().verify(&tampered, &gala(), 1), None, "byte {i}");
        }
    }

    #[test]
    fn a_payload_signed_for_a_later_expiry_cannot_be_spliced_in() {
        let early = secret().sign(&gala(), TICKET, 2_000);
        let late = secret().sign(&gala(), TICKET, 9_000);
        let (early_signed, _) = early.rsplit_once('.').unwrap();
        let (_, late_tag) = late.rsplit_once('.').unwrap();
        let spliced = format!("{early_signed}.{late_tag}");
        assert_eq!(secret().verify(&spliced, &gala(), 1), None);
    }

    #[test]
    fn malformed_tokens_are_refused_without_panicking() {
        let long = format!("v1.{}", "A".repeat(MAX_TOKEN_LEN));
        for bad in [
            "",
            "v1",
            "v1.",
            "v1..",
            "v1.abc",
            "v1.abc.def",
            "v1.%%%.%%%",
            "x.y.z.w",
            long.as_str(),
            "v1.Z2FsYQ.AAAA",
        ] {
            assert_eq!(secret().verify(bad, &gala(), 1), None, "{bad:?}");
        }
        // A correctly signed payload of the wrong shape.
        let signed = format!("v1.{}", URL_SAFE_NO_PAD.encode("gala\nonly-two"));
        let tag = URL_SAFE_NO_PAD.encode(secret().mac(&signed).finalize().into_bytes());
        assert_eq!(
            secret().verify(&format!("{signed}.{tag}"), &gala(), 1),
            None
        );
    }
}
