//! One module per resource; each handler is a plain function from request
//! data to a response. The helpers here are the steps every handler shares;
//! what only some resource handlers share has a module of its own
//! (`new_booking`, `seat_list`), so no handler module imports another.

pub(crate) mod book;
pub(crate) mod bookings;
pub(crate) mod conditional;
pub(crate) mod event_list;
pub(crate) mod events;
pub(crate) mod health;
pub(crate) mod holds;
pub(crate) mod new_booking;
pub(crate) mod openapi;
pub(crate) mod page;
pub(crate) mod queue;
pub(crate) mod seat_list;
pub(crate) mod version;

use spin_sdk::http::Method;

use crate::auth::bearer;
use crate::body;
use crate::http_response::Response;
use crate::idempotency::{self, Idempotency};
use crate::ids::{parse_uuid, EventId, InvalidId};
use crate::request::Request;
use crate::response::{self, Problem};
use crate::store::outcomes::{Answer, SeatRefusal};
use crate::store::{AnswerArgs, Store, StoreError};

/// The most seats one hold or booking may name or ask for.
pub const MAX_SEATS_PER_REQUEST: usize = 100;

/// Parses the `{eventId}` path segment.
pub fn event_id(raw: &str) -> Result<EventId, Problem> {
    EventId::from_path(raw).map_err(invalid_event_id)
}

/// 400 for an event id that may not reach Redis.
pub fn invalid_event_id(why: InvalidId) -> Problem {
    Problem::new(
        400,
        "invalid_event_id",
        "Invalid event id",
        format!("the event id is not valid: {why}"),
    )
}

/// Parses a `{holdId}` or `{bookingId}` segment; anything but a canonical
/// UUID cannot name a resource, so it is a 404 like any unknown id.
pub fn resource_id(raw: &str, not_found: fn() -> Problem) -> Result<String, Problem> {
    parse_uuid(raw).ok_or_else(not_found)
}

/// The method's name as `router::ROUTES` and request fingerprints spell it
/// (as spin-sdk's `Display` does), without allocating: every request needs
/// it. An extension method keeps its own spelling and matches no route.
pub fn method_name(method: &Method) -> &str {
    match method {
        Method::Get => "GET",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Delete => "DELETE",
        Method::Patch => "PATCH",
        Method::Head => "HEAD",
        Method::Options => "OPTIONS",
        Method::Connect => "CONNECT",
        Method::Trace => "TRACE",
        Method::Other(name) => name,
    }
}

/// Reads the request's `Idempotency-Key`, fingerprinting the request: its
/// method, path, bearer token (so a replay needs the same credentials) and body.
/// Without the header nothing else is read (the body of an endpoint that
/// takes none stays unread).
pub fn idempotency(req: &Request, path: &str) -> Result<Option<Idempotency>, Problem> {
    let Some(header) = req.header_bytes("idempotency-key") else {
        return Ok(None);
    };
    let target = match bearer(req) {
        Some(token) => format!("{path} {}", crate::token::hash(&token)),
        None => path.to_owned(),
    };
    let body = body::bytes(req)?;
    Idempotency::from_header(&header, method_name(req.method()), &target, body)
        .map(Some)
        .map_err(|why| {
            Problem::new(
                400,
                "invalid_idempotency_key",
                "Invalid Idempotency-Key",
                why.to_owned(),
            )
        })
}

/// Opens the store and runs `op`; any store failure becomes its problem answer.
pub fn with_store<T>(op: impl FnOnce(&Store) -> Result<T, StoreError>) -> Result<T, Problem> {
    Store::open()
        .and_then(|store| op(&store))
        .map_err(StoreError::into_problem)
}

/// The response for a state-changing script's reply: the stored answer
/// (tokens unsealed, replays marked), 422 for a reused key, or the
/// handler's problem for a refusal.
pub fn answer_response<R>(
    reply: Answer<R>,
    args: &AnswerArgs,
    refused: impl FnOnce(R) -> Problem,
) -> Response {
    let unseal = |body: &str| idempotency::unseal_body(args.idempotency, body);
    match reply {
        Answer::Done(body) => {
            response::stored_answer(args.status, &args.location, unseal(&body), false)
        }
        Answer::Replay {
            status,
            location,
            body,
        } => response::stored_answer(status, &location, unseal(&body), true),
        Answer::IdempotencyMismatch => Problem::new(
            422,
            "idempotency_key_reused",
            "Idempotency-Key reused",
            "this Idempotency-Key was used with a different request".to_owned(),
        )
        .into_response(),
        Answer::Refused(refusal) => refused(refusal).into_response(),
    }
}

/// 404 for an event that does not exist.
pub fn event_not_found(event: &EventId) -> Problem {
    Problem::new(
        404,
        "event_not_found",
        "Event not found",
        format!("there is no event {event}"),
    )
}

/// Where buyers join `event`'s waiting room.
pub fn queue_path(event: &EventId) -> String {
    format!("/api/events/{event}/queue")
}

/// 403 for a hold or booking on an event with a waiting room that came
/// without a valid, unexpired access token for it. Missing, forged,
/// tampered, expired and other-event tokens all get this same answer, with
/// where to join (in the body and a `Link` header).
pub fn queue_required(event: &EventId) -> Problem {
    let join = queue_path(event);
    Problem::new(
        403,
        "queue_required",
        "Waiting room",
        format!(
            "this event has a waiting room: join it with POST {join}, then send the access \
             token your turn brings as Authorization: Bearer <accessToken>"
        ),
    )
    .with("join", join.clone())
    .with_header(
        "link",
        format!("<{join}>; rel=\"urn:seat-booking:rel:join-queue\""),
    )
}

/// The refusals the seat-taking scripts share: no event, no access through
/// the event's waiting room, seats not on the map, seats taken.
pub fn seat_refusal(event: &EventId, refusal: SeatRefusal) -> Problem {
    match refusal {
        SeatRefusal::NoEvent => event_not_found(event),
        SeatRefusal::QueueRequired => queue_required(event),
        SeatRefusal::UnknownSeats(seats) => unknown_seats(seats),
        SeatRefusal::Taken(seats) => Problem::new(
            409,
            "seats_taken",
            "Seats taken",
            format!("these seats are held or booked: {}", seats.join(", ")),
        )
        .with("seats", seats),
    }
}

/// 400 for seats the event's map does not have.
pub fn unknown_seats(seats: Vec<String>) -> Problem {
    Problem::new(
        400,
        "unknown_seats",
        "Unknown seats",
        format!(
            "these seats are not on the event's map: {}",
            seats.join(", ")
        ),
    )
    .with("seats", seats)
}

/// Unwraps a handler's steps: the response, or the problem that stopped it.
pub fn respond(result: Result<Response, Problem>) -> Response {
    result.unwrap_or_else(Problem::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_is_none_without_the_header_and_400_for_a_bad_one() {
        let plain = Request::new(Method::Post, "/api/book/A-1").with_body(b"{}");
        assert_eq!(idempotency(&plain, "/api/book/A-1"), Ok(None));
        let bad = Request::new(Method::Post, "/api/book/A-1").with_header("idempotency-key", "a b");
        let problem = idempotency(&bad, "/api/book/A-1").unwrap_err();
        assert_eq!(problem.into_response().status(), 400);
        let good = Request::new(Method::Post, "/api/book/A-1").with_header("idempotency-key", "k1");
        assert!(matches!(idempotency(&good, "/api/book/A-1"), Ok(Some(_))));
    }
}
