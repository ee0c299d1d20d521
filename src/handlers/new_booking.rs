//! A booking about to be made, shared by the three ways to book: the seed's
//! one-seat endpoint, direct booking and confirming a hold. It lives in its
//! own module so that those handlers import it rather than each other.

use serde::Serialize;

use crate::idempotency::{seal, Idempotency};
use crate::ids::EventId;
use crate::store::{AnswerArgs, SEATS_PLACEHOLDER};
use crate::token;

/// A booking about to be made, by direct booking or by confirming a hold:
/// its id, its secret token, and the 201 answer the store keeps for it.
pub struct NewBooking {
    /// The new booking's id.
    pub id: String,
    /// Its secret token, shown once in the 201.
    pub token: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BookedView<'a> {
    booking_id: &'a str,
    booking_token: &'a str,
    event_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hold_id: Option<&'a str>,
    seats: &'a str,
    status: &'static str,
}

impl NewBooking {
    /// A fresh id (a version-4 UUID) and token, from one random draw.
    pub fn generate() -> NewBooking {
        let bytes = token::random_bytes::<32>();
        let (id, secret) = bytes.split_at(16);
        let id: [u8; 16] = id.try_into().expect("16 bytes");
        NewBooking {
            id: uuid::Builder::from_random_bytes(id).into_uuid().to_string(),
            token: token::hex(secret),
        }
    }

    /// The hash the store keeps in place of the token.
    pub fn token_hash(&self) -> String {
        token::hash(&self.token)
    }

    /// The 201 answer, with the seats left for the script to fill in.
    pub fn answer<'a>(
        &self,
        idempotency: Option<&'a Idempotency>,
        event: &EventId,
        hold_id: Option<&str>,
    ) -> AnswerArgs<'a> {
        let view = BookedView {
            booking_id: &self.id,
            booking_token: &seal(idempotency, &self.token),
            event_id: event.as_str(),
            hold_id,
            seats: SEATS_PLACEHOLDER,
            status: "booked",
        };
        AnswerArgs {
            idempotency,
            status: 201,
            location: format!("/api/events/{event}/bookings/{}", self.id),
            body: serde_json::to_string(&view).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_leaves_the_seats_to_the_script() {
        let booking = NewBooking::generate();
        let event = EventId::new("gala").unwrap();
        let args = booking.answer(None, &event, Some("h1"));
        assert_eq!(args.status, 201);
        assert_eq!(
            args.location,
            format!("/api/events/gala/bookings/{}", booking.id)
        );
        let body: serde_json::Value = serde_json::from_str(&args.body).unwrap();
        assert_eq!(body["bookingToken"], booking.token.as_str());
        assert_eq!(body["holdId"], "h1");
        assert!(args.body.contains("\"seats\":\"%SEATS%\""));
        assert_eq!(body["status"], "booked");
    }

    #[test]
    fn a_new_booking_has_a_version_4_id_and_a_128_bit_token_from_one_draw() {
        let a = NewBooking::generate();
        let b = NewBooking::generate();
        let id = uuid::Uuid::parse_str(&a.id).unwrap();
        assert_eq!(id.get_version_num(), 4);
        assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
        assert_eq!(a.id, id.to_string(), "lowercase, hyphenated");
        assert_eq!(a.token.len(), token::TOKEN_HEX_LEN);
        assert!(a
            .token
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        assert_ne!(a.id, b.id);
        assert_ne!(a.token, b.token);
        assert!(
            !a.id.replace('-', "").contains(&a.token),
            "the id and the token are different bytes"
        );
    }
}
