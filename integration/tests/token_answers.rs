//! Answers that carry secrets (issue 22), on real Spin and a real Redis:
//! every answer with a hold, booking or ticket token, or one buyer's
//! booking, says `Cache-Control: no-store`, first and replayed; and a
//! replay hands a token only to whoever sends the same unguessable
//! `Idempotency-Key`: keys that surely are not random are refused with
//! `400 invalid_idempotency_key` before anything reaches Redis.

use integration::{idempotency_key, Answer, RedisMonitor, Service, ADMIN_TOKEN};
use serde_json::{json, Value};

/// The signing key waiting rooms need (at least 32 bytes).
const SECRET: &str = "token-answers-test-queue-secret-0123456789abcdef";

integration::service_api!(Api);

impl Api {
    fn start() -> Api {
        let api = Api(Service::start_with(&[(
            "SPIN_VARIABLE_QUEUE_SECRET",
            SECRET,
        )]));
        api.create_event("gig", &[("A", 10)]);
        api
    }

    /// `method path` with an `Idempotency-Key`, a bearer token and a JSON body, each if given.
    fn with_key(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers = Vec::new();
        if let Some(key) = key {
            headers.push(("idempotency-key", key));
        }
        if let Some(auth) = &auth {
            headers.push(("authorization", auth.as_str()));
        }
        self.send(method, path, &headers, body)
    }
}

fn text(a: &Answer) -> String {
    String::from_utf8_lossy(&a.body).into_owned()
}

fn field(a: &Answer, name: &str) -> String {
    a.json()[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {}", text(a)))
        .to_owned()
}

/// `answer` has `status` and says no cache may keep it.
fn assert_no_store(answer: &Answer, status: u16, what: &str) {
    assert_eq!(answer.status, status, "{what}: {}", text(answer));
    assert_eq!(
        answer.header("cache-control"),
        Some("no-store"),
        "{what} carries a secret"
    );
}

/// A state change with a fresh key, then its replay: both `no-store`, the
/// replay marked and byte for byte the first. Returns the first answer.
fn twice(api: &Api, what: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Answer {
    let key = idempotency_key();
    let first = api.with_key("POST", path, Some(&key), token, body);
    assert_no_store(&first, 201, what);
    let replay = api.with_key("POST", path, Some(&key), token, body);
    assert_no_store(&replay, 201, &format!("{what}, replayed"));
    assert_eq!(replay.header("idempotent-replayed"), Some("true"), "{what}");
    assert_eq!(replay.body, first.body, "{what}");
    first
}

#[test]
fn every_answer_that_carries_a_token_or_a_booking_is_no_store() {
    let api = Api::start();
    // The seed's endpoint, with and without a key.
    let plain = api.call("POST", "/api/book/T1", None, None);
    assert_no_store(&plain, 201, "POST /api/book");
    assert_eq!(field(&plain, "bookingToken").len(), 32);
    twice(
        &api,
        "POST /api/book with a key",
        "/api/book/T2",
        None,
        None,
    );

    // A hold, its confirmation and the booking it made.
    let hold = twice(
        &api,
        "a hold",
        "/api/events/gig/holds",
        None,
        Some(&json!({ "seats": ["A-1", "A-2"] })),
    );
    let confirm = format!("/api/events/gig/holds/{}/confirm", field(&hold, "holdId"));
    let booked = twice(
        &api,
        "a confirmation",
        &confirm,
        Some(&field(&hold, "holdToken")),
        None,
    );
    let read = api.call(
        "GET",
        &format!("/api/events/gig/bookings/{}", field(&booked, "bookingId")),
        Some(&field(&booked, "bookingToken")),
        None,
    );
    assert_no_store(&read, 200, "a booking read");
    assert_eq!(read.json()["seats"], json!(["A-1", "A-2"]));

    // A direct booking.
    twice(
        &api,
        "a direct booking",
        "/api/events/gig/bookings",
        None,
        Some(&json!({ "seats": ["A-5"] })),
    );

    // A waiting room's ticket and its status (the access token once admitted).
    let room = json!({ "id": "onsale", "name": "Onsale", "rows": [{ "label": "A", "seats": 4 }],
        "waitingRoom": { "admitPerMinute": 6000, "accessMinutes": 5 } });
    let created = api.call("POST", "/api/events", Some(ADMIN_TOKEN), Some(&room));
    assert_no_store(&created, 201, "an event created");
    let ticket = twice(&api, "a ticket", "/api/events/onsale/queue", None, None);
    let status = api.call(
        "GET",
        &format!("/api/events/onsale/queue/{}", field(&ticket, "ticketId")),
        Some(&field(&ticket, "ticketToken")),
        None,
    );
    assert_no_store(&status, 200, "a ticket's status");

    // The reads a cache may keep still say so.
    let event = api.send("GET", "/api/events/gig", &[], None);
    assert_eq!(
        event.header("cache-control"),
        Some("public, max-age=1, stale-while-revalidate=2")
    );
}

#[test]
fn guessable_keys_are_refused_before_redis_and_only_the_key_replays_a_token() {
    let api = Api::start();
    let monitor = RedisMonitor::start(&api.redis);
    for key in [
        "k1",
        "order-17",
        "client-3-purchase-17",
        "1700000000123",
        "booking-2026-11-26-10-00",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "abababababababababababababababab",
        "3f1c9a2e-7b4d-4e8a-9c61-2d5f8b0e",
    ] {
        let (answer, cost) = monitor.cost_of(&api.redis, || {
            api.with_key("POST", "/api/book/W1", Some(key), None, None)
        });
        answer.assert_problem(400, "invalid_idempotency_key");
        let detail = answer.json()["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains("128 bits"), "{key}: {detail}");
        assert!(detail.contains("UUID"), "{key}: {detail}");
        assert_eq!(
            (cost.connections, cost.sent.len()),
            (0, 0),
            "{key}: Redis was not even opened: {cost:?}"
        );
    }

    // Credentials are judged first: a confirm without its token is 401
    // whatever its key.
    let hold = api.call(
        "POST",
        "/api/events/gig/holds",
        None,
        Some(&json!({ "seats": ["A-9"] })),
    );
    let confirm = format!("/api/events/gig/holds/{}/confirm", field(&hold, "holdId"));
    api.with_key("POST", &confirm, Some("k1"), None, None)
        .assert_problem(401, "unauthorized");

    // A random key books; the same key and request replay the same token;
    // a stranger without the key gets a refusal and no token.
    let key = idempotency_key();
    let first = api.with_key("POST", "/api/book/W1", Some(&key), None, None);
    assert_eq!(first.status, 201, "{}", text(&first));
    let again = api.with_key("POST", "/api/book/W1", Some(&key), None, None);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(field(&again, "bookingToken"), field(&first, "bookingToken"));
    let stranger = api.with_key("POST", "/api/book/W1", Some(&idempotency_key()), None, None);
    stranger.assert_problem(409, "seat_booked");
    assert!(!text(&stranger).contains(&field(&first, "bookingToken")));
    let no_key = api.call("POST", "/api/book/W1", None, None);
    no_key.assert_problem(409, "seat_booked");

    // UUIDs in capitals and prefixed keys are random keys too.
    for (seat, key) in [
        ("W2", idempotency_key().to_uppercase()),
        ("W3", format!("hold-{}", idempotency_key())),
    ] {
        let answer = api.with_key("POST", &format!("/api/book/{seat}"), Some(&key), None, None);
        assert_eq!(answer.status, 201, "{key}: {}", text(&answer));
    }
}
