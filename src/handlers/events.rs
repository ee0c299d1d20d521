//! Events: `POST /api/events` (admin) creates one with its seat map;
//! `GET /api/events/{eventId}` shows its counts (and its waiting room, if
//! it has one); `GET …/seats` shows every seat's state. Both reads take one
//! Redis round trip, carry an ETag and answer `If-None-Match` with 304
//! (`conditional.rs`), so caches can serve them.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::conditional::{uncacheable, Representation};
use super::{answer_response, event_id, event_not_found, invalid_event_id, respond, with_store};
use crate::access::QueueSecret;
use crate::auth::require_admin;
use crate::http::body::invalid_body;
use crate::http::response::json;
use crate::http::submission::Submission;
use crate::http::{Kind, Problem, Request, Response};
use crate::ids::EventId;
use crate::seat_map::{self, Row, LEGEND};
use crate::store::keys::DEFAULT_EVENT;
use crate::store::outcomes::CreateEventRefusal;
use crate::store::queue::WaitingRoom;
use crate::store::seat_map::{EventMap, MapRead};
use crate::store::AnswerArgs;
use crate::time::{now_millis, rfc3339};

/// The longest event name accepted.
pub const MAX_NAME_LEN: usize = 200;

/// `POST /api/events` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateEvent {
    /// The new event's id.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Its seat map.
    pub rows: Vec<Row>,
    /// Its waiting room, if buyers should queue for it.
    #[serde(default, rename = "waitingRoom")]
    pub waiting_room: Option<WaitingRoomInput>,
}

/// The `waitingRoom` of `POST /api/events`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WaitingRoomInput {
    /// Buyers let in per minute, 1 to 100000.
    #[serde(deserialize_with = "crate::http::body::whole_number")]
    pub admit_per_minute: u32,
    /// How long an admission lasts, 1 to 120 minutes.
    #[serde(deserialize_with = "crate::http::body::whole_number")]
    pub access_minutes: u32,
}

/// The `waitingRoom` member of an event's answers.
fn waiting_room_view(room: &WaitingRoom) -> serde_json::Value {
    json!({
        "admitPerMinute": room.admit_per_minute,
        "accessMinutes": room.access_minutes,
    })
}

/// The waiting room asked for, checked: within bounds, not on the default
/// event (`POST /api/book/{seatId}` books it without one), and only with a
/// signing secret configured, so no admission can ever go unsigned.
fn waiting_room(event: &EventId, input: &CreateEvent) -> Result<Option<WaitingRoom>, Problem> {
    let Some(asked) = &input.waiting_room else {
        return Ok(None);
    };
    let invalid = |why: &str| Problem::new(Kind::InvalidWaitingRoom, why);
    let room = WaitingRoom::new(asked.admit_per_minute, asked.access_minutes).map_err(invalid)?;
    if event.as_str() == DEFAULT_EVENT {
        return Err(invalid(
            "the default event cannot have a waiting room: POST /api/book/{seatId} books it directly",
        ));
    }
    if QueueSecret::from_variables().is_none() {
        return Err(Problem::new(
            Kind::WaitingRoomDisabled,
            "waiting rooms need a signing secret: set the queue_secret variable to at least 32 \
             random bytes",
        ));
    }
    Ok(Some(room))
}

/// The event as `POST` and `GET` show it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct EventView<'a> {
    event_id: &'a str,
    name: &'a str,
    seat_count: u64,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    waiting_room: Option<serde_json::Value>,
}

/// Creates an event (admin token required).
pub fn create(req: &Request, path: &str) -> Response {
    respond(try_create(req, path))
}

fn try_create(req: &Request, path: &str) -> Result<Response, Problem> {
    // The admin token first: without it nothing about the body is told.
    require_admin(req.bearer())?;
    let (submission, input) = Submission::with_json::<CreateEvent>(req, path)?;
    let event = EventId::new(&input.id).map_err(invalid_event_id)?;
    if input.name.trim().is_empty() || input.name.chars().count() > MAX_NAME_LEN {
        return Err(invalid_body("name must be 1 to 200 characters"));
    }
    let seat_count =
        seat_map::validate(&input.rows).map_err(|why| Problem::new(Kind::InvalidSeatMap, why))?;
    let room = waiting_room(&event, &input)?;
    let idem = submission.idempotency;
    let created_at = now_millis();
    let view = EventView {
        event_id: event.as_str(),
        name: &input.name,
        seat_count: seat_count.into(),
        created_at: rfc3339(created_at),
        waiting_room: room.as_ref().map(waiting_room_view),
    };
    let args = AnswerArgs {
        idempotency: idem.as_ref(),
        status: 201,
        location: format!("/api/events/{event}"),
        body: serde_json::to_string(&view).unwrap_or_default(),
    };
    let reply = with_store(|store| {
        store.create_event(
            &event,
            &args,
            &input.name,
            &seat_map::to_record(&input.rows),
            seat_count,
            created_at,
            room,
        )
    })?;
    Ok(answer_response(
        reply,
        &args,
        |CreateEventRefusal::Exists| {
            Problem::new(
                Kind::EventExists,
                format!("an event with id {event} already exists"),
            )
        },
    ))
}

/// `GET /api/events/{eventId}`: name, seat count, live counts, and the
/// waiting room when the event has one (so the page knows to queue).
pub fn get(req: &Request, raw_event: &str) -> Response {
    cacheable_read(req, raw_event, Representation::Event, |event, map| {
        let mut body = json!({
            "eventId": event.as_str(),
            "name": map.name,
            "createdAt": rfc3339(map.created_at_ms),
            "seatCount": map.available + map.held + map.booked,
            "available": map.available,
            "held": map.held,
            "booked": map.booked,
        });
        if let Some(room) = &map.waiting_room {
            body["waitingRoom"] = waiting_room_view(room);
        }
        body
    })
}

/// `GET /api/events/{eventId}/seats`: every seat's state, one character
/// per seat per row, compact enough for a 50,000-seat stadium.
pub fn seats(req: &Request, raw_event: &str) -> Response {
    cacheable_read(req, raw_event, Representation::SeatMap, |event, map| {
        let rows: Vec<_> = map
            .rows
            .iter()
            .map(|(label, states)| json!({ "label": label, "states": states }))
            .collect();
        let legend: serde_json::Map<_, _> = LEGEND
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        json!({
            "eventId": event.as_str(),
            "legend": legend,
            "available": map.available,
            "held": map.held,
            "booked": map.booked,
            "rows": rows,
        })
    })
}

/// One of the two reads: 304 when the client's `If-None-Match` names the
/// current map (the body is never built), else 200 with `body(map)`; both
/// with the ETag and `Cache-Control`, errors with `no-store`.
fn cacheable_read(
    req: &Request,
    raw_event: &str,
    representation: Representation,
    body: impl FnOnce(&EventId, &EventMap) -> serde_json::Value,
) -> Response {
    let read = event_id(raw_event).and_then(|event| {
        let known = representation.known_validators(req);
        let found = with_store(|store| store.event_map(&event, &known))?;
        found
            .map(|read| (event.clone(), read))
            .ok_or_else(|| event_not_found(&event))
    });
    match read {
        Ok((_, MapRead::NotModified(validator))) => representation.not_modified(&validator),
        Ok((event, MapRead::Current(map))) => {
            representation.fresh(json(200, &body(&event, &map)), &map.validator)
        }
        Err(problem) => uncacheable(problem),
    }
}
