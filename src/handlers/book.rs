//! `POST /api/book/{seatId}`: the seed's endpoint, kept. Books one seat of
//! the default event in one call; contended callers get 409 at once, never
//! a wait. The 201 now also carries a booking token, to read or cancel it.

use super::new_booking::NewBooking;
use super::{answer_response, respond, unknown_seats, with_store};
use crate::http::submission::Submission;
use crate::http::{Kind, Problem, Request, Response};
use crate::idempotency::seal;
use crate::ids::{EventId, SeatId};
use crate::store::keys::DEFAULT_EVENT;
use crate::store::outcomes::SeatCommitRefusal;
use crate::store::seat_lock::SeatBooking;
use crate::store::AnswerArgs;

/// The 201 body.
#[derive(Debug)]
pub struct Booked<'a> {
    /// The event the seat belongs to.
    pub event_id: &'a str,
    /// The seat booked.
    pub seat_id: &'a str,
    /// Always `booked`, as the seed answered.
    pub status: &'static str,
    /// The new booking's id.
    pub booking_id: &'a str,
    /// The secret that reads or cancels the booking.
    pub booking_token: &'a str,
}

impl Booked<'_> {
    /// The body as JSON, written directly: every value is an id or token
    /// checked to be letters, digits, `-` and `_` (or hex), which JSON
    /// takes as they are, so nothing needs escaping. `serde_json` cost this,
    /// the hottest answer there is, 7,000 instructions; this costs one
    /// allocation.
    pub fn to_json(&self) -> String {
        [
            r#"{"eventId":""#,
            self.event_id,
            r#"","seatId":""#,
            self.seat_id,
            r#"","status":""#,
            self.status,
            r#"","bookingId":""#,
            self.booking_id,
            r#"","bookingToken":""#,
            self.booking_token,
            r#""}"#,
        ]
        .concat()
    }
}

/// Books the seat named by the raw (percent-encoded) path segment.
pub fn post(req: &Request, raw_seat_id: &str, path: &str) -> Response {
    respond(book(req, raw_seat_id, path))
}

fn book(req: &Request, raw_seat_id: &str, path: &str) -> Result<Response, Problem> {
    let seat = SeatId::from_path(raw_seat_id).map_err(|why| invalid_seat_id(&why.to_string()))?;
    let idem = Submission::without_body_or_token(req, path)?.idempotency;
    let event = EventId::new(DEFAULT_EVENT).expect("the default event id is valid");
    let booking = NewBooking::generate();
    // The answer is made only once the seat's lock is ours (see book_seat).
    let commit = || {
        let booked = Booked {
            event_id: DEFAULT_EVENT,
            seat_id: seat.as_str(),
            status: "booked",
            booking_id: &booking.id,
            booking_token: &seal(idem.as_ref(), &booking.token),
        };
        let args = AnswerArgs {
            idempotency: idem.as_ref(),
            status: 201,
            location: ["/api/events/", DEFAULT_EVENT, "/bookings/", &booking.id].concat(),
            body: booked.to_json(),
        };
        (args, booking.token_hash())
    };
    let outcome =
        with_store(|store| store.book_seat(&event, &seat, &booking.id, idem.as_ref(), commit))?;
    Ok(match outcome {
        SeatBooking::Answer(reply, args) => {
            answer_response(reply, &args, |refusal| match refusal {
                SeatCommitRefusal::UnknownSeat(seats) => unknown_seats(seats),
                // The store answers a lost lock as `SeatBooking::Locked`.
                SeatCommitRefusal::LostLock => seat_locked(&seat),
            })
        }
        SeatBooking::AlreadyBooked => {
            Problem::new(Kind::SeatBooked, format!("seat {seat} is already booked"))
                .with("seatId", seat.as_str())
                .into_response()
        }
        SeatBooking::Locked => seat_locked(&seat).into_response(),
    })
}

/// 409 for a seat another request holds or is booking right now.
fn seat_locked(seat: &SeatId) -> Problem {
    Problem::new(
        Kind::SeatLocked,
        format!("seat {seat} is being booked or held by another buyer"),
    )
    .with("seatId", seat.as_str())
}

/// 400 for a seat id that may not reach Redis.
pub fn invalid_seat_id(why: &str) -> Problem {
    Problem::new(
        Kind::InvalidSeatId,
        format!("the seat id is not valid: {why}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use spin_sdk::http::Method;

    #[test]
    fn the_201_body_is_the_json_of_its_fields_in_order() {
        let booked = Booked {
            event_id: DEFAULT_EVENT,
            seat_id: "A-1_b",
            status: "booked",
            booking_id: "0b7f4c1e-2d6a-4a8e-9c3b-5f1d2e3a4b5c",
            booking_token: "00ff",
        };
        let json = booked.to_json();
        assert_eq!(
            json,
            r#"{"eventId":"default","seatId":"A-1_b","status":"booked","bookingId":"0b7f4c1e-2d6a-4a8e-9c3b-5f1d2e3a4b5c","bookingToken":"00ff"}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed["seatId"], "A-1_b");
        assert_eq!(parsed["bookingToken"], "00ff");
    }

    /// Every seat id the validator lets through is a JSON string as it is.
    #[test]
    fn valid_seat_ids_need_no_json_escaping() {
        for byte in 0u8..=127 {
            let id = format!("A{}", byte as char);
            if SeatId::new(&id).is_ok() {
                assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{id}\""));
            }
        }
    }

    #[test]
    fn bad_seat_id_is_400_before_any_redis_work() {
        // `post` returns before `Store::open` for invalid ids; natively the
        // Redis import would abort the test if it were reached.
        let req = Request::new(Method::Post, "/api/book/..%2Fx");
        let res = post(&req, "..%2Fx", "/api/book/..%2Fx");
        assert_eq!(res.status(), 400);
        let body: serde_json::Value = serde_json::from_slice(res.body()).unwrap();
        assert_eq!(body["code"], "invalid_seat_id");
    }
}
