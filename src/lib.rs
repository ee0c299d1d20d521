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
pub mod response;
pub mod router;
pub mod seat_map;
pub mod store;
pub mod time;
pub mod token;

use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

/// Spin calls this once per HTTP request.
#[http_component]
fn handle(req: Request) -> Response {
    router::route(&req)
}
