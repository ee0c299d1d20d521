//! Holds, the seats.io "hold token" idea: hold named seats or the best N
//! available for a TTL, all or nothing; confirm with the token to book;
//! release with the token to free them; expiry frees them by itself.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::new_booking::NewBooking;
use super::seat_list::seat_list;
use super::{
    answer_response, event_id, resource_id, respond, seat_refusal, with_store,
    MAX_SEATS_PER_REQUEST,
};
use crate::access::admitted_ticket;
use crate::auth::{forbidden, unauthorized};
use crate::http::body::invalid_body;
use crate::http::submission::Submission;
use crate::http::{Kind, Problem, Request, Response};
use crate::idempotency::seal;
use crate::ids::EventId;
use crate::store::holds::{HoldRequest, NewHold};
use crate::store::outcomes::{Change, HoldRefusal, HoldStateRefusal};
use crate::store::{AnswerArgs, SEATS_PLACEHOLDER};
use crate::time::{now_millis, rfc3339};
use crate::token;

/// Hold TTL when the request names none.
pub const DEFAULT_TTL_SECONDS: u64 = 600;
/// The longest hold allowed.
pub const MAX_TTL_SECONDS: u64 = 3600;

/// `POST /api/events/{eventId}/holds` body: exactly one of `seats` and
/// `bestAvailable`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateHold {
    /// Seats to hold by id.
    pub seats: Option<Vec<String>>,
    /// Or: how many of the best available seats.
    pub best_available: Option<BestAvailable>,
    /// How long to hold, 1 to 3600 seconds (default 600).
    #[serde(default, deserialize_with = "crate::http::body::optional_whole_number")]
    pub ttl_seconds: Option<u32>,
}

/// The best-available part of a hold request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BestAvailable {
    /// How many seats, 1 to 100.
    #[serde(deserialize_with = "crate::http::body::whole_number")]
    pub count: u32,
    /// Whether they must sit together in one row (default true).
    pub adjacent: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HoldView<'a> {
    hold_id: &'a str,
    hold_token: &'a str,
    event_id: &'a str,
    seats: &'a str,
    expires_at: String,
    ttl_seconds: u64,
}

fn hold_request(input: &CreateHold) -> Result<HoldRequest, Problem> {
    match (&input.seats, &input.best_available) {
        (Some(seats), None) => Ok(HoldRequest::Seats(seat_list(seats)?)),
        (None, Some(best)) => {
            if best.count == 0 || best.count as usize > MAX_SEATS_PER_REQUEST {
                return Err(invalid_body("bestAvailable.count must be 1 to 100"));
            }
            Ok(HoldRequest::BestAvailable {
                count: best.count,
                adjacent: best.adjacent.unwrap_or(true),
            })
        }
        _ => Err(invalid_body("give exactly one of seats and bestAvailable")),
    }
}

/// Creates a hold.
pub fn create(req: &Request, raw_event: &str, path: &str) -> Response {
    respond(try_create(req, raw_event, path))
}

fn try_create(req: &Request, raw_event: &str, path: &str) -> Result<Response, Problem> {
    let event = event_id(raw_event)?;
    let (submission, input) = Submission::with_json::<CreateHold>(req, path)?;
    let request = hold_request(&input)?;
    let ttl_seconds = input.ttl_seconds.map_or(DEFAULT_TTL_SECONDS, u64::from);
    if !(1..=MAX_TTL_SECONDS).contains(&ttl_seconds) {
        return Err(invalid_body("ttlSeconds must be 1 to 3600"));
    }
    let access_ticket = admitted_ticket(submission.bearer(), &event);
    let idem = submission.idempotency;
    let hold_id = Uuid::new_v4().to_string();
    let hold_token = token::generate();
    let expires_at_ms = now_millis() + ttl_seconds * 1000;
    let view = HoldView {
        hold_id: &hold_id,
        hold_token: &seal(idem.as_ref(), &hold_token),
        event_id: event.as_str(),
        seats: SEATS_PLACEHOLDER,
        expires_at: rfc3339(expires_at_ms),
        ttl_seconds,
    };
    let args = AnswerArgs {
        idempotency: idem.as_ref(),
        status: 201,
        // No Location: a hold is not a resource to GET; its 201 body says it all.
        location: String::new(),
        body: serde_json::to_string(&view).unwrap_or_default(),
    };
    let hold = NewHold {
        hold_id: &hold_id,
        token_hash: &token::hash(&hold_token),
        ttl_ms: ttl_seconds * 1000,
        expires_at_ms,
        access_ticket: &access_ticket,
    };
    let reply = with_store(|store| store.hold(&event, &args, &hold, &request))?;
    Ok(answer_response(reply, &args, |refusal| match refusal {
        HoldRefusal::SoldOut => Problem::new(
            Kind::SeatsUnavailable,
            "no block of seats of that size is free",
        ),
        HoldRefusal::Seats(refusal) => seat_refusal(&event, refusal),
    }))
}

/// 404 for a hold that does not exist (or is over a day past its expiry).
pub fn hold_not_found() -> Problem {
    Problem::new(Kind::HoldNotFound, "there is no such hold")
}

/// The refusals confirm and release share.
fn hold_refusal(event: &EventId, refusal: HoldStateRefusal) -> Problem {
    match refusal {
        HoldStateRefusal::NoEvent => super::event_not_found(event),
        HoldStateRefusal::NotFound => hold_not_found(),
        HoldStateRefusal::Forbidden => forbidden(),
        HoldStateRefusal::Expired => Problem::new(
            Kind::HoldExpired,
            "the hold expired and its seats were freed",
        ),
        HoldStateRefusal::Confirmed => Problem::new(
            Kind::HoldConfirmed,
            "the hold was already turned into a booking",
        ),
        HoldStateRefusal::Released => Problem::new(Kind::HoldReleased, "the hold was released"),
    }
}

/// `POST …/holds/{holdId}/confirm` with `Authorization: Bearer <holdToken>`.
pub fn confirm(req: &Request, raw_event: &str, raw_hold: &str, path: &str) -> Response {
    respond(try_confirm(req, raw_event, raw_hold, path))
}

fn try_confirm(
    req: &Request,
    raw_event: &str,
    raw_hold: &str,
    path: &str,
) -> Result<Response, Problem> {
    let event = event_id(raw_event)?;
    let hold_id = resource_id(raw_hold, hold_not_found)?;
    // The hold token first: without it, 401 whatever else the request
    // gets wrong (an Idempotency-Key included).
    let hold_token = req.bearer().ok_or_else(|| unauthorized("hold token"))?;
    let idem = Submission::without_body(req, path)?.idempotency;
    let booking = NewBooking::generate();
    let args = booking.answer(idem.as_ref(), &event, Some(&hold_id));
    let reply = with_store(|store| {
        store.confirm_hold(
            &event,
            &args,
            &hold_id,
            &token::hash(hold_token),
            &booking.id,
            &booking.token_hash(),
        )
    })?;
    Ok(answer_response(reply, &args, |refusal| {
        hold_refusal(&event, refusal)
    }))
}

/// `DELETE …/holds/{holdId}` with `Authorization: Bearer <holdToken>`: 204.
pub fn release(req: &Request, raw_event: &str, raw_hold: &str) -> Response {
    respond(try_release(req, raw_event, raw_hold))
}

fn try_release(req: &Request, raw_event: &str, raw_hold: &str) -> Result<Response, Problem> {
    let event = event_id(raw_event)?;
    let hold_token = req.bearer().ok_or_else(|| unauthorized("hold token"))?;
    let hold_id = resource_id(raw_hold, hold_not_found)?;
    let change =
        with_store(|store| store.release_hold(&event, &hold_id, &token::hash(hold_token)))?;
    match change {
        Change::Done => Ok(Response::new(204, Vec::new())),
        Change::Refused(refusal) => Err(hold_refusal(&event, refusal)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn hold_requests_take_exactly_one_kind() {
        let both = CreateHold {
            seats: Some(strings(&["A-1"])),
            best_available: Some(BestAvailable {
                count: 2,
                adjacent: None,
            }),
            ttl_seconds: None,
        };
        assert!(hold_request(&both).is_err());
        let neither = CreateHold {
            seats: None,
            best_available: None,
            ttl_seconds: None,
        };
        assert!(hold_request(&neither).is_err());
        let best = CreateHold {
            seats: None,
            best_available: Some(BestAvailable {
                count: 4,
                adjacent: None,
            }),
            ttl_seconds: None,
        };
        assert_eq!(
            hold_request(&best).unwrap(),
            HoldRequest::BestAvailable {
                count: 4,
                adjacent: true
            }
        );
    }
}
