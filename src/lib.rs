//! Seat booking API: a Spin HTTP component that never sells the same seat twice.
//!
//! The component is stateless: every request may run in a fresh instance on any
//! node, so all state lives in Redis (see `store`). This file is only the entry
//! point; `router` decides which handler answers, handlers read the request
//! through `http` and change state through `store`.

mod access;
mod auth;
mod handlers;
mod http;
mod idempotency;
mod ids;
mod mounted_file;
mod router;
mod seat_map;
mod store;
mod time;
mod token;

use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

/// Spin calls this once per HTTP request: the router answers it, reading
/// headers and body only as the handler needs them (`http::request`); what
/// is left of a body the client sent is read and dropped, so the client
/// gets the answer on a connection that stays open; and `http::send` hands
/// the answer back to Spin.
#[http_component]
fn handle(req: IncomingRequest, out: ResponseOutparam) {
    let req = http::Request::from_incoming(req);
    let response = router::route_request(&req);
    req.discard_unread_body();
    http::send::send(response, out);
}
