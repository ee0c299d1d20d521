//! Events, seat maps, holds, best available, bookings and idempotency, end
//! to end: the built component under real `spin up`, a real redis-server,
//! real HTTP.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use integration::{
    client, send_with, wait_until, Answer, RedisCost, RedisMonitor, RedisServer, Service, Spin,
    ADMIN_TOKEN,
};
use redis::Commands;
use serde_json::{json, Value};

// A running service with helpers for the API.
integration::service_api!(Api);

impl Api {
    fn start() -> Api {
        Api(Service::start())
    }

    /// A service whose Redis has one replica, with `redis_replica_acks` = 1.
    fn start_replicated() -> (Api, RedisServer) {
        let redis = RedisServer::start();
        let replica = redis.start_replica();
        let spin = Spin::start_on(&redis, &[("SPIN_VARIABLE_REDIS_REPLICA_ACKS", "1")]);
        let api = Api(Service {
            spin,
            agent: client(),
            redis,
        });
        (api, replica)
    }

    fn post(&self, path: &str, body: &Value) -> Answer {
        self.send("POST", path, &[], Some(body))
    }

    fn with_token(&self, method: &str, path: &str, token: &str, body: Option<&Value>) -> Answer {
        let auth = format!("Bearer {token}");
        self.send(method, path, &[("authorization", &auth)], body)
    }

    fn hold(&self, event: &str, body: Value) -> Answer {
        self.post(&format!("/api/events/{event}/holds"), &body)
    }

    fn states(&self, event: &str) -> HashMap<String, char> {
        let map = self.send("GET", &format!("/api/events/{event}/seats"), &[], None);
        assert_eq!(map.status, 200, "{}", text(&map));
        let mut states = HashMap::new();
        for row in map.json()["rows"].as_array().unwrap() {
            let label = row["label"].as_str().unwrap();
            for (i, c) in row["states"].as_str().unwrap().chars().enumerate() {
                states.insert(format!("{label}-{}", i + 1), c);
            }
        }
        states
    }
}

fn text(a: &Answer) -> String {
    String::from_utf8_lossy(&a.body).into_owned()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn events_are_created_by_the_admin_only_and_read_by_anyone() {
    let api = Api::start();
    let body = json!({ "id": "gala", "name": "Gala", "rows": [{"label": "A", "seats": 3}] });
    let missing = api.post("/api/events", &body);
    missing.assert_problem(401, "unauthorized");
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));
    api.with_token("POST", "/api/events", "wrong", Some(&body))
        .assert_problem(403, "forbidden");

    let created = api.with_token("POST", "/api/events", ADMIN_TOKEN, Some(&body));
    assert_eq!(created.status, 201);
    assert_eq!(created.header("location"), Some("/api/events/gala"));
    assert_eq!(created.json()["seatCount"], 3);
    api.with_token("POST", "/api/events", ADMIN_TOKEN, Some(&body))
        .assert_problem(409, "event_exists");

    let event = api.send("GET", "/api/events/gala", &[], None);
    assert_eq!(event.status, 200);
    let e = event.json();
    assert_eq!(
        (e["name"].as_str(), e["seatCount"].as_u64()),
        (Some("Gala"), Some(3))
    );
    assert_eq!(
        (
            e["available"].as_u64(),
            e["held"].as_u64(),
            e["booked"].as_u64()
        ),
        (Some(3), Some(0), Some(0))
    );
    api.send("GET", "/api/events/nope", &[], None)
        .assert_problem(404, "event_not_found");
    api.send("GET", "/api/events/%7Bx%7D", &[], None)
        .assert_problem(400, "invalid_event_id");

    for bad in [
        json!({ "id": "e2", "name": "x", "rows": [] }),
        json!({ "id": "e2", "name": "x", "rows": [{"label": "A", "seats": 0}] }),
        json!({ "id": "e2", "name": "x", "rows": [{"label": "A", "seats": 1}, {"label": "A", "seats": 1}] }),
        json!({ "id": "e2", "name": "x", "rows": [{"label": "A-1", "seats": 1}] }),
        json!({ "id": "e2", "name": "x", "rows": [{"label": "A", "seats": 100001}] }),
    ] {
        api.with_token("POST", "/api/events", ADMIN_TOKEN, Some(&bad))
            .assert_problem(400, "invalid_seat_map");
    }
    let unknown_field =
        json!({ "id": "e2", "name": "x", "rows": [{"label": "A", "seats": 1}], "x": 1 });
    api.with_token("POST", "/api/events", ADMIN_TOKEN, Some(&unknown_field))
        .assert_problem(400, "invalid_body");
}

#[test]
fn hold_then_confirm_books_the_seats_and_the_booking_is_read_and_cancelled_with_its_token() {
    let api = Api::start();
    api.create_event("gala", &[("A", 10), ("B", 10)]);

    let held = api.hold("gala", json!({ "seats": ["A-1", "A-2"], "ttlSeconds": 60 }));
    assert_eq!(held.status, 201, "{}", text(&held));
    let h = held.json();
    let hold_id = h["holdId"].as_str().unwrap().to_owned();
    let hold_token = h["holdToken"].as_str().unwrap().to_owned();
    assert_eq!(strings(&h["seats"]), ["A-1", "A-2"]);
    assert_eq!(hold_token.len(), 32);
    assert!(h["expiresAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        held.header("location"),
        None,
        "a hold has no GET to point at"
    );
    let states = api.states("gala");
    assert_eq!(
        (states["A-1"], states["A-2"], states["A-3"]),
        ('h', 'h', 'a')
    );

    // The token never rests in Redis: only its hash.
    let mut r = api.redis.client();
    let keys: Vec<String> = r.keys("*").unwrap();
    for key in &keys {
        let dump: Vec<u8> = redis::cmd("DUMP").arg(key).query(&mut r).unwrap();
        assert!(
            !String::from_utf8_lossy(&dump).contains(&hold_token),
            "{key}"
        );
    }

    let confirm = format!("/api/events/gala/holds/{hold_id}/confirm");
    api.send("POST", &confirm, &[], None)
        .assert_problem(401, "unauthorized");
    let mut wrong = hold_token.clone();
    wrong.replace_range(31.., if hold_token.ends_with('0') { "1" } else { "0" });
    api.with_token("POST", &confirm, &wrong, None)
        .assert_problem(403, "forbidden");

    let booked = api.with_token("POST", &confirm, &hold_token, None);
    assert_eq!(booked.status, 201, "{}", text(&booked));
    let b = booked.json();
    assert_eq!(strings(&b["seats"]), ["A-1", "A-2"]);
    assert_eq!(b["holdId"], hold_id.as_str());
    let booking_id = b["bookingId"].as_str().unwrap().to_owned();
    let booking_token = b["bookingToken"].as_str().unwrap().to_owned();
    let states = api.states("gala");
    assert_eq!((states["A-1"], states["A-2"]), ('b', 'b'));
    api.with_token("POST", &confirm, &hold_token, None)
        .assert_problem(409, "hold_confirmed");

    let path = format!("/api/events/gala/bookings/{booking_id}");
    let read = api.with_token("GET", &path, &booking_token, None);
    assert_eq!(read.status, 200);
    assert_eq!(read.json()["status"], "booked");
    assert_eq!(strings(&read.json()["seats"]), ["A-1", "A-2"]);
    api.with_token("GET", &path, &hold_token, None)
        .assert_problem(403, "forbidden");
    api.with_token(
        "GET",
        "/api/events/gala/bookings/00000000-0000-4000-8000-000000000000",
        &booking_token,
        None,
    )
    .assert_problem(404, "booking_not_found");
    api.with_token("DELETE", &path, &wrong, None)
        .assert_problem(403, "forbidden");

    assert_eq!(
        api.with_token("DELETE", &path, &booking_token, None).status,
        204
    );
    let states = api.states("gala");
    assert_eq!((states["A-1"], states["A-2"]), ('a', 'a'));
    assert_eq!(
        api.with_token("GET", &path, &booking_token, None).json()["status"],
        "cancelled"
    );
    let again = api.hold("gala", json!({ "seats": ["A-1"] }));
    assert_eq!(again.status, 201, "cancelled seats can be held again");
}

#[test]
fn an_expired_hold_frees_its_seats_by_itself_and_cannot_be_confirmed() {
    let api = Api::start();
    api.create_event("gala", &[("A", 4)]);
    let held = api.hold("gala", json!({ "seats": ["A-2", "A-3"], "ttlSeconds": 1 }));
    assert_eq!(held.status, 201);
    let (hold_id, token) = (
        held.json()["holdId"].as_str().unwrap().to_owned(),
        held.json()["holdToken"].as_str().unwrap().to_owned(),
    );
    assert_eq!(api.states("gala")["A-2"], 'h');

    wait_until(Duration::from_secs(5), "the hold to expire", || {
        api.states("gala")["A-2"] == 'a'
    });
    assert_eq!(api.states("gala")["A-3"], 'a');
    let confirm = format!("/api/events/gala/holds/{hold_id}/confirm");
    api.with_token("POST", &confirm, &token, None)
        .assert_problem(410, "hold_expired");
    let retaken = api.hold("gala", json!({ "seats": ["A-2", "A-3"] }));
    assert_eq!(retaken.status, 201, "expired seats are free for others");
    // The old hold's token still cannot write, even now that others hold the seats.
    api.with_token("POST", &confirm, &token, None)
        .assert_problem(410, "hold_expired");
}

#[test]
fn releasing_a_hold_frees_its_seats_at_once() {
    let api = Api::start();
    api.create_event("gala", &[("A", 4)]);
    let held = api.hold("gala", json!({ "seats": ["A-1", "A-2"] }));
    let (hold_id, token) = (
        held.json()["holdId"].as_str().unwrap().to_owned(),
        held.json()["holdToken"].as_str().unwrap().to_owned(),
    );
    let path = format!("/api/events/gala/holds/{hold_id}");
    api.with_token("DELETE", &path, "0123456789abcdef0123456789abcdef", None)
        .assert_problem(403, "forbidden");
    assert_eq!(api.with_token("DELETE", &path, &token, None).status, 204);
    let states = api.states("gala");
    assert_eq!((states["A-1"], states["A-2"]), ('a', 'a'));
    api.with_token("POST", &format!("{path}/confirm"), &token, None)
        .assert_problem(409, "hold_released");
    api.with_token("DELETE", "/api/events/gala/holds/not-a-uuid", &token, None)
        .assert_problem(404, "hold_not_found");
}

#[test]
fn holds_are_all_or_nothing_and_name_the_taken_seats() {
    let api = Api::start();
    api.create_event("gala", &[("A", 5)]);
    assert_eq!(api.hold("gala", json!({ "seats": ["A-2"] })).status, 201);
    let clash = api.hold("gala", json!({ "seats": ["A-1", "A-2", "A-3"] }));
    clash.assert_problem(409, "seats_taken");
    assert_eq!(strings(&clash.json()["seats"]), ["A-2"]);
    let states = api.states("gala");
    assert_eq!(
        (states["A-1"], states["A-3"]),
        ('a', 'a'),
        "nothing partial"
    );

    let unknown = api.hold("gala", json!({ "seats": ["A-1", "A-6", "Z-1", "A-01"] }));
    unknown.assert_problem(400, "unknown_seats");
    assert_eq!(strings(&unknown.json()["seats"]), ["A-6", "Z-1", "A-01"]);
    api.hold("gala", json!({ "seats": ["A-1", "A-1"] }))
        .assert_problem(400, "invalid_body");
    api.hold("gala", json!({ "seats": ["A-1"], "ttlSeconds": 0 }))
        .assert_problem(400, "invalid_body");
    api.hold("gala", json!({ "seats": ["A-1"], "ttlSeconds": 3601 }))
        .assert_problem(400, "invalid_body");
    api.hold(
        "gala",
        json!({ "seats": ["A-1"], "bestAvailable": {"count": 1} }),
    )
    .assert_problem(400, "invalid_body");
    api.hold("nope", json!({ "seats": ["A-1"] }))
        .assert_problem(404, "event_not_found");
    let wrong_type = api.send(
        "POST",
        "/api/events/gala/holds",
        &[("content-type", "text/plain")],
        None,
    );
    wrong_type.assert_problem(415, "unsupported_media_type");
}

#[test]
fn best_available_picks_front_rows_first_and_packs_them() {
    let api = Api::start();
    api.create_event("hall", &[("A", 10), ("B", 10)]);
    let first = api.hold(
        "hall",
        json!({ "bestAvailable": { "count": 4, "adjacent": true } }),
    );
    assert_eq!(
        strings(&first.json()["seats"]),
        ["A-3", "A-4", "A-5", "A-6"],
        "near the middle, leaving 2 and 4 seats rather than 3 and 3"
    );
    let second = api.hold("hall", json!({ "bestAvailable": { "count": 4 } }));
    assert_eq!(
        strings(&second.json()["seats"]),
        ["A-7", "A-8", "A-9", "A-10"],
        "row A's run of 4 fits exactly"
    );
    let singles = api.hold(
        "hall",
        json!({ "bestAvailable": { "count": 3, "adjacent": false } }),
    );
    assert_eq!(
        strings(&singles.json()["seats"]),
        ["A-2", "A-1", "B-5"],
        "A-1 is not left alone"
    );
    let five = api.hold("hall", json!({ "bestAvailable": { "count": 5 } }));
    assert_eq!(
        strings(&five.json()["seats"]),
        ["B-6", "B-7", "B-8", "B-9", "B-10"]
    );
    api.hold("hall", json!({ "bestAvailable": { "count": 5 } }))
        .assert_problem(409, "seats_unavailable");
}

#[test]
fn fifty_buyers_asking_for_best_four_at_once_never_share_a_seat() {
    let api = Arc::new(Api::start());
    // 200 seats: 10 rows of 20, room for exactly 50 blocks of 4.
    let rows: Vec<(String, u32)> = (0..10).map(|i| (format!("R{i}"), 20)).collect();
    let rows: Vec<(&str, u32)> = rows.iter().map(|(l, n)| (l.as_str(), *n)).collect();
    api.create_event("drop", &rows);
    let barrier = Arc::new(Barrier::new(50));
    let answers: Vec<Answer> = (0..50)
        .map(|_| {
            let (api, barrier) = (api.clone(), barrier.clone());
            thread::spawn(move || {
                let agent = client();
                barrier.wait();
                let body = json!({ "bestAvailable": { "count": 4, "adjacent": true } }).to_string();
                send_with(
                    &agent,
                    "POST",
                    &api.spin.url("/api/events/drop/holds"),
                    &[("content-type", "application/json")],
                    Some(body.as_bytes()),
                )
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();

    let mut seen = HashSet::new();
    for a in &answers {
        assert_eq!(a.status, 201, "{}", text(a));
        let seats = strings(&a.json()["seats"]);
        assert_eq!(seats.len(), 4);
        let parsed: Vec<(String, u32)> = seats
            .iter()
            .map(|s| {
                let (row, n) = s.rsplit_once('-').unwrap();
                (row.to_owned(), n.parse().unwrap())
            })
            .collect();
        assert!(
            parsed.iter().all(|(row, _)| *row == parsed[0].0),
            "one row: {seats:?}"
        );
        assert!(
            parsed.windows(2).all(|w| w[1].1 == w[0].1 + 1),
            "adjacent: {seats:?}"
        );
        for seat in seats {
            assert!(seen.insert(seat.clone()), "{seat} held twice");
        }
    }
    assert_eq!(seen.len(), 200);
    assert!(api.states("drop").values().all(|&s| s == 'h'));
}

#[test]
fn a_hundred_overlapping_multi_seat_bookings_sell_each_seat_once() {
    let api = Arc::new(Api::start());
    api.create_event("gig", &[("A", 30)]);
    let barrier = Arc::new(Barrier::new(100));
    let answers: Vec<(Vec<String>, Answer)> = (0..100)
        .map(|i| {
            let (api, barrier) = (api.clone(), barrier.clone());
            thread::spawn(move || {
                let first = i % 28 + 1;
                let seats: Vec<String> = (first..first + 3).map(|n| format!("A-{n}")).collect();
                let body = json!({ "seats": seats }).to_string();
                let agent = client();
                barrier.wait();
                let a = send_with(
                    &agent,
                    "POST",
                    &api.spin.url("/api/events/gig/bookings"),
                    &[("content-type", "application/json")],
                    Some(body.as_bytes()),
                );
                (seats, a)
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();

    let mut r = api.redis.client();
    let mut sold = HashMap::new();
    let mut booked = 0;
    for (seats, a) in answers.iter().filter(|(_, a)| a.status == 201) {
        booked += 1;
        let id = a.json()["bookingId"].as_str().unwrap().to_owned();
        assert_eq!(&strings(&a.json()["seats"]), seats);
        for seat in seats {
            assert!(
                sold.insert(seat.clone(), id.clone()).is_none(),
                "{seat} sold twice"
            );
            let marker: String = r.get(format!("lock:seat:{{gig}}:{seat}")).unwrap();
            assert_eq!(
                marker,
                format!("booked:{id}"),
                "the whole booking is stored"
            );
        }
    }
    for (seats, a) in answers.iter().filter(|(_, a)| a.status != 201) {
        a.assert_problem(409, "seats_taken");
        let taken = strings(&a.json()["seats"]);
        assert!(!taken.is_empty());
        for seat in &taken {
            assert!(
                seats.contains(seat) && sold.contains_key(seat),
                "refused for a seat really sold: {seat}"
            );
        }
    }
    assert!(booked > 0);
    let stored: HashSet<String> = r.smembers("bookings:{gig}").unwrap();
    assert_eq!(stored.len(), booked, "every 201 is stored, nothing else");
    let states = api.states("gig");
    assert_eq!(states.values().filter(|&&s| s == 'b').count(), sold.len());
}

#[test]
fn the_same_idempotency_key_sent_twenty_times_at_once_books_once() {
    let api = Arc::new(Api::start());
    api.create_event("gig", &[("A", 10)]);
    let barrier = Arc::new(Barrier::new(20));
    let body = json!({ "seats": ["A-4", "A-5"] }).to_string();
    let answers: Vec<Answer> = (0..20)
        .map(|_| {
            let (api, barrier, body) = (api.clone(), barrier.clone(), body.clone());
            thread::spawn(move || {
                let agent = client();
                barrier.wait();
                send_with(
                    &agent,
                    "POST",
                    &api.spin.url("/api/events/gig/bookings"),
                    &[
                        ("content-type", "application/json"),
                        ("idempotency-key", "8b1f3c2d-7e4a-4b9c-a6d5-2f0e1c8b7a93"),
                    ],
                    Some(body.as_bytes()),
                )
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();

    for a in &answers {
        assert_eq!(a.status, 201, "{}", text(a));
        assert_eq!(a.body, answers[0].body, "byte for byte the same answer");
        assert_eq!(a.header("location"), answers[0].header("location"));
    }
    let replayed = answers
        .iter()
        .filter(|a| a.header("idempotent-replayed") == Some("true"))
        .count();
    assert_eq!(replayed, 19);
    let mut r = api.redis.client();
    assert_eq!(r.scard::<_, u64>("bookings:{gig}").unwrap(), 1);

    // The replayed token is the real one: it reads the booking.
    let b = answers[0].json();
    let path = format!(
        "/api/events/gig/bookings/{}",
        b["bookingId"].as_str().unwrap()
    );
    assert_eq!(
        api.with_token("GET", &path, b["bookingToken"].as_str().unwrap(), None)
            .status,
        200
    );

    let other = api.send(
        "POST",
        "/api/events/gig/bookings",
        &[("idempotency-key", "8b1f3c2d-7e4a-4b9c-a6d5-2f0e1c8b7a93")],
        Some(&json!({ "seats": ["A-6"] })),
    );
    other.assert_problem(422, "idempotency_key_reused");
    assert_eq!(api.states("gig")["A-6"], 'a');
}

#[test]
fn a_replayed_hold_returns_the_same_working_token() {
    let api = Api::start();
    api.create_event("gig", &[("A", 10)]);
    let headers = [("idempotency-key", "3c9e0d8a-5b7f-4e2c-9a1d-8f6b4c2e0a17")];
    let body = json!({ "bestAvailable": { "count": 2 } });
    let first = api.send("POST", "/api/events/gig/holds", &headers, Some(&body));
    let again = api.send("POST", "/api/events/gig/holds", &headers, Some(&body));
    assert_eq!(first.status, 201);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let h = again.json();
    let confirm = format!(
        "/api/events/gig/holds/{}/confirm",
        h["holdId"].as_str().unwrap()
    );
    let booked = api.with_token("POST", &confirm, h["holdToken"].as_str().unwrap(), None);
    assert_eq!(booked.status, 201);
    assert_eq!(api.states("gig").values().filter(|&&s| s == 'b').count(), 2);
}

/// Hold, confirm, release and direct booking each take one connection and
/// one script call (`EVALSHA`), whatever the number of seats; the seat map
/// too. Counted by Redis itself (see `RedisMonitor::cost_of`), in the
/// steady state: with the scripts in Redis's cache.
#[test]
fn every_operation_costs_one_round_trip_after_open() {
    // With redis_replica_acks=1 each state change adds exactly one WAIT on
    // the same connection; the seat map, a read, adds nothing.
    let (replicated, _replica) = Api::start_replicated();
    for (api, acks) in [(&Api::start(), 0), (&replicated, 1)] {
        operation_costs(api, acks);
    }
}

/// Runs each operation of [`operation_costs`] once, on an event of its
/// own, so that Redis has their scripts cached (a call that finds a script
/// missing adds an `EVAL` of its text, see `reliability.rs`).
fn warm_script_cache(api: &Api) {
    api.create_event("warm-up", &[("A", 10)]);
    let held = api.hold("warm-up", json!({ "seats": ["A-1"] })).json();
    let confirm = format!(
        "/api/events/warm-up/holds/{}/confirm",
        held["holdId"].as_str().unwrap()
    );
    let token = held["holdToken"].as_str().unwrap();
    assert_eq!(api.with_token("POST", &confirm, token, None).status, 201);
    let best = api
        .hold("warm-up", json!({ "bestAvailable": { "count": 1 } }))
        .json();
    let release = format!(
        "/api/events/warm-up/holds/{}",
        best["holdId"].as_str().unwrap()
    );
    let token = best["holdToken"].as_str().unwrap();
    assert_eq!(api.with_token("DELETE", &release, token, None).status, 204);
    let booked = api.post("/api/events/warm-up/bookings", &json!({ "seats": ["A-9"] }));
    assert_eq!(booked.status, 201);
    api.states("warm-up");
}

/// Runs each operation once on `api` and checks its commands.
fn operation_costs(api: &Api, acks: u32) {
    api.create_event("gig", &[("A", 50)]);
    warm_script_cache(api);
    let monitor = RedisMonitor::start(&api.redis);
    let change = |what: &str, cost: &RedisCost| {
        let expected: &[&str] = if acks == 0 {
            &["EVALSHA"]
        } else {
            &["EVALSHA", "WAIT"]
        };
        assert_eq!(cost.connections, 1, "{what}: one connection: {cost:?}");
        assert_eq!(
            cost.sent,
            [expected],
            "{what}, acks {acks}: one round trip after open"
        );
    };
    let one_script = |what: &str, cost: &RedisCost| {
        assert_eq!(cost.connections, 1, "{what}: one connection: {cost:?}");
        assert_eq!(
            cost.sent,
            [["EVALSHA"]],
            "{what}: one round trip after open"
        );
    };
    let seats: Vec<String> = (1..=20).map(|n| format!("A-{n}")).collect();

    let (held, cost) = monitor.cost_of(&api.redis, || api.hold("gig", json!({ "seats": seats })));
    change("hold", &cost);
    let confirm = format!(
        "/api/events/gig/holds/{}/confirm",
        held.json()["holdId"].as_str().unwrap()
    );
    let token = held.json()["holdToken"].as_str().unwrap().to_owned();
    let (confirmed, cost) = monitor.cost_of(&api.redis, || {
        api.with_token("POST", &confirm, &token, None)
    });
    assert_eq!(confirmed.status, 201);
    change("confirm", &cost);

    let (held, cost) = monitor.cost_of(&api.redis, || {
        api.hold("gig", json!({ "bestAvailable": { "count": 4 } }))
    });
    change("best available", &cost);
    let release = format!(
        "/api/events/gig/holds/{}",
        held.json()["holdId"].as_str().unwrap()
    );
    let token = held.json()["holdToken"].as_str().unwrap().to_owned();
    let (released, cost) = monitor.cost_of(&api.redis, || {
        api.with_token("DELETE", &release, &token, None)
    });
    assert_eq!(released.status, 204);
    change("release", &cost);

    let (booked, cost) = monitor.cost_of(&api.redis, || {
        api.post(
            "/api/events/gig/bookings",
            &json!({ "seats": ["A-30", "A-31"] }),
        )
    });
    assert_eq!(booked.status, 201);
    change("direct booking", &cost);
    let (_, cost) = monitor.cost_of(&api.redis, || api.states("gig"));
    one_script("seat map", &cost);
}
