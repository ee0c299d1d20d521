//! Waiting rooms (issue 14), end to end on real Spin and a real Redis:
//! creating events with and without one, joining (arrival order,
//! idempotency), polling (the turn, the access token, its fixed expiry),
//! admission in arrival order at the rate, holds and direct bookings
//! refused without a valid access token and allowed with one, the seed
//! endpoint and events without a waiting room unaffected, a missing or
//! short `queue_secret` refusing waiting rooms rather than signing nothing,
//! and what each queue operation costs in Redis.

use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use integration::{
    client, send_with, Answer, RedisCost, RedisMonitor, RedisServer, Service, Spin, ADMIN_TOKEN,
};
use redis::Commands;
use serde_json::{json, Value};
use sha2::Sha256;

/// The signing key the tests configure (48 bytes).
const SECRET: &str = "waiting-room-test-secret-0123456789abcdef-0123456";

// A service with a `queue_secret`, and helpers for the API.
integration::service_api!(Api);

impl Api {
    fn start() -> Api {
        Api::start_with(&[("SPIN_VARIABLE_QUEUE_SECRET", SECRET)])
    }

    fn start_with(env: &[(&str, &str)]) -> Api {
        Api(Service::start_with(env))
    }

    /// `POST /api/events` as the admin, with extra members in the body.
    fn create(&self, id: &str, extra: Value) -> Answer {
        let mut body = json!({ "id": id, "name": format!("Event {id}"),
            "rows": [{ "label": "A", "seats": 20 }, { "label": "B", "seats": 20 }] });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        self.call("POST", "/api/events", Some(ADMIN_TOKEN), Some(&body))
    }

    fn create_queued(&self, id: &str, admit_per_minute: u32, access_minutes: u32) {
        let room = json!({ "waitingRoom": {
            "admitPerMinute": admit_per_minute, "accessMinutes": access_minutes } });
        let answer = self.create(id, room);
        assert_eq!(answer.status, 201, "{}", text(&answer));
    }

    fn join(&self, event: &str) -> Answer {
        self.call("POST", &format!("/api/events/{event}/queue"), None, None)
    }

    /// Joins and returns (ticket id, ticket token).
    fn ticket(&self, event: &str) -> (String, String) {
        let joined = self.join(event);
        assert_eq!(joined.status, 201, "{}", text(&joined));
        let t = joined.json();
        (str_of(&t["ticketId"]), str_of(&t["ticketToken"]))
    }

    fn poll(&self, event: &str, ticket: &(String, String)) -> Answer {
        let path = format!("/api/events/{event}/queue/{}", ticket.0);
        self.call("GET", &path, Some(&ticket.1), None)
    }

    /// Polls until the ticket is admitted and returns its status.
    fn access(&self, event: &str, ticket: &(String, String)) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let status = self.poll(event, ticket);
            assert_eq!(status.status, 200, "{}", text(&status));
            if status.json()["admitted"] == true {
                return status.json();
            }
            assert!(Instant::now() < deadline, "never admitted");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn hold(&self, event: &str, token: Option<&str>, body: Value) -> Answer {
        self.call(
            "POST",
            &format!("/api/events/{event}/holds"),
            token,
            Some(&body),
        )
    }

    fn book(&self, event: &str, token: Option<&str>, seats: &[&str]) -> Answer {
        self.call(
            "POST",
            &format!("/api/events/{event}/bookings"),
            token,
            Some(&json!({ "seats": seats })),
        )
    }
}

fn text(a: &Answer) -> String {
    String::from_utf8_lossy(&a.body).into_owned()
}

fn str_of(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_owned()
}

/// An access token made the way the component makes one, with any key.
fn sign(key: &[u8], event: &str, ticket: &str, expires_at_ms: u64) -> String {
    let payload = URL_SAFE_NO_PAD.encode(format!("{event}\n{ticket}\n{expires_at_ms}"));
    let signed = format!("v1.{payload}");
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(signed.as_bytes());
    let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signed}.{tag}")
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn assert_queue_required(answer: &Answer, event: &str) {
    answer.assert_problem(403, "queue_required");
    let join = format!("/api/events/{event}/queue");
    assert_eq!(answer.json()["join"], join.as_str());
    let link = answer.header("link").unwrap_or_default();
    assert!(link.starts_with(&format!("<{join}>;")), "Link: {link}");
}

#[test]
fn creating_a_waiting_room_checks_its_settings() {
    let api = Api::start();
    let created = api.create(
        "onsale",
        json!({ "waitingRoom": { "admitPerMinute": 600, "accessMinutes": 10 } }),
    );
    assert_eq!(created.status, 201, "{}", text(&created));
    let room = json!({ "admitPerMinute": 600, "accessMinutes": 10 });
    assert_eq!(created.json()["waitingRoom"], room);
    assert_eq!(
        api.call("GET", "/api/events/onsale", None, None).json()["waitingRoom"],
        room
    );

    // Without one, nothing changes: no member in either answer.
    let plain = api.create("plain", json!({}));
    assert_eq!(plain.status, 201);
    assert!(plain.json().get("waitingRoom").is_none());
    let read = api.call("GET", "/api/events/plain", None, None).json();
    assert!(read.get("waitingRoom").is_none(), "{read}");

    for (n, room) in [
        json!({ "admitPerMinute": 0, "accessMinutes": 5 }),
        json!({ "admitPerMinute": 100_001, "accessMinutes": 5 }),
        json!({ "admitPerMinute": 60, "accessMinutes": 0 }),
        json!({ "admitPerMinute": 60, "accessMinutes": 121 }),
    ]
    .into_iter()
    .enumerate()
    {
        let answer = api.create(&format!("bad{n}"), json!({ "waitingRoom": room }));
        answer.assert_problem(400, "invalid_waiting_room");
    }
    for (n, room) in [
        json!({ "admitPerMinute": 1.5, "accessMinutes": 5 }),
        json!({ "admitPerMinute": "60", "accessMinutes": 5 }),
        json!({ "admitPerMinute": 60 }),
        json!({ "admitPerMinute": 60, "accessMinutes": 5, "extra": 1 }),
        json!(true),
    ]
    .into_iter()
    .enumerate()
    {
        let answer = api.create(&format!("worse{n}"), json!({ "waitingRoom": room }));
        answer.assert_problem(400, "invalid_body");
    }
    // The seed's endpoint books the default event without a queue.
    let default = api.create(
        "default",
        json!({ "waitingRoom": { "admitPerMinute": 60, "accessMinutes": 5 } }),
    );
    default.assert_problem(400, "invalid_waiting_room");
    let mut r = api.redis.client();
    for id in ["bad0", "bad3", "worse0", "default"] {
        let exists: bool = r.exists(format!("event:{{{id}}}")).unwrap();
        assert!(!exists, "{id} was created");
    }
}

/// A missing or short `queue_secret` refuses waiting rooms at creation with
/// a clear error, and an admitted ticket gets no token at all rather than
/// an unsigned one.
#[test]
fn without_a_usable_secret_there_are_no_waiting_rooms_and_no_unsigned_tokens() {
    let short = "s".repeat(31);
    for env in [vec![], vec![("SPIN_VARIABLE_QUEUE_SECRET", short.as_str())]] {
        let api = Api::start_with(&env);
        let refused = api.create(
            "onsale",
            json!({ "waitingRoom": { "admitPerMinute": 60, "accessMinutes": 5 } }),
        );
        refused.assert_problem(403, "waiting_room_disabled");
        assert!(text(&refused).contains("queue_secret"));
        assert_eq!(api.create("plain", json!({})).status, 201);
    }

    // An event made while the secret was set, served by an instance
    // without it: joining works, the admitted ticket gets a 500, no token.
    let api = Api::start();
    api.create_queued("onsale", 600, 5);
    let ticket = api.ticket("onsale");
    assert_eq!(api.access("onsale", &ticket)["admitted"], true);
    let unsigned = Spin::start_on(&api.redis, &[]);
    let path = format!("/api/events/onsale/queue/{}", ticket.0);
    let auth = format!("Bearer {}", ticket.1);
    let answer = send_with(
        &client(),
        "GET",
        &unsigned.url(&path),
        &[("authorization", &auth)],
        None,
    );
    answer.assert_problem(500, "misconfigured");
    assert!(!text(&answer).contains("accessToken"));
    assert!(!api.spin.log().contains(SECRET), "the secret was logged");
}

#[test]
fn joining_takes_the_next_arrival_number_and_replays_with_its_key() {
    let api = Api::start();
    api.create_queued("onsale", 600, 5);
    let mut tokens = Vec::new();
    for expected in 1..=3 {
        let joined = api.join("onsale");
        assert_eq!(joined.status, 201, "{}", text(&joined));
        let t = joined.json();
        assert_eq!(t["position"], expected);
        assert_eq!(t["eventId"], "onsale");
        let token = str_of(&t["ticketToken"]);
        assert_eq!(token.len(), 32);
        let location = format!("/api/events/onsale/queue/{}", str_of(&t["ticketId"]));
        assert_eq!(joined.header("location"), Some(location.as_str()));
        tokens.push(token);
    }

    let key = [("idempotency-key", "8a0c2d5e-4f1b-4a7c-9e3d-6b2f1a0c5d7e")];
    let url = api.spin.url("/api/events/onsale/queue");
    let first = send_with(&api.agent, "POST", &url, &key, None);
    let again = send_with(&api.agent, "POST", &url, &key, None);
    assert_eq!(first.status, 201);
    assert_eq!(first.json()["position"], 4);
    assert_eq!(again.body, first.body, "a retry replays the same ticket");
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let replayed = (
        str_of(&again.json()["ticketId"]),
        str_of(&again.json()["ticketToken"]),
    );
    assert_eq!(
        api.poll("onsale", &replayed).status,
        200,
        "the replayed token works"
    );
    assert_eq!(
        api.join("onsale").json()["position"],
        5,
        "the replay took no number"
    );

    // Redis keeps token hashes only.
    let mut r = api.redis.client();
    let keys: Vec<String> = r.keys("*").unwrap();
    for k in &keys {
        let dump: Vec<u8> = redis::cmd("DUMP").arg(k).query(&mut r).unwrap();
        let dump = String::from_utf8_lossy(&dump);
        for token in tokens.iter().chain([&replayed.1]) {
            assert!(!dump.contains(token.as_str()), "{k} holds a ticket token");
        }
    }

    api.join("nosuch").assert_problem(404, "event_not_found");
    api.create("plain", json!({}));
    api.join("plain").assert_problem(409, "no_waiting_room");
    api.join("bad%20id").assert_problem(400, "invalid_event_id");
}

/// Turns one second apart (60 a minute): each poll tells the truth about
/// the wait, the admitted tickets are always the earliest arrivals, and an
/// admitted ticket's token keeps one expiry however often it polls.
#[test]
fn tickets_are_admitted_in_arrival_order_at_the_rate() {
    let api = Api::start();
    api.create_queued("onsale", 60, 1);
    let tickets: Vec<(String, String)> = (0..4).map(|_| api.ticket("onsale")).collect();

    let first = api.poll("onsale", &tickets[0]);
    assert_eq!(first.status, 200);
    assert_eq!(first.header("cache-control"), Some("no-store"));
    assert_eq!(first.header("retry-after"), None);
    let f = first.json();
    assert_eq!(
        (f["position"].clone(), f["admitted"].clone()),
        (json!(1), json!(true))
    );
    assert_eq!(f["estimatedWaitSeconds"], 0);
    let token = str_of(&f["accessToken"]);
    assert!(token.starts_with("v1."), "{token}");

    let last = api.poll("onsale", &tickets[3]);
    let l = last.json();
    assert_eq!(l["admitted"], false);
    assert!(l.get("accessToken").is_none());
    assert_eq!(l["position"], 4);
    assert_eq!(l["ahead"], 2, "{l}");
    assert_eq!(l["estimatedWaitSeconds"], 3, "{l}");
    let retry: u64 = last.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3).contains(&retry), "Retry-After {retry}");

    // Redis's record of the turns: one second apart, in arrival order.
    let mut r = api.redis.client();
    let turns: Vec<u64> = tickets
        .iter()
        .map(|(id, _)| r.hget(format!("ticket:{{onsale}}:{id}"), "turnAt").unwrap())
        .collect();
    for pair in turns.windows(2) {
        assert_eq!(pair[1] - pair[0], 1000, "turns {turns:?}");
    }

    // Watch them come in: at every moment the admitted ones are a prefix.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let admitted: Vec<bool> = tickets
            .iter()
            .map(|t| api.poll("onsale", t).json()["admitted"] == true)
            .collect();
        let count = admitted.iter().filter(|&&a| a).count();
        assert!(
            admitted.iter().take(count).all(|&a| a),
            "admitted out of order: {admitted:?}"
        );
        if count == tickets.len() {
            break;
        }
        assert!(Instant::now() < deadline, "not all admitted: {admitted:?}");
        std::thread::sleep(Duration::from_millis(50));
    }

    // Polling again does not extend the admission.
    let again = api.poll("onsale", &tickets[0]).json();
    assert_eq!(again["accessExpiresAt"], f["accessExpiresAt"]);
    assert_eq!(again["admittedAt"], f["admittedAt"]);

    // An admission whose minutes are over: 410, join again.
    let key = format!("ticket:{{onsale}}:{}", tickets[1].0);
    let turn: u64 = r.hget(&key, "turnAt").unwrap();
    let _: () = r.hset(&key, "turnAt", turn - 61_000).unwrap();
    let over = api.poll("onsale", &tickets[1]);
    over.assert_problem(410, "access_expired");
    assert_eq!(over.json()["join"], "/api/events/onsale/queue");

    // The ticket token is the key to the ticket.
    let path = format!("/api/events/onsale/queue/{}", tickets[2].0);
    api.call("GET", &path, None, None)
        .assert_problem(401, "unauthorized");
    api.call("GET", &path, Some(&tickets[3].1), None)
        .assert_problem(403, "forbidden");
    let unknown = "/api/events/onsale/queue/00000000-0000-4000-8000-000000000000";
    api.call("GET", unknown, Some(&tickets[2].1), None)
        .assert_problem(404, "ticket_not_found");
    api.call(
        "GET",
        "/api/events/onsale/queue/x",
        Some(&tickets[2].1),
        None,
    )
    .assert_problem(404, "ticket_not_found");
    api.create("plain", json!({}));
    api.call(
        "GET",
        "/api/events/plain/queue/00000000-0000-4000-8000-000000000000",
        Some("t"),
        None,
    )
    .assert_problem(409, "no_waiting_room");
}

/// Holds and direct bookings on a queued event need a valid access token
/// for it; every kind of bad token gets the same 403; a good one works, and
/// its ticket is noted on the hold. The seed endpoint and other events are
/// unaffected.
#[test]
fn holds_and_bookings_need_a_valid_access_token() {
    let api = Api::start();
    api.create_queued("onsale", 6000, 5);
    api.create_queued("other", 6000, 5);
    let ticket = api.ticket("onsale");
    let status = api.access("onsale", &ticket);
    let token = str_of(&status["accessToken"]);
    let other_ticket = api.ticket("other");
    let other_token = str_of(&api.access("other", &other_ticket)["accessToken"]);

    let expired = sign(SECRET.as_bytes(), "onsale", &ticket.0, now_ms() - 1);
    let forged = sign(
        b"an-attacker-guess-0123456789abcdef",
        "onsale",
        &ticket.0,
        now_ms() + 60_000,
    );
    let mut tampered = token.clone().into_bytes();
    tampered[5] = if tampered[5] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let long = "v1.".to_owned() + &"A".repeat(4000);
    let bad: Vec<(&str, Option<&str>)> = vec![
        ("none", None),
        ("expired", Some(&expired)),
        ("forged", Some(&forged)),
        ("other event", Some(&other_token)),
        ("tampered", Some(&tampered)),
        ("malformed", Some("garbage")),
        ("malformed v1", Some("v1.x.y")),
        ("oversized", Some(&long)),
        ("a ticket token", Some(&ticket.1)),
    ];
    let named = json!({ "seats": ["A-1", "A-2"] });
    let best = json!({ "bestAvailable": { "count": 2 } });
    let mut bodies = Vec::new();
    for (what, bearer) in &bad {
        for answer in [
            api.hold("onsale", *bearer, named.clone()),
            api.hold("onsale", *bearer, best.clone()),
            api.book("onsale", *bearer, &["B-1"]),
        ] {
            assert_queue_required(&answer, "onsale");
            bodies.push((what, answer.body));
        }
    }
    assert!(
        bodies.windows(2).all(|w| w[0].1 == w[1].1),
        "every refusal is the same answer"
    );
    let mut r = api.redis.client();
    let held: Vec<String> = r.keys("lock:seat:{onsale}:*").unwrap();
    assert!(held.is_empty(), "a refused request took seats: {held:?}");

    // With the token: named hold, best available, direct booking.
    let hold = api.hold("onsale", Some(&token), named);
    assert_eq!(hold.status, 201, "{}", text(&hold));
    let best_hold = api.hold("onsale", Some(&token), best);
    assert_eq!(best_hold.status, 201, "{}", text(&best_hold));
    let booked = api.book("onsale", Some(&token), &["B-1"]);
    assert_eq!(booked.status, 201, "{}", text(&booked));
    let hold_id = str_of(&hold.json()["holdId"]);
    let noted: Option<String> = r
        .hget(format!("hold:{{onsale}}:{hold_id}"), "ticketId")
        .unwrap();
    assert_eq!(noted.as_deref(), Some(ticket.0.as_str()));
    let booking_id = str_of(&booked.json()["bookingId"]);
    let noted: Option<String> = r
        .hget(format!("booking:{{onsale}}:{booking_id}"), "ticketId")
        .unwrap();
    assert_eq!(noted.as_deref(), Some(ticket.0.as_str()));

    // Confirming needs only the hold token.
    let confirm = format!("/api/events/onsale/holds/{hold_id}/confirm");
    let hold_token = str_of(&hold.json()["holdToken"]);
    let confirmed = api.call("POST", &confirm, Some(&hold_token), None);
    assert_eq!(confirmed.status, 201, "{}", text(&confirmed));

    // Events without a waiting room and the seed endpoint: as before, with
    // or without a stray bearer token.
    api.create("plain", json!({}));
    assert_eq!(
        api.hold("plain", None, json!({ "seats": ["A-1"] })).status,
        201
    );
    assert_eq!(
        api.hold("plain", Some("garbage"), json!({ "seats": ["A-2"] }))
            .status,
        201
    );
    assert_eq!(api.book("plain", Some(&token), &["A-3"]).status, 201);
    assert_eq!(api.call("POST", "/api/book/1", None, None).status, 201);
    assert!(!api.spin.log().contains(SECRET), "the secret was logged");
}

/// Joining is one script call (plus WAIT with replica acks), polling one
/// script call that writes nothing (so no WAIT), and a hold with an access
/// token costs what a hold without one costs: the token is checked without
/// Redis. Counted by Redis itself.
#[test]
fn queue_operations_cost_one_round_trip_after_open() {
    for acks in [0, 1] {
        let redis = RedisServer::start();
        let _replica = (acks == 1).then(|| redis.start_replica());
        let spin = Spin::start_on(
            &redis,
            &[
                ("SPIN_VARIABLE_QUEUE_SECRET", SECRET),
                (
                    "SPIN_VARIABLE_REDIS_REPLICA_ACKS",
                    if acks == 1 { "1" } else { "0" },
                ),
            ],
        );
        let api = Api(Service {
            spin,
            agent: client(),
            redis,
        });
        api.create_queued("onsale", 6000, 5);
        // The same calls on another event have Redis cache their scripts:
        // the budget is the steady state's (`EVALSHA`).
        api.create_queued("warm-up", 6000, 5);
        let warm = api.ticket("warm-up");
        let access = str_of(&api.access("warm-up", &warm)["accessToken"]);
        let warm_hold = api.hold("warm-up", Some(&access), json!({ "seats": ["A-1"] }));
        assert_eq!(warm_hold.status, 201);
        let monitor = RedisMonitor::start(&api.redis);
        let change: &[&str] = if acks == 0 {
            &["EVALSHA"]
        } else {
            &["EVALSHA", "WAIT"]
        };
        let expect = |what: &str, cost: &RedisCost, commands: &[&str]| {
            assert_eq!(cost.connections, 1, "{what}: one connection: {cost:?}");
            assert_eq!(cost.sent, [commands], "{what}, acks {acks}: {cost:?}");
        };

        let (joined, cost) = monitor.cost_of(&api.redis, || api.join("onsale"));
        assert_eq!(joined.status, 201);
        expect("join", &cost, change);
        let ticket = (
            str_of(&joined.json()["ticketId"]),
            str_of(&joined.json()["ticketToken"]),
        );
        let (polled, cost) = monitor.cost_of(&api.redis, || api.poll("onsale", &ticket));
        assert_eq!(polled.json()["admitted"], true);
        expect("poll", &cost, &["EVALSHA"]);
        let token = str_of(&polled.json()["accessToken"]);

        let (held, cost) = monitor.cost_of(&api.redis, || {
            api.hold("onsale", Some(&token), json!({ "seats": ["A-1", "A-2"] }))
        });
        assert_eq!(held.status, 201);
        expect("hold with an access token", &cost, change);
        let (refused, cost) = monitor.cost_of(&api.redis, || {
            api.hold("onsale", None, json!({ "seats": ["A-3"] }))
        });
        assert_eq!(refused.status, 403);
        expect("hold refused for want of access", &cost, &["EVALSHA"]);
    }
}
