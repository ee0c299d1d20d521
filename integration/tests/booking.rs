//! `POST /api/book/{seatId}` end to end: the built component under real
//! `spin up`, a real redis-server, real HTTP.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::Duration;

use integration::{post, raw, send, RedisCounters, RedisMonitor, RedisServer, Service, Spin};
use redis::Commands;

const DEFAULT_BOOKINGS: &str = "bookings:{default}";

fn lock_key(seat: &str) -> String {
    format!("lock:seat:{{default}}:{seat}")
}

#[test]
fn first_caller_books_then_everyone_gets_seat_booked() {
    let redis = RedisServer::start();
    let spin = Spin::start(&redis);

    let first = post(&spin.url("/api/book/1"));
    assert_eq!(
        first.status,
        201,
        "{}",
        String::from_utf8_lossy(&first.body)
    );
    assert_eq!(first.header("content-type"), Some("application/json"));
    let body = first.json();
    assert_eq!(body["seatId"], "1");
    assert_eq!(body["eventId"], "default");
    assert_eq!(body["status"], "booked");
    let booking_id = body["bookingId"].as_str().expect("bookingId").to_owned();
    assert_eq!(
        first.header("location"),
        Some(format!("/api/events/default/bookings/{booking_id}").as_str())
    );

    let again = post(&spin.url("/api/book/1"));
    again.assert_problem(409, "seat_booked");
    assert_eq!(again.json()["seatId"], "1");

    let mut r = redis.client();
    let stored: String = r.get(lock_key("1")).unwrap();
    assert_eq!(stored, format!("booked:{booking_id}"));
    let ttl: i64 = r.ttl(lock_key("1")).unwrap();
    assert_eq!(ttl, -1, "a sold seat's marker never expires");
    let seats: String = r
        .hget(format!("booking:{{default}}:{booking_id}"), "seats")
        .unwrap();
    assert_eq!(seats, "1");
}

#[test]
fn sixty_four_clients_racing_for_one_seat_get_exactly_one_booking() {
    let redis = RedisServer::start();
    let spin = Arc::new(Spin::start(&redis));
    let clients = 64;
    let barrier = Arc::new(Barrier::new(clients));
    let answers: Vec<_> = (0..clients)
        .map(|_| {
            let (spin, barrier) = (spin.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                post(&spin.url("/api/book/42"))
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();

    let created: Vec<_> = answers.iter().filter(|a| a.status == 201).collect();
    assert_eq!(created.len(), 1, "exactly one winner");
    for loser in answers.iter().filter(|a| a.status != 201) {
        assert_eq!(loser.status, 409);
        let code = loser.json()["code"].as_str().unwrap().to_owned();
        assert!(code == "seat_booked" || code == "seat_locked", "{code}");
    }
    let winner_id = created[0].json()["bookingId"].as_str().unwrap().to_owned();
    let mut r = redis.client();
    let stored: HashSet<String> = r.smembers(DEFAULT_BOOKINGS).unwrap();
    assert_eq!(stored, HashSet::from([winner_id.clone()]));
    let marker: String = r.get(lock_key("42")).unwrap();
    assert_eq!(marker, format!("booked:{winner_id}"));
}

/// Two `spin up` instances on one Redis, as a scaled-out deployment runs:
/// clients spread over both race for one seat, and Redis alone decides.
#[test]
fn clients_racing_through_two_spin_instances_get_exactly_one_booking() {
    let redis = RedisServer::start();
    let instances = Arc::new([Spin::start(&redis), Spin::start(&redis)]);
    let clients = 32;
    let barrier = Arc::new(Barrier::new(clients));
    let answers: Vec<_> = (0..clients)
        .map(|c| {
            let (instances, barrier) = (instances.clone(), barrier.clone());
            thread::spawn(move || {
                let url = instances[c % 2].url("/api/book/twin");
                barrier.wait();
                (c % 2, post(&url))
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();

    let created: Vec<_> = answers.iter().filter(|(_, a)| a.status == 201).collect();
    assert_eq!(created.len(), 1, "exactly one winner over both instances");
    for (instance, loser) in answers.iter().filter(|(_, a)| a.status != 201) {
        assert_eq!(loser.status, 409, "instance {instance}");
        let code = loser.json()["code"].as_str().unwrap().to_owned();
        assert!(
            code == "seat_booked" || code == "seat_locked",
            "instance {instance}: {code}"
        );
    }
    let winner_id = created[0].1.json()["bookingId"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut r = redis.client();
    let stored: HashSet<String> = r.smembers(DEFAULT_BOOKINGS).unwrap();
    assert_eq!(stored, HashSet::from([winner_id.clone()]));
    // The loser instance sees the winner's booking too: the state is Redis.
    for spin in instances.iter() {
        post(&spin.url("/api/book/twin")).assert_problem(409, "seat_booked");
    }
}

#[test]
fn two_thousand_requests_over_two_hundred_seats_book_each_seat_once() {
    let redis = RedisServer::start();
    let spin = Arc::new(Spin::start(&redis));
    let (clients, requests, seats) = (32, 2000, 200);
    let created = Arc::new(Mutex::new(HashMap::<String, Vec<String>>::new()));
    let others = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..clients)
        .map(|c| {
            let (spin, created, others) = (spin.clone(), created.clone(), others.clone());
            thread::spawn(move || {
                let agent = integration::client();
                for i in (c..requests).step_by(clients) {
                    let seat = format!("S{}", i % seats);
                    let a = send(
                        &agent,
                        "POST",
                        &spin.url(&format!("/api/book/{seat}")),
                        None,
                    );
                    if a.status == 201 {
                        let id = a.json()["bookingId"].as_str().unwrap().to_owned();
                        created.lock().unwrap().entry(seat).or_default().push(id);
                    } else {
                        others.lock().unwrap().push(a.status);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }

    let created = created.lock().unwrap();
    assert_eq!(created.len(), seats, "every seat booked");
    assert!(created.values().all(|ids| ids.len() == 1), "no seat twice");
    let others = others.lock().unwrap();
    assert_eq!(others.len(), requests - seats);
    assert!(
        others.iter().all(|&s| s == 409),
        "only 409s besides the 201s"
    );

    let answered: HashSet<String> = created.values().flatten().cloned().collect();
    let mut r = redis.client();
    let stored: HashSet<String> = r.smembers(DEFAULT_BOOKINGS).unwrap();
    assert_eq!(stored, answered, "stored bookings are exactly the 201s");
    for (seat, ids) in created.iter() {
        let marker: String = r.get(lock_key(seat)).unwrap();
        assert_eq!(marker, format!("booked:{}", ids[0]));
    }
}

#[test]
fn a_crashed_callers_lock_blocks_the_seat_until_its_ttl_passes() {
    let redis = RedisServer::start();
    let spin = Spin::start(&redis);
    let mut r = redis.client();
    let _: () = redis::cmd("SET")
        .arg(lock_key("7"))
        .arg("token-of-a-crashed-caller")
        .arg("PX")
        .arg(1500)
        .query(&mut r)
        .unwrap();

    post(&spin.url("/api/book/7")).assert_problem(409, "seat_locked");
    let stored: HashSet<String> = r.smembers(DEFAULT_BOOKINGS).unwrap();
    assert!(stored.is_empty());

    integration::wait_until(Duration::from_secs(5), "the crashed lock to expire", || {
        !r.exists::<_, bool>(lock_key("7")).unwrap()
    });
    let after = post(&spin.url("/api/book/7"));
    assert_eq!(after.status, 201);
}

#[test]
fn bad_seat_ids_get_400_and_never_reach_redis() {
    let redis = RedisServer::start();
    let spin = Spin::start(&redis);
    let mut r = redis.client();
    let before = RedisCounters::read(&mut r);

    let long = format!("/api/book/{}", "7".repeat(200));
    let targets: Vec<&[u8]> = vec![
        b"/api/book/",
        long.as_bytes(),
        b"/api/book/*",
        b"/api/book/a%20b",
        b"/api/book/..%2Fx",
        b"/api/book/%FF",
        b"/api/book/%C3%28",
        b"/api/book/{default}",
        b"/api/book/a}",
        b"/api/book/%7Bx%7D",
        b"/api/book/seat%",
    ];
    for target in targets {
        let answer = raw(spin.addr, "POST", target);
        assert_eq!(
            answer.status,
            400,
            "{} -> {}",
            String::from_utf8_lossy(target),
            String::from_utf8_lossy(&answer.body)
        );
        answer.assert_problem(400, "invalid_seat_id");
        assert!(!answer.json()["detail"].as_str().unwrap().is_empty());
    }
    // A path with dot segments never reaches a handler.
    raw(spin.addr, "POST", b"/api/book/../x").assert_problem(400, "invalid_path");
    // A raw space is not valid HTTP: the server refuses the request line
    // before any component runs (Spin's HTTP layer does the same).
    assert_eq!(raw(spin.addr, "POST", b"/api/book/a b").status, 400);

    let (calls, connections) = RedisCounters::read(&mut r).since(&before);
    assert!(calls.is_empty(), "no Redis command ran: {calls:?}");
    assert_eq!(connections, 0, "no Redis connection was opened");
    let keys: Vec<String> = r.keys("*").unwrap();
    assert!(keys.is_empty(), "{keys:?}");
}

/// The round-trip budget that makes the service fast on Spin, counted by
/// Redis itself: one connection (Spin opens one per `open`), then one `SET`
/// and one `EVALSHA` for a booking; one `SET` alone for a seat already sold
/// or locked. That is the steady state, with the script in Redis's cache; a
/// booking that finds the cache empty adds one `EVAL` (`reliability.rs`).
#[test]
fn one_booking_costs_one_connection_one_set_and_one_evalsha() {
    // With redis_replica_acks=1 a booking adds exactly one WAIT; a refusal
    // writes nothing and waits for nothing.
    for acks in ["0", "1"] {
        let redis = RedisServer::start();
        let _replica = (acks == "1").then(|| redis.start_replica());
        let spin = Spin::start_on(&redis, &[("SPIN_VARIABLE_REDIS_REPLICA_ACKS", acks)]);
        let mut r = redis.client();
        let _: () = r.set_ex(lock_key("B2"), "someone-else", 30).unwrap();
        // A first booking has Redis cache the script.
        assert_eq!(post(&spin.url("/api/book/B0")).status, 201);
        let monitor = RedisMonitor::start(&redis);

        let booked = if acks == "1" {
            vec!["SET", "EVALSHA", "WAIT"]
        } else {
            vec!["SET", "EVALSHA"]
        };
        let cases = [
            ("B1", 201, booked),
            ("B1", 409, vec!["SET"]),
            ("B2", 409, vec!["SET"]),
        ];
        for (seat, status, commands) in cases {
            let (answer, cost) =
                monitor.cost_of(&redis, || post(&spin.url(&format!("/api/book/{seat}"))));
            assert_eq!(answer.status, status, "seat {seat}, acks {acks}");
            assert_eq!(cost.connections, 1, "one connection per request: {cost:?}");
            assert_eq!(
                cost.sent,
                [commands],
                "seat {seat}, acks {acks}: the round trips"
            );
        }
    }
}

/// When the default event was given a seat map, the seed's endpoint books
/// only seats on it and marks them sold there: the lean script answers
/// `mapped` without writing, and `book_seat_full` commits with the lock
/// still held. That costs this rare case one more `EVALSHA` (none with an
/// Idempotency-Key, which runs `book_seat_full` first); an unknown seat is
/// refused and its lock let go at once.
#[test]
fn the_default_event_with_a_map_books_only_its_seats_and_marks_them() {
    let service = Service::start();
    service.create_event("default", &[("A", 3)]);
    let mut r = service.redis.client();
    let book = |seat: &str| post(&service.spin.url(&format!("/api/book/{seat}")));
    // A first booking has Redis cache both scripts.
    assert_eq!(book("A-3").status, 201);
    let monitor = RedisMonitor::start(&service.redis);

    let (booked, cost) = monitor.cost_of(&service.redis, || book("A-1"));
    assert_eq!(
        booked.status,
        201,
        "{}",
        String::from_utf8_lossy(&booked.body)
    );
    assert_eq!(cost.sent, [vec!["SET", "EVALSHA", "EVALSHA"]]);
    let booking_id = booked.json()["bookingId"].as_str().unwrap().to_owned();
    assert_eq!(
        r.get::<_, String>(lock_key("A-1")).unwrap(),
        format!("booked:{booking_id}")
    );
    assert_eq!(r.hget::<_, _, String>("map:{default}", "A").unwrap(), "bab");
    assert!(r
        .sismember::<_, _, bool>(DEFAULT_BOOKINGS, &booking_id)
        .unwrap());

    let unknown = book("B-1");
    unknown.assert_problem(400, "unknown_seats");
    assert!(
        !r.exists::<_, bool>(lock_key("B-1")).unwrap(),
        "the lock is let go"
    );
    book("A-1").assert_problem(409, "seat_booked");
    assert_eq!(r.scard::<_, u64>(DEFAULT_BOOKINGS).unwrap(), 2);

    // With an Idempotency-Key the full script commits at once, its answer
    // stored with the booking: one EVALSHA, the map marked, a retry replayed.
    let key = [("idempotency-key", "0d4c8b2a-6e1f-4a3b-8c7d-9e5f1a2b3c4d")];
    let keyed = || service.send("POST", "/api/book/A-2", &key, None);
    let (first, cost) = monitor.cost_of(&service.redis, keyed);
    assert_eq!(
        first.status,
        201,
        "{}",
        String::from_utf8_lossy(&first.body)
    );
    assert_eq!(cost.sent, [vec!["SET", "EVALSHA"]]);
    assert_eq!(r.hget::<_, _, String>("map:{default}", "A").unwrap(), "bbb");
    let retry = keyed();
    assert_eq!(retry.status, 201);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.body, first.body);
    assert_eq!(r.scard::<_, u64>(DEFAULT_BOOKINGS).unwrap(), 3);
}

/// The replica settings are checked when the store opens, before anything
/// is written: a deployment with a bad `redis_replica_acks` or timeout
/// books nothing and says what is wrong, without the Redis address.
#[test]
fn bad_replica_settings_are_refused_before_any_write() {
    let redis = RedisServer::start();
    for (acks, timeout) in [("many", "500"), ("1", "0"), ("17", "500"), ("1", "2000")] {
        let spin = Spin::start_on(
            &redis,
            &[
                ("SPIN_VARIABLE_REDIS_REPLICA_ACKS", acks),
                ("SPIN_VARIABLE_REDIS_REPLICA_ACK_TIMEOUT_MS", timeout),
            ],
        );
        let answer = post(&spin.url("/api/book/M1"));
        assert_eq!(answer.status, 500, "acks {acks}, timeout {timeout}");
        let problem = answer.json();
        assert_eq!(problem["code"], "misconfigured");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains("redis_replica_ack"), "{detail}");
        assert!(!detail.contains("redis://"), "{detail}");
        let keys: Vec<String> = redis.client().keys("*").unwrap();
        assert!(
            keys.is_empty(),
            "acks {acks}, timeout {timeout}: wrote {keys:?}"
        );
    }
}

#[test]
fn unknown_routes_and_methods_get_problem_answers() {
    let redis = RedisServer::start();
    let spin = Spin::start(&redis);
    integration::get(&spin.url("/nope")).assert_problem(404, "not_found");
    let wrong = integration::get(&spin.url("/api/book/1"));
    wrong.assert_problem(405, "method_not_allowed");
    assert_eq!(wrong.header("allow"), Some("POST"));
    let health = integration::get(&spin.url("/health"));
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["redis"], "ok");
}
