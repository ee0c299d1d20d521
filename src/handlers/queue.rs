//! Waiting rooms: `POST /api/events/{eventId}/queue` joins an event's
//! queue (a ticket with a secret token and an arrival number);
//! `GET …/queue/{ticketId}` with the ticket token tells the buyer's place
//! and wait, and once the turn has come gives a signed access token that
//! holds and direct bookings on the event take as their bearer token. One
//! script call each; the access token is checked later with no Redis at all
//! (see `access.rs`).

use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::{
    answer_response, event_id, event_not_found, queue_path, resource_id, respond, with_store,
};
use crate::access::QueueSecret;
use crate::auth::{forbidden, unauthorized};
use crate::http::response::to_json;
use crate::http::submission::Submission;
use crate::http::{Kind, Problem, Request, Response};
use crate::idempotency::seal;
use crate::ids::EventId;
use crate::store::outcomes::QueueRefusal;
use crate::store::queue::{TicketLookup, TicketTurn, POSITION_PLACEHOLDER};
use crate::store::AnswerArgs;
use crate::time::rfc3339;
use crate::token;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TicketView<'a> {
    ticket_id: &'a str,
    ticket_token: &'a str,
    event_id: &'a str,
    position: &'a str,
}

/// 404 for a ticket that does not exist.
pub fn ticket_not_found() -> Problem {
    Problem::new(Kind::TicketNotFound, "there is no such waiting-room ticket")
}

/// 409 for queue requests on an event that sells without a waiting room:
/// the event exists, so it is not a 404, and nothing is wrong with the
/// request itself; the event's state is why (hold seats directly).
pub fn no_waiting_room(event: &EventId) -> Problem {
    Problem::new(
        Kind::NoWaitingRoom,
        format!("event {event} has no waiting room: hold or book its seats directly"),
    )
}

/// The refusals joining and polling share.
fn queue_refusal(event: &EventId, refusal: QueueRefusal) -> Problem {
    match refusal {
        QueueRefusal::NoEvent => event_not_found(event),
        QueueRefusal::NoWaitingRoom => no_waiting_room(event),
        QueueRefusal::NotFound => ticket_not_found(),
        QueueRefusal::Forbidden => forbidden(),
    }
}

/// Joins the event's waiting room: 201 with the ticket, its secret token
/// (shown once) and its arrival number; `Location` is where to poll.
pub fn join(req: &Request, raw_event: &str, path: &str) -> Response {
    respond(try_join(req, raw_event, path))
}

fn try_join(req: &Request, raw_event: &str, path: &str) -> Result<Response, Problem> {
    let event = event_id(raw_event)?;
    let idem = Submission::without_body(req, path)?.idempotency;
    let ticket_id = Uuid::new_v4().to_string();
    let ticket_token = token::generate();
    let view = TicketView {
        ticket_id: &ticket_id,
        ticket_token: &seal(idem.as_ref(), &ticket_token),
        event_id: event.as_str(),
        position: POSITION_PLACEHOLDER,
    };
    let args = AnswerArgs {
        idempotency: idem.as_ref(),
        status: 201,
        location: format!("{}/{ticket_id}", queue_path(&event)),
        body: serde_json::to_string(&view).unwrap_or_default(),
    };
    let reply = with_store(|store| {
        store.join_queue(&event, &args, &ticket_id, &token::hash(&ticket_token))
    })?;
    Ok(answer_response(reply, &args, |refusal| {
        queue_refusal(&event, refusal)
    }))
}

/// `GET …/queue/{ticketId}` with `Authorization: Bearer <ticketToken>`.
pub fn status(req: &Request, raw_event: &str, raw_ticket: &str) -> Response {
    respond(try_status(req, raw_event, raw_ticket))
}

fn try_status(req: &Request, raw_event: &str, raw_ticket: &str) -> Result<Response, Problem> {
    let event = event_id(raw_event)?;
    let ticket_token = req.bearer().ok_or_else(|| unauthorized("ticket token"))?;
    let ticket_id = resource_id(raw_ticket, ticket_not_found)?;
    let lookup =
        with_store(|store| store.queue_status(&event, &ticket_id, &token::hash(ticket_token)))?;
    let turn = match lookup {
        TicketLookup::Found(turn) => turn,
        TicketLookup::Refused(refusal) => return Err(queue_refusal(&event, refusal)),
    };
    let mut body = json!({
        "ticketId": ticket_id,
        "eventId": event.as_str(),
        "position": turn.position,
        "ahead": turn.ahead(),
        "admitted": turn.admitted(),
        "estimatedWaitSeconds": turn.wait_seconds(),
        "admittedAt": rfc3339(turn.turn_at_ms),
    });
    if !turn.admitted() {
        let retry = turn.retry_after_seconds().to_string();
        return Ok(answer(body, Some(&retry)));
    }
    if turn.access_over() {
        return Err(access_over(&event, &turn));
    }
    // Never an unsigned token: without the secret there is no admission.
    let secret = QueueSecret::from_variables().ok_or_else(|| {
        eprintln!("misconfigured: queue_secret is missing or shorter than 32 bytes");
        Problem::misconfigured("waiting rooms need the queue_secret variable (at least 32 bytes)")
    })?;
    let expires_at = turn.access_expires_at_ms();
    body["accessToken"] = json!(secret.sign(&event, &ticket_id, expires_at));
    body["accessExpiresAt"] = json!(rfc3339(expires_at));
    Ok(answer(body, None))
}

/// 410 once the admission's minutes have passed: the buyer joins again.
fn access_over(event: &EventId, turn: &TicketTurn) -> Problem {
    let join = queue_path(event);
    Problem::new(
        Kind::AccessExpired,
        format!(
            "this ticket's admission ended at {}; join the waiting room again with POST {join}",
            rfc3339(turn.access_expires_at_ms())
        ),
    )
    .with("join", join)
}

/// A ticket's status: never cached (it carries a secret and changes with
/// time), with the suggested polling interval while waiting.
fn answer(body: serde_json::Value, retry_after: Option<&str>) -> Response {
    let mut builder = Response::builder();
    builder
        .status(200)
        .header("content-type", "application/json")
        .header("cache-control", "no-store");
    if let Some(seconds) = retry_after {
        builder.header("retry-after", seconds.to_owned());
    }
    builder.body(to_json(&body)).build()
}
