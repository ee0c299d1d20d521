//! `POST /api/book/{seatId}` end to end: the built component in the host,
//! a real redis-server, real HTTP.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::Duration;

use integration::{post, raw, send, Host, RedisCounters, RedisMonitor, RedisServer};
use redis::Commands;

const DEFAULT_BOOKINGS: &str = "bookings:{default}";

fn lock_key(seat: &str) -> String {
    format!("lock:seat:{{default}}:{seat}")
}

#[test]
fn first_caller_books_then_everyone_gets_seat_booked() {
    let redis = RedisServer::start();
    let host = Host::start(&redis);

    let first = post(&host.url("/api/book/1"));
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

    let again = post(&host.url("/api/book/1"));
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
    let host = Arc::new(Host::start(&redis));
    let clients = 64;
    let barrier = Arc::new(Barrier::new(clients));
    let answers: Vec<_> = (0..clients)
        .map(|_| {
            let (host, barrier) = (host.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                post(&host.url("/api/book/42"))
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

#[test]
fn two_thousand_requests_over_two_hundred_seats_book_each_seat_once() {
    let redis = RedisServer::start();
    let host = Arc::new(Host::start(&redis));
    let (clients, requests, seats) = (32, 2000, 200);
    let created = Arc::new(Mutex::new(HashMap::<String, Vec<String>>::new()));
    let others = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..clients)
        .map(|c| {
            let (host, created, others) = (host.clone(), created.clone(), others.clone());
            thread::spawn(move || {
                let agent = integration::client();
                for i in (c..requests).step_by(clients) {
                    let seat = format!("S{}", i % seats);
                    let a = send(
                        &agent,
                        "POST",
                        &host.url(&format!("/api/book/{seat}")),
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
    let host = Host::start(&redis);
    let mut r = redis.client();
    let _: () = redis::cmd("SET")
        .arg(lock_key("7"))
        .arg("token-of-a-crashed-caller")
        .arg("PX")
        .arg(1500)
        .query(&mut r)
        .unwrap();

    post(&host.url("/api/book/7")).assert_problem(409, "seat_locked");
    let stored: HashSet<String> = r.smembers(DEFAULT_BOOKINGS).unwrap();
    assert!(stored.is_empty());

    integration::wait_until(Duration::from_secs(5), "the crashed lock to expire", || {
        !r.exists::<_, bool>(lock_key("7")).unwrap()
    });
    let after = post(&host.url("/api/book/7"));
    assert_eq!(after.status, 201);
}

#[test]
fn bad_seat_ids_get_400_and_never_reach_redis() {
    let redis = RedisServer::start();
    let host = Host::start(&redis);
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
        let answer = raw(host.addr, "POST", target);
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
    raw(host.addr, "POST", b"/api/book/../x").assert_problem(400, "invalid_path");
    // A raw space is not valid HTTP: the server refuses the request line
    // before any component runs (Spin's HTTP layer does the same).
    assert_eq!(raw(host.addr, "POST", b"/api/book/a b").status, 400);

    let (calls, connections) = RedisCounters::read(&mut r).since(&before);
    assert!(calls.is_empty(), "no Redis command ran: {calls:?}");
    assert_eq!(connections, 0, "no Redis connection was opened");
    let keys: Vec<String> = r.keys("*").unwrap();
    assert!(keys.is_empty(), "{keys:?}");
}

/// The round-trip budget that makes the service fast on Spin: one
/// connection, one `SET` and one `EVAL` for a booking; one `SET` alone for
/// a seat already sold or locked; and one variable lookup.
#[test]
fn one_booking_costs_one_connection_one_set_and_one_eval() {
    let redis = RedisServer::start();
    let host = Host::start_traced(&redis);
    let mut r = redis.client();
    let _: () = r.set_ex(lock_key("B2"), "someone-else", 30).unwrap();
    let monitor = RedisMonitor::start(&redis);

    let cases = [
        ("B1", 201, vec!["SET", "EVAL"]),
        ("B1", 409, vec!["SET"]),
        ("B2", 409, vec!["SET"]),
    ];
    for (seat, status, commands) in cases {
        let before = RedisCounters::read(&mut r);
        let calls_before = host.calls().len();
        assert_eq!(post(&host.url(&format!("/api/book/{seat}"))).status, status);
        let (_, connections) = RedisCounters::read(&mut r).since(&before);
        assert_eq!(connections, 1, "one connection per request");
        assert_eq!(monitor.take(), commands, "seat {seat}");
        assert_eq!(
            host.calls()[calls_before..],
            ["variables.get redis_address", "redis.open"],
            "one variable lookup and one open"
        );
    }
}

#[test]
fn unknown_routes_and_methods_get_problem_answers() {
    let redis = RedisServer::start();
    let host = Host::start(&redis);
    integration::get(&host.url("/nope")).assert_problem(404, "not_found");
    let wrong = integration::get(&host.url("/api/book/1"));
    wrong.assert_problem(405, "method_not_allowed");
    assert_eq!(wrong.header("allow"), Some("POST"));
    let health = integration::get(&host.url("/health"));
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["redis"], "ok");
}
