//! A booking about to be made, shared by the three ways to book: the seed's
//! one-seat endpoint, direct booking and confirming a hold. It lives in its
//! own module so that those handlers import it rather than each other.

use serde::Serialize;
use uuid::Uuid;

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
    /// A fresh id and token.
    pub fn generate() -> NewBooking {
        NewBooking {
            id: Uuid::new_v4().to_string(),
            token: token::generate(),
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
}
