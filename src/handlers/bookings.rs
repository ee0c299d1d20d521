//! Bookings: book named seats directly (all or nothing), then read or
//! cancel the booking with its secret token.

use serde::Deserialize;
use serde_json::json;

use super::new_booking::NewBooking;
use super::seat_list::seat_list;
use super::{answer_response, event_id, resource_id, respond, seat_refusal, with_store};
use crate::access::admitted_ticket;
use crate::auth::{forbidden, unauthorized};
use crate::http::response::json;
use crate::http::submission::Submission;
use crate::http::{Kind, Problem, Request, Response};
use crate::store::outcomes::{CancelRefusal, Change};
use crate::time::rfc3339;
use crate::token::{self, same_secret};

/// `POST /api/events/{eventId}/bookings` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBooking {
    /// The seats to book, all or nothing.
    pub seats: Vec<String>,
}

/// 404 for a booking that does not exist.
pub fn booking_not_found() -> Problem {
    Problem::new(Kind::BookingNotFound, "there is no such booking")
}

/// Books seats directly.
pub fn create(req: &Request, raw_event: &str, path: &str) -> Response {
    respond(try_create(req, raw_event, path))
}

fn try_create(req: &Request, raw_event: &str, path: &str) -> Result<Response, Problem> {
    let event = event_id(raw_event)?;
    let (submission, input) = Submission::with_json::<CreateBooking>(req, path)?;
    let seats = seat_list(&input.seats)?;
    let access_ticket = admitted_ticket(submission.bearer(), &event);
    let idem = submission.idempotency;
    let booking = NewBooking::generate();
    let args = booking.answer(idem.as_ref(), &event, None);
    let reply = with_store(|store| {
        store.book_seats(
            &event,
            &args,
            &booking.id,
            &booking.token_hash(),
            &seats,
            &access_ticket,
        )
    })?;
    Ok(answer_response(reply, &args, |refusal| {
        seat_refusal(&event, refusal)
    }))
}

/// `GET …/bookings/{bookingId}` with `Authorization: Bearer <bookingToken>`.
pub fn get(req: &Request, raw_event: &str, raw_booking: &str) -> Response {
    respond(try_get(req, raw_event, raw_booking))
}

fn try_get(req: &Request, raw_event: &str, raw_booking: &str) -> Result<Response, Problem> {
    let event = event_id(raw_event)?;
    let given = req.bearer().ok_or_else(|| unauthorized("booking token"))?;
    let booking_id = resource_id(raw_booking, booking_not_found)?;
    let record =
        with_store(|store| store.booking(&event, &booking_id))?.ok_or_else(booking_not_found)?;
    if !same_secret(&token::hash(given), &record.token_hash) {
        return Err(forbidden());
    }
    let seats: Vec<&str> = record.seats.split(',').collect();
    let hold_id = (!record.hold_id.is_empty()).then_some(record.hold_id.as_str());
    let mut answer = json(
        200,
        &json!({
            "bookingId": booking_id,
            "eventId": event.as_str(),
            "seats": seats,
            "status": record.status,
            "createdAt": rfc3339(record.created_at_ms),
            "holdId": hold_id,
        }),
    );
    // One buyer's booking, read with its secret: never kept by a cache.
    answer.set_header("cache-control", "no-store");
    Ok(answer)
}

/// `DELETE …/bookings/{bookingId}` with the booking token: 204, seats free again.
pub fn cancel(req: &Request, raw_event: &str, raw_booking: &str) -> Response {
    respond(try_cancel(req, raw_event, raw_booking))
}

fn try_cancel(req: &Request, raw_event: &str, raw_booking: &str) -> Result<Response, Problem> {
    let event = event_id(raw_event)?;
    let given = req.bearer().ok_or_else(|| unauthorized("booking token"))?;
    let booking_id = resource_id(raw_booking, booking_not_found)?;
    let change =
        with_store(|store| store.cancel_booking(&event, &booking_id, &token::hash(given)))?;
    match change {
        Change::Done => Ok(Response::new(204, Vec::new())),
        Change::Refused(CancelRefusal::NotFound) => Err(booking_not_found()),
        Change::Refused(CancelRefusal::Forbidden) => Err(forbidden()),
    }
}
