//! Building HTTP answers: JSON bodies and RFC 9457 problem details.
//!
//! Every error the API gives is a [`Problem`] with a stable machine-readable
//! `code`, so clients can branch on it without parsing prose.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::http_response::Response;

/// Seconds a client should wait before retrying when Redis is unavailable.
pub const RETRY_AFTER_SECONDS: u32 = 1;

/// A JSON response with the given status.
pub fn json(status: u16, body: &impl Serialize) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(to_json(body))
        .build()
}

/// `body` as JSON bytes. Serialising our own plain structs and values
/// cannot fail; fall back to `{}` rather than panic.
pub fn to_json(body: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec())
}

/// An RFC 9457 problem: `type`, `title`, `status`, `detail`, plus our `code`
/// and any extension members (for example the `seatId` concerned).
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// HTTP status code.
    pub status: u16,
    /// Stable machine-readable code, e.g. `seat_booked`.
    pub code: &'static str,
    /// Short human summary of the problem type.
    pub title: &'static str,
    /// Human explanation of this occurrence.
    pub detail: String,
    /// Extension members added to the body.
    pub extra: Map<String, Value>,
    /// Extra response headers, e.g. `Retry-After` or `WWW-Authenticate`.
    pub headers: Vec<(&'static str, String)>,
}

impl Problem {
    /// A problem with no extension members.
    pub fn new(status: u16, code: &'static str, title: &'static str, detail: String) -> Problem {
        Problem {
            status,
            code,
            title,
            detail,
            extra: Map::new(),
            headers: Vec::new(),
        }
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Problem {
        self.headers.push((name, value.into()));
        self
    }

    /// Adds an extension member to the body.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Problem {
        self.extra.insert(key.to_owned(), value.into());
        self
    }

    /// 404 for a path no route serves.
    pub fn not_found(path: &str) -> Problem {
        Problem::new(
            404,
            "not_found",
            "Not found",
            format!("no resource at {}", printable(path)),
        )
    }

    /// 405 for a known path asked with the wrong method.
    pub fn method_not_allowed(allow: &str) -> Problem {
        Problem::new(
            405,
            "method_not_allowed",
            "Method not allowed",
            format!("this resource only answers {allow}"),
        )
    }

    /// 503 when Redis cannot be reached or fails: nothing was changed that the
    /// client cannot safely retry.
    pub fn redis_unavailable() -> Problem {
        Problem::new(
            503,
            "redis_unavailable",
            "Service unavailable",
            "the booking store is unreachable; retry shortly".to_owned(),
        )
        .with_header("retry-after", RETRY_AFTER_SECONDS.to_string())
    }

    /// 503 when a change was made but too few replicas acknowledged it in
    /// time (`redis_replica_acks`): not confirmed, because a failover could
    /// still lose it. A retry with the same Idempotency-Key is safe.
    pub fn not_replicated() -> Problem {
        Problem::new(
            503,
            "not_replicated",
            "Not yet replicated",
            "the change could not be confirmed on enough replicas; retry with the same \
             Idempotency-Key"
                .to_owned(),
        )
        .with_header("retry-after", RETRY_AFTER_SECONDS.to_string())
    }

    /// 500 for a reply from Redis that no script of ours gives: a bug,
    /// logged where it is found.
    pub fn internal_error() -> Problem {
        Problem::new(
            500,
            "internal_error",
            "Internal error",
            "the request could not be completed".to_owned(),
        )
    }

    /// 500 when the deployment is misconfigured (for example the Redis address
    /// is not in `allowed_outbound_hosts`). Retrying will not help.
    pub fn misconfigured(detail: &str) -> Problem {
        Problem::new(
            500,
            "misconfigured",
            "Service misconfigured",
            detail.to_owned(),
        )
    }

    /// The body as a JSON object.
    pub fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert(
            "type".into(),
            format!("urn:seat-booking:problem:{}", self.code).into(),
        );
        body.insert("title".into(), self.title.into());
        body.insert("status".into(), self.status.into());
        body.insert("detail".into(), self.detail.clone().into());
        body.insert("code".into(), self.code.into());
        for (k, v) in &self.extra {
            body.insert(k.clone(), v.clone());
        }
        Value::Object(body)
    }

    /// The `application/problem+json` response.
    pub fn into_response(self) -> Response {
        let mut builder = Response::builder();
        builder
            .status(self.status)
            .header("content-type", "application/problem+json");
        let body = to_json(&self.body());
        for (name, value) in self.headers {
            builder.header(name, value);
        }
        // `to_vec`, not `Value::to_string`: Display goes through the
        // formatting machinery a few bytes at a time, which cost every 4xx
        // about 20,000 guest instructions (callgrind) for a 200-byte body.
        builder.body(body).build()
    }
}

/// A state-changing answer as the store returned it (first time or
/// replayed): status, optional `Location`, JSON body. Replays say so in
/// `Idempotent-Replayed: true`.
pub fn stored_answer(status: u16, location: &str, body: String, replayed: bool) -> Response {
    let mut builder = Response::builder();
    builder
        .status(status)
        .header("content-type", "application/json");
    if !location.is_empty() {
        builder.header("location", location.to_owned());
    }
    if replayed {
        builder.header("idempotent-replayed", "true");
    }
    builder.body(body).build()
}

/// Shortens and escapes client-supplied text before it is echoed in a detail.
fn printable(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(80)
        .flat_map(char::escape_default)
        .collect();
    if text.chars().count() > 80 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_body_has_rfc9457_members_and_code() {
        let body = Problem::new(409, "seat_booked", "Seat already booked", "x".into())
            .with("seatId", "A-1")
            .body();
        assert_eq!(body["type"], "urn:seat-booking:problem:seat_booked");
        assert_eq!(body["title"], "Seat already booked");
        assert_eq!(body["status"], 409);
        assert_eq!(body["detail"], "x");
        assert_eq!(body["code"], "seat_booked");
        assert_eq!(body["seatId"], "A-1");
    }

    #[test]
    fn unavailable_asks_for_a_retry() {
        let res = Problem::redis_unavailable().into_response();
        assert_eq!(res.status(), 503);
        assert_eq!(res.header("retry-after"), Some("1"));
    }

    #[test]
    fn echoed_paths_are_bounded_and_escaped() {
        let long = "a".repeat(500);
        assert!(printable(&long).chars().count() <= 81);
        assert_eq!(printable("a\nb"), "a\\nb");
    }
}
