//! The Lua scripts, driven directly against a real redis-server: the fencing
//! check is what keeps a caller whose lock expired from writing.

use integration::{event_script, RedisServer};
use redis::Commands;

const EVENT: &str = "event:{gala}";
const LOCK: &str = "lock:seat:{gala}:A-1";
const BOOKINGS: &str = "bookings:{gala}";

/// Runs book_seat.lua as the component does, without an idempotency key.
fn book(r: &mut redis::Connection, token: &str, booking_id: &str) -> Vec<String> {
    redis::cmd("EVAL")
        .arg(event_script("book_seat.lua"))
        .arg(1)
        .arg(EVENT)
        .arg(&["", "", "201", "/loc", "{\"body\":1}"])
        .arg(&[token, booking_id, "A-1", "token-hash"])
        .query(r)
        .unwrap()
}

#[test]
fn the_lock_owner_commits_and_the_seat_becomes_sold_for_good() {
    let redis = RedisServer::start();
    let mut r = redis.client();
    let _: () = r.set_ex(LOCK, "my-token", 5).unwrap();

    assert_eq!(book(&mut r, "my-token", "b1"), ["ok", "{\"body\":1}"]);
    assert_eq!(r.get::<_, String>(LOCK).unwrap(), "booked:b1");
    assert_eq!(r.ttl::<_, i64>(LOCK).unwrap(), -1);
    let record: std::collections::HashMap<String, String> = r.hgetall("booking:{gala}:b1").unwrap();
    assert_eq!(record["seats"], "A-1");
    assert_eq!(record["status"], "booked");
    assert_eq!(record["tokenHash"], "token-hash");
    assert!(r.sismember::<_, _, bool>(BOOKINGS, "b1").unwrap());

    // Committing twice with the same token is refused: the lock is now the sold marker.
    assert_eq!(book(&mut r, "my-token", "b2"), ["lost_lock"]);
    assert!(!r.exists::<_, bool>("booking:{gala}:b2").unwrap());
}

#[test]
fn a_caller_whose_lock_was_replaced_cannot_write() {
    let redis = RedisServer::start();
    let mut r = redis.client();
    // Our lock expired and another caller took the seat's lock.
    let _: () = r.set_ex(LOCK, "the-new-owner", 5).unwrap();

    assert_eq!(book(&mut r, "my-expired-token", "late"), ["lost_lock"]);
    assert_eq!(r.get::<_, String>(LOCK).unwrap(), "the-new-owner");
    assert!(!r.exists::<_, bool>("booking:{gala}:late").unwrap());
    assert_eq!(r.scard::<_, u64>(BOOKINGS).unwrap(), 0);
}

#[test]
fn a_caller_whose_lock_expired_cannot_write() {
    let redis = RedisServer::start();
    let mut r = redis.client();
    assert_eq!(book(&mut r, "my-expired-token", "late"), ["lost_lock"]);
    assert!(!r.exists::<_, bool>(LOCK).unwrap());
    assert!(!r.exists::<_, bool>("booking:{gala}:late").unwrap());
}
