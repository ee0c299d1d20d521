//! Seat booking API: a Spin HTTP component that never sells the same seat twice.
//!
//! The component is stateless: every request may run in a fresh instance on any
//! node, so all state lives in Redis (see `store`). This file is only the entry
//! point; `router` decides which handler answers.

pub mod access;
pub mod auth;
pub mod body;
pub mod handlers;
pub mod idempotency;
pub mod ids;
pub mod mounted_file;
pub mod response;
pub mod router;
pub mod seat_map;
pub mod send_response;
pub mod store;
pub mod time;
pub mod token;

use spin_sdk::http::conversions::TryFromIncomingRequest;
use spin_sdk::http::{IncomingRequest, Request, ResponseOutparam};
use spin_sdk::http_component;

/// Spin calls this once per HTTP request: the whole request is read, the
/// router answers it, and `send_response` hands the answer back to Spin.
#[http_component]
async fn handle(req: IncomingRequest, out: ResponseOutparam) {
    let response = match Request::try_from_incoming_request(req).await {
        Ok(req) => router::route(&req),
        Err(e) => response::Problem::new(
            400,
            "unreadable_body",
            "Unreadable request body",
            format!("the request body could not be read: {e}"),
        )
        .into_response(),
    };
    send_response::send(response, out);
}
