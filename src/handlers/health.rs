//! `GET /health`: 200 when Redis answers a PING, 503 when it does not, so a
//! load balancer or Kubernetes probe can take an instance without Redis out.

use serde_json::json;

use crate::http::response;
use crate::http::Response;
use crate::store::Store;

/// Answers the health check.
pub fn get() -> Response {
    match Store::open().and_then(|store| store.ping()) {
        Ok(()) => response::json(200, &json!({ "redis": "ok" })),
        Err(e) => e.into_problem().into_response(),
    }
}
