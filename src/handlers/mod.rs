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

use crate::http::response::stored_answer;
use crate::http::{Kind, Problem, Response};
use crate::idempotency;
use crate::ids::{parse_uuid, EventId, InvalidId};
use crate::store::outcomes::{Answer, SeatRefusal};
use crate::store::{AnswerArgs, Store, StoreError};

/// The most seats one hold or booking may name or ask for.
pub(crate) const MAX_SEATS_PER_REQUEST: usize = 100;

/// Parses the `{eventId}` path segment.
pub(crate) fn event_id(raw: &str) -> Result<EventId, Problem> {
    EventId::from_path(raw).map_err(invalid_event_id)
}

/// 400 for an event id that may not reach Redis.
pub(crate) fn invalid_event_id(why: InvalidId) -> Problem {
    Problem::new(
        Kind::InvalidEventId,
        format!("the event id is not valid: {why}"),
    )
}

/// Parses a `{holdId}` or `{bookingId}` segment; anything but a canonical
/// UUID cannot name a resource, so it is a 404 like any unknown id.
pub(crate) fn resource_id(raw: &str, not_found: fn() -> Problem) -> Result<String, Problem> {
    parse_uuid(raw).ok_or_else(not_found)
}

/// Opens the store and runs `op`; any store failure becomes its problem answer.
pub(crate) fn with_store<T>(
    op: impl FnOnce(&Store) -> Result<T, StoreError>,
) -> Result<T, Problem> {
    Store::open()
        .and_then(|store| op(&store))
        .map_err(StoreError::into_problem)
}

/// The response for a state-changing script's reply: the stored answer
/// (tokens unsealed, replays marked), 422 for a reused key, or the
/// handler's problem for a refusal.
pub(crate) fn answer_response<R>(
    reply: Answer<R>,
    args: &AnswerArgs,
    refused: impl FnOnce(R) -> Problem,
) -> Response {
    let unseal = |body: &str| idempotency::unseal_body(args.idempotency, body);
    match reply {
        Answer::Done(body) => stored_answer(args.status, &args.location, unseal(&body), false),
        Answer::Replay {
            status,
            location,
            body,
        } => stored_answer(status, &location, unseal(&body), true),
        Answer::IdempotencyMismatch => Problem::new(
            Kind::IdempotencyKeyReused,
            "this Idempotency-Key was used with a different request",
        )
        .into_response(),
        Answer::Refused(refusal) => refused(refusal).into_response(),
    }
}

/// 404 for an event that does not exist.
pub(crate) fn event_not_found(event: &EventId) -> Problem {
    Problem::new(Kind::EventNotFound, format!("there is no event {event}"))
}

/// Where buyers join `event`'s waiting room.
pub(crate) fn queue_path(event: &EventId) -> String {
    format!("/api/events/{event}/queue")
}

/// 403 for a hold or booking on an event with a waiting room that came
/// without a valid, unexpired access token for it. Missing, forged,
/// tampered, expired and other-event tokens all get this same answer, with
/// where to join (in the body and a `Link` header).
pub(crate) fn queue_required(event: &EventId) -> Problem {
    let join = queue_path(event);
    Problem::new(
        Kind::QueueRequired,
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
pub(crate) fn seat_refusal(event: &EventId, refusal: SeatRefusal) -> Problem {
    match refusal {
        SeatRefusal::NoEvent => event_not_found(event),
        SeatRefusal::QueueRequired => queue_required(event),
        SeatRefusal::UnknownSeats(seats) => unknown_seats(seats),
        SeatRefusal::Taken(seats) => Problem::new(
            Kind::SeatsTaken,
            format!("these seats are held or booked: {}", seats.join(", ")),
        )
        .with("seats", seats),
    }
}

/// 400 for seats the event's map does not have.
pub(crate) fn unknown_seats(seats: Vec<String>) -> Problem {
    Problem::new(
        Kind::UnknownSeats,
        format!(
            "these seats are not on the event's map: {}",
            seats.join(", ")
        ),
    )
    .with("seats", seats)
}

/// Unwraps a handler's steps: the response, or the problem that stopped it.
pub(crate) fn respond(result: Result<Response, Problem>) -> Response {
    result.unwrap_or_else(Problem::into_response)
}
