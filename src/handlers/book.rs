//! `POST /api/book/{seatId}`: the seed's endpoint, kept. Books one seat of the
//! default event in one call; contended callers get 409 at once, never a wait.

use serde::Serialize;
use spin_sdk::http::Response;

use crate::response::{self, Problem};
use crate::seat_id::SeatId;
use crate::store::booking::BookOutcome;
use crate::store::keys::DEFAULT_EVENT;
use crate::store::Store;

/// The 201 body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Booked<'a> {
    /// The event the seat belongs to.
    pub event_id: &'a str,
    /// The seat booked.
    pub seat_id: &'a str,
    /// Always `booked`, as the seed answered.
    pub status: &'static str,
    /// The new booking's id.
    pub booking_id: &'a str,
}

/// Books the seat named by the raw (percent-encoded) path remainder.
pub fn post(raw_seat_id: &str) -> Response {
    let seat = match SeatId::parse(raw_seat_id) {
        Ok(seat) => seat,
        Err(why) => return invalid_seat_id(&why.to_string()).into_response(),
    };
    let outcome = Store::open().and_then(|store| store.book_seat(DEFAULT_EVENT, &seat));
    match outcome {
        Ok(outcome) => outcome_response(DEFAULT_EVENT, &seat, &outcome),
        Err(e) => e.into_problem().into_response(),
    }
}

/// The answer for each booking outcome.
pub fn outcome_response(event: &str, seat: &SeatId, outcome: &BookOutcome) -> Response {
    match outcome {
        BookOutcome::Booked { booking_id } => {
            let mut res = response::json(
                201,
                &Booked {
                    event_id: event,
                    seat_id: seat.as_str(),
                    status: "booked",
                    booking_id,
                },
            );
            res.set_header(
                "location",
                format!("/api/events/{event}/bookings/{booking_id}"),
            );
            res
        }
        BookOutcome::AlreadyBooked => Problem::new(
            409,
            "seat_booked",
            "Seat already booked",
            format!("seat {seat} is already booked"),
        )
        .with("seatId", seat.as_str())
        .into_response(),
        BookOutcome::Locked => Problem::new(
            409,
            "seat_locked",
            "Seat is being booked",
            format!("seat {seat} is being booked or held by another buyer"),
        )
        .with("seatId", seat.as_str())
        .into_response(),
    }
}

/// 400 for a seat id that may not reach Redis.
fn invalid_seat_id(why: &str) -> Problem {
    Problem::new(400, "invalid_seat_id", "Invalid seat id", why.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(res: &Response) -> serde_json::Value {
        serde_json::from_slice(res.body()).unwrap()
    }

    #[test]
    fn booked_is_201_with_ids_and_location() {
        let seat = SeatId::parse("A-1").unwrap();
        let res = outcome_response(
            "default",
            &seat,
            &BookOutcome::Booked {
                booking_id: "b-1".into(),
            },
        );
        assert_eq!(*res.status(), 201);
        let b = body(&res);
        assert_eq!(b["seatId"], "A-1");
        assert_eq!(b["bookingId"], "b-1");
        assert_eq!(b["status"], "booked");
        assert_eq!(
            res.header("location").unwrap().as_str(),
            Some("/api/events/default/bookings/b-1")
        );
    }

    #[test]
    fn contention_is_409_with_distinct_codes() {
        let seat = SeatId::parse("7").unwrap();
        for (outcome, code) in [
            (BookOutcome::AlreadyBooked, "seat_booked"),
            (BookOutcome::Locked, "seat_locked"),
        ] {
            let res = outcome_response("default", &seat, &outcome);
            assert_eq!(*res.status(), 409);
            assert_eq!(
                res.header("content-type").unwrap().as_str(),
                Some("application/problem+json")
            );
            assert_eq!(body(&res)["code"], code);
            assert_eq!(body(&res)["seatId"], "7");
        }
    }

    #[test]
    fn bad_seat_id_is_400_before_any_redis_work() {
        // `post` returns before `Store::open` for invalid ids; natively the
        // Redis import would abort the test if it were reached.
        let res = post("..%2Fx");
        assert_eq!(*res.status(), 400);
        assert_eq!(body(&res)["code"], "invalid_seat_id");
    }
}
