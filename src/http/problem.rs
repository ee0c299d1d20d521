//! RFC 9457 problem details, and the catalogue of every problem the API
//! answers.
//!
//! Every error is a [`Problem`] of one [`Kind`], whose stable
//! machine-readable `code`, status and title are listed once, in
//! [`Kind::entry`], so clients can branch on the code without parsing prose
//! and the OpenAPI document can be checked against the list (a test does).
//! Handlers give only what is particular to one occurrence: its `detail`,
//! extension members and headers.

use serde_json::{Map, Value};

use super::response::Response;

/// Seconds a client should wait before retrying when Redis is unavailable.
pub(crate) const RETRY_AFTER_SECONDS: u32 = 1;

/// What went wrong: one variant per problem `code` the API answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    // 400: the request is malformed.
    InvalidPath,
    InvalidEventId,
    InvalidSeatId,
    InvalidBody,
    UnreadableBody,
    InvalidIdempotencyKey,
    InvalidQuery,
    InvalidLimit,
    InvalidCursor,
    InvalidSeatMap,
    InvalidWaitingRoom,
    UnknownSeats,
    // 401 and 403: who may do it.
    Unauthorized,
    Forbidden,
    AdminDisabled,
    WaitingRoomDisabled,
    QueueRequired,
    CrossSiteRequest,
    // 404 and 405: what is there.
    NotFound,
    MethodNotAllowed,
    EventNotFound,
    HoldNotFound,
    BookingNotFound,
    TicketNotFound,
    // 409 and 410: the state forbids it.
    SeatBooked,
    SeatLocked,
    SeatsTaken,
    SeatsUnavailable,
    EventExists,
    HoldConfirmed,
    HoldReleased,
    NoWaitingRoom,
    HoldExpired,
    AccessExpired,
    // 413, 415, 422: the request's form.
    BodyTooLarge,
    UnsupportedMediaType,
    IdempotencyKeyReused,
    // 5xx: ours, not the client's.
    InternalError,
    Misconfigured,
    RedisUnavailable,
    NotReplicated,
}

impl Kind {
    /// Every kind, for the tests that check the catalogue.
    #[cfg(test)]
    pub(crate) const ALL: &'static [Kind] = &[
        Kind::InvalidPath,
        Kind::InvalidEventId,
        Kind::InvalidSeatId,
        Kind::InvalidBody,
        Kind::UnreadableBody,
        Kind::InvalidIdempotencyKey,
        Kind::InvalidQuery,
        Kind::InvalidLimit,
        Kind::InvalidCursor,
        Kind::InvalidSeatMap,
        Kind::InvalidWaitingRoom,
        Kind::UnknownSeats,
        Kind::Unauthorized,
        Kind::Forbidden,
        Kind::AdminDisabled,
        Kind::WaitingRoomDisabled,
        Kind::QueueRequired,
        Kind::CrossSiteRequest,
        Kind::NotFound,
        Kind::MethodNotAllowed,
        Kind::EventNotFound,
        Kind::HoldNotFound,
        Kind::BookingNotFound,
        Kind::TicketNotFound,
        Kind::SeatBooked,
        Kind::SeatLocked,
        Kind::SeatsTaken,
        Kind::SeatsUnavailable,
        Kind::EventExists,
        Kind::HoldConfirmed,
        Kind::HoldReleased,
        Kind::NoWaitingRoom,
        Kind::HoldExpired,
        Kind::AccessExpired,
        Kind::BodyTooLarge,
        Kind::UnsupportedMediaType,
        Kind::IdempotencyKeyReused,
        Kind::InternalError,
        Kind::Misconfigured,
        Kind::RedisUnavailable,
        Kind::NotReplicated,
    ];

    /// The catalogue: status, code and title of each kind.
    const fn entry(self) -> (u16, &'static str, &'static str) {
        match self {
            Kind::InvalidPath => (400, "invalid_path", "Invalid path"),
            Kind::InvalidEventId => (400, "invalid_event_id", "Invalid event id"),
            Kind::InvalidSeatId => (400, "invalid_seat_id", "Invalid seat id"),
            Kind::InvalidBody => (400, "invalid_body", "Invalid request body"),
            Kind::UnreadableBody => (400, "unreadable_body", "Unreadable request body"),
            Kind::InvalidIdempotencyKey => {
                (400, "invalid_idempotency_key", "Invalid Idempotency-Key")
            }
            Kind::InvalidQuery => (400, "invalid_query", "Invalid query"),
            Kind::InvalidLimit => (400, "invalid_limit", "Invalid query"),
            Kind::InvalidCursor => (400, "invalid_cursor", "Invalid query"),
            Kind::InvalidSeatMap => (400, "invalid_seat_map", "Invalid seat map"),
            Kind::InvalidWaitingRoom => (400, "invalid_waiting_room", "Invalid waiting room"),
            Kind::UnknownSeats => (400, "unknown_seats", "Unknown seats"),
            Kind::Unauthorized => (401, "unauthorized", "Authentication required"),
            Kind::Forbidden => (403, "forbidden", "Forbidden"),
            Kind::AdminDisabled => (403, "admin_disabled", "Admin endpoints disabled"),
            Kind::WaitingRoomDisabled => (403, "waiting_room_disabled", "Waiting rooms disabled"),
            Kind::QueueRequired => (403, "queue_required", "Waiting room"),
            Kind::CrossSiteRequest => (403, "cross_site_request", "Cross-site request"),
            Kind::NotFound => (404, "not_found", "Not found"),
            Kind::MethodNotAllowed => (405, "method_not_allowed", "Method not allowed"),
            Kind::EventNotFound => (404, "event_not_found", "Event not found"),
            Kind::HoldNotFound => (404, "hold_not_found", "Hold not found"),
            Kind::BookingNotFound => (404, "booking_not_found", "Booking not found"),
            Kind::TicketNotFound => (404, "ticket_not_found", "Ticket not found"),
            Kind::SeatBooked => (409, "seat_booked", "Seat already booked"),
            Kind::SeatLocked => (409, "seat_locked", "Seat is being booked"),
            Kind::SeatsTaken => (409, "seats_taken", "Seats taken"),
            Kind::SeatsUnavailable => (409, "seats_unavailable", "Not enough seats available"),
            Kind::EventExists => (409, "event_exists", "Event exists"),
            Kind::HoldConfirmed => (409, "hold_confirmed", "Hold already confirmed"),
            Kind::HoldReleased => (409, "hold_released", "Hold released"),
            Kind::NoWaitingRoom => (409, "no_waiting_room", "No waiting room"),
            Kind::HoldExpired => (410, "hold_expired", "Hold expired"),
            Kind::AccessExpired => (410, "access_expired", "Admission expired"),
            Kind::BodyTooLarge => (413, "body_too_large", "Request body too large"),
            Kind::UnsupportedMediaType => (415, "unsupported_media_type", "Unsupported media type"),
            Kind::IdempotencyKeyReused => (422, "idempotency_key_reused", "Idempotency-Key reused"),
            Kind::InternalError => (500, "internal_error", "Internal error"),
            Kind::Misconfigured => (500, "misconfigured", "Service misconfigured"),
            Kind::RedisUnavailable => (503, "redis_unavailable", "Service unavailable"),
            Kind::NotReplicated => (503, "not_replicated", "Not yet replicated"),
        }
    }

    /// The HTTP status.
    pub(crate) const fn status(self) -> u16 {
        self.entry().0
    }

    /// The stable machine-readable code, e.g. `seat_booked`.
    pub(crate) const fn code(self) -> &'static str {
        self.entry().1
    }

    /// The short human summary of the kind.
    pub(crate) const fn title(self) -> &'static str {
        self.entry().2
    }
}

/// An RFC 9457 problem: `type`, `title`, `status`, `detail` from its
/// [`Kind`] and occurrence, plus our `code` and any extension members (for
/// example the `seatId` concerned).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    /// What went wrong.
    pub(crate) kind: Kind,
    /// Human explanation of this occurrence.
    pub(crate) detail: String,
    /// Extension members added to the body.
    extra: Map<String, Value>,
    /// Extra response headers, e.g. `Retry-After` or `WWW-Authenticate`.
    headers: Vec<(&'static str, String)>,
}

impl Problem {
    /// A problem of `kind` with no extension members.
    pub(crate) fn new(kind: Kind, detail: impl Into<String>) -> Problem {
        Problem {
            kind,
            detail: detail.into(),
            extra: Map::new(),
            headers: Vec::new(),
        }
    }

    /// Adds a response header.
    pub(crate) fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Problem {
        self.headers.push((name, value.into()));
        self
    }

    /// Adds an extension member to the body.
    pub(crate) fn with(mut self, key: &str, value: impl Into<Value>) -> Problem {
        self.extra.insert(key.to_owned(), value.into());
        self
    }

    /// 404 for a path no route serves.
    pub(crate) fn not_found(path: &str) -> Problem {
        Problem::new(
            Kind::NotFound,
            format!("no resource at {}", printable(path)),
        )
    }

    /// 405 for a known path asked with the wrong method.
    pub(crate) fn method_not_allowed(allow: &str) -> Problem {
        Problem::new(
            Kind::MethodNotAllowed,
            format!("this resource only answers {allow}"),
        )
    }

    /// 503 when Redis cannot be reached or fails: nothing was changed that the
    /// client cannot safely retry.
    pub(crate) fn redis_unavailable() -> Problem {
        Problem::new(
            Kind::RedisUnavailable,
            "the booking store is unreachable; retry shortly",
        )
        .with_header("retry-after", RETRY_AFTER_SECONDS.to_string())
    }

    /// 503 when a change was made but too few replicas acknowledged it in
    /// time (`redis_replica_acks`): not confirmed, because a failover could
    /// still lose it. A retry with the same Idempotency-Key is safe.
    pub(crate) fn not_replicated() -> Problem {
        Problem::new(
            Kind::NotReplicated,
            "the change could not be confirmed on enough replicas; retry with the same \
             Idempotency-Key",
        )
        .with_header("retry-after", RETRY_AFTER_SECONDS.to_string())
    }

    /// 500 for a reply from Redis that no script of ours gives: a bug,
    /// logged where it is found.
    pub(crate) fn internal_error() -> Problem {
        Problem::new(Kind::InternalError, "the request could not be completed")
    }

    /// 500 when the deployment is misconfigured (for example the Redis address
    /// is not in `allowed_outbound_hosts`). Retrying will not help.
    pub(crate) fn misconfigured(detail: &str) -> Problem {
        Problem::new(Kind::Misconfigured, detail)
    }

    /// The body as a JSON object.
    pub(crate) fn body(&self) -> Value {
        let code = self.kind.code();
        let mut body = Map::new();
        body.insert(
            "type".into(),
            format!("urn:seat-booking:problem:{code}").into(),
        );
        body.insert("title".into(), self.kind.title().into());
        body.insert("status".into(), self.kind.status().into());
        body.insert("detail".into(), self.detail.clone().into());
        body.insert("code".into(), code.into());
        for (k, v) in &self.extra {
            body.insert(k.clone(), v.clone());
        }
        Value::Object(body)
    }

    /// The `application/problem+json` response.
    pub(crate) fn into_response(self) -> Response {
        let mut builder = Response::builder();
        builder
            .status(self.kind.status())
            .header("content-type", "application/problem+json");
        // `to_vec`, not `Value::to_string`: Display goes through the
        // formatting machinery a few bytes at a time, which costs every 4xx
        // noticeably more guest instructions for the same body.
        let body = super::response::to_json(&self.body());
        for (name, value) in self.headers {
            builder.header(name, value);
        }
        builder.body(body).build()
    }
}

/// Shortens and escapes client-supplied text before it is echoed in a detail.
pub(crate) fn printable(text: &str) -> String {
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
        let body = Problem::new(Kind::SeatBooked, "x")
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

    /// Codes are unique and snake case, and every status is a client or
    /// server error.
    #[test]
    fn the_catalogue_has_one_kind_per_code() {
        let mut codes: Vec<&str> = Kind::ALL.iter().map(|k| k.code()).collect();
        for kind in Kind::ALL {
            assert!((400..600).contains(&kind.status()), "{kind:?}");
            assert!(kind
                .code()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_'));
            assert!(!kind.title().is_empty());
        }
        codes.sort_unstable();
        let before = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), before, "a code is listed twice");
    }

    /// The OpenAPI document names every code the API can answer, with its
    /// status: a client generated from it knows every problem.
    #[test]
    fn the_openapi_document_lists_every_code_under_its_status() {
        let doc: Value = serde_json::from_str(include_str!("../../api/openapi.json")).unwrap();
        let mut documented: Vec<(u16, String)> = Vec::new();
        collect_codes(&doc, &doc, None, &mut documented);
        // The router's answers on any path (no operation to list them
        // under) are named in the document's description as `404 not_found`.
        let description = doc["info"]["description"].as_str().unwrap_or_default();
        for kind in Kind::ALL {
            if description.contains(&format!("`{} {}`", kind.status(), kind.code())) {
                documented.push((kind.status(), kind.code().to_owned()));
            }
        }
        let missing: Vec<String> = Kind::ALL
            .iter()
            .filter(|kind| {
                !documented
                    .iter()
                    .any(|(status, code)| *status == kind.status() && code == kind.code())
            })
            .map(|kind| format!("{} {}", kind.status(), kind.code()))
            .collect();
        assert!(
            missing.is_empty(),
            "the OpenAPI document lists nowhere: {missing:?}"
        );
    }

    /// Walks `value`, recording each problem `code` (a `const` or `enum`
    /// under a `code` property) with the response status it sits under;
    /// a shared response (`$ref` to `components/responses`) is walked
    /// under the status that refers to it.
    fn collect_codes(
        root: &Value,
        value: &Value,
        status: Option<u16>,
        out: &mut Vec<(u16, String)>,
    ) {
        match value {
            Value::Object(map) => {
                if let (Some(status), Some(target)) =
                    (status, map.get("$ref").and_then(Value::as_str))
                {
                    if let Some(name) = target.strip_prefix("#/components/responses/") {
                        collect_codes(
                            root,
                            &root["components"]["responses"][name],
                            Some(status),
                            out,
                        );
                    }
                }
                for (key, child) in map {
                    let here = key.parse::<u16>().ok().or(status);
                    if key == "code" {
                        if let Some(status) = status {
                            let listed = child.get("const").into_iter().chain(
                                child
                                    .get("enum")
                                    .and_then(Value::as_array)
                                    .into_iter()
                                    .flatten(),
                            );
                            for c in listed.filter_map(Value::as_str) {
                                out.push((status, c.to_owned()));
                            }
                        }
                    }
                    collect_codes(root, child, here, out);
                }
            }
            Value::Array(items) => items
                .iter()
                .for_each(|v| collect_codes(root, v, status, out)),
            _ => {}
        }
    }
}
