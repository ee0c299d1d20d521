//! The Lua scripts, driven directly against a real redis-server: the fencing
//! check is what keeps a caller whose lock expired from writing. And the
//! scripts as the component sends them: each one's compile-time SHA-1 is
//! the one Redis gives its text.

use std::collections::BTreeSet;

use integration::{eval_event_script, event_script, root, RedisMonitor, RedisServer, Service};
use redis::Commands;
use serde_json::json;

const EVENT: &str = "event:{gala}";
const LOCK: &str = "lock:seat:{gala}:A-1";
const BOOKINGS: &str = "bookings:{gala}";

/// When the component says the booking was made (ms, its own clock).
const CREATED_AT: &str = "1795652060123";

/// Runs book_seat.lua as the component does for a request without an
/// idempotency key: no answer arguments, and the booking id is also the
/// lock's token. Its `ok` is a plain string, its refusals one-word lists.
fn book(r: &mut redis::Connection, booking_id: &str) -> Vec<String> {
    redis::cmd("EVAL")
        .arg(event_script("book_seat.lua"))
        .arg(1)
        .arg(EVENT)
        .arg(&[booking_id, "A-1", "token-hash", CREATED_AT])
        .query(r)
        .unwrap()
}

#[test]
fn the_lock_owner_commits_and_the_seat_becomes_sold_for_good() {
    let redis = RedisServer::start();
    let mut r = redis.client();
    let _: () = r.set_ex(LOCK, "b1", 5).unwrap();

    assert_eq!(book(&mut r, "b1"), ["ok"]);
    assert_eq!(r.get::<_, String>(LOCK).unwrap(), "booked:b1");
    assert_eq!(r.ttl::<_, i64>(LOCK).unwrap(), -1);
    let record: std::collections::HashMap<String, String> = r.hgetall("booking:{gala}:b1").unwrap();
    assert_eq!(record["seats"], "A-1");
    assert_eq!(record["status"], "booked");
    assert_eq!(record["tokenHash"], "token-hash");
    assert!(
        !record.contains_key("holdId"),
        "a direct booking stores no empty holdId: {record:?}"
    );
    // createdAt is the component's clock, passed in: the script calls no TIME.
    assert_eq!(record["createdAt"], CREATED_AT);
    assert!(r.sismember::<_, _, bool>(BOOKINGS, "b1").unwrap());

    // Committing twice with the same token is refused: the lock is now the sold marker.
    assert_eq!(book(&mut r, "b1"), ["lost_lock"]);
    assert_eq!(r.scard::<_, u64>(BOOKINGS).unwrap(), 1);
}

#[test]
fn a_caller_whose_lock_was_replaced_cannot_write() {
    let redis = RedisServer::start();
    let mut r = redis.client();
    // Our lock expired and another caller took the seat's lock.
    let _: () = r.set_ex(LOCK, "the-new-owner", 5).unwrap();

    assert_eq!(book(&mut r, "late"), ["lost_lock"]);
    assert_eq!(r.get::<_, String>(LOCK).unwrap(), "the-new-owner");
    assert!(!r.exists::<_, bool>("booking:{gala}:late").unwrap());
    assert_eq!(r.scard::<_, u64>(BOOKINGS).unwrap(), 0);
}

#[test]
fn a_caller_whose_lock_expired_cannot_write() {
    let redis = RedisServer::start();
    let mut r = redis.client();
    assert_eq!(book(&mut r, "late"), ["lost_lock"]);
    assert!(!r.exists::<_, bool>(LOCK).unwrap());
    assert!(!r.exists::<_, bool>("booking:{gala}:late").unwrap());
}

/// Runs an event script file on the test event with the given arguments.
fn run(r: &mut redis::Connection, file: &str, args: &[&str]) -> Vec<String> {
    eval_event_script(r, &event_script(file), EVENT, args)
}

fn create_gala(r: &mut redis::Connection) {
    let rows = r#"[["A",6],["B",6]]"#;
    assert_eq!(
        run(r, "create_event.lua", &["Gala", rows, "12", "1"])[0],
        "ok"
    );
}

#[test]
fn create_event_lays_out_an_unsold_map_and_refuses_a_second_time() {
    let redis = RedisServer::start();
    let mut r = redis.client();
    create_gala(&mut r);
    let map: std::collections::HashMap<String, String> = r.hgetall("map:{gala}").unwrap();
    assert_eq!(map["A"], "aaaaaa");
    assert_eq!(map["B"], "aaaaaa");
    assert_eq!(
        run(&mut r, "create_event.lua", &["Again", "[]", "0", "2"]),
        ["exists"]
    );
}

#[test]
fn best_available_packs_the_front_row_and_skips_locked_seats() {
    let redis = RedisServer::start();
    let mut r = redis.client();
    create_gala(&mut r);
    // A /api/book request's transient lock on A-3: not in the map or the
    // hold index, only in its lock key, which best available must respect.
    let _: () = r.set_ex("lock:seat:{gala}:A-3", "token", 5).unwrap();
    let best = |r: &mut redis::Connection, id: &str, count: &str| {
        run(r, "hold_best.lua", &[id, "hash", "60000", "0", count, "1"])
    };
    // The middle pair (A-3, A-4) is locked; A-4..A-5 or A-5..A-6 would
    // leave a seat alone, A-1..A-2 fills its run exactly.
    assert_eq!(
        best(&mut r, "h1", "2"),
        ["ok", "{\"seats\":[\"A-1\",\"A-2\"]}"]
    );
    assert_eq!(
        best(&mut r, "h2", "3"),
        ["ok", "{\"seats\":[\"A-4\",\"A-5\",\"A-6\"]}"]
    );
    assert_eq!(
        best(&mut r, "h3", "4"),
        ["ok", "{\"seats\":[\"B-1\",\"B-2\",\"B-3\",\"B-4\"]}"]
    );
    assert_eq!(
        r.get::<_, String>("lock:seat:{gala}:B-3").unwrap(),
        "hold:h3"
    );
    let held: Vec<(String, f64)> = r.zrange_withscores("held:{gala}:B", 0, -1).unwrap();
    assert_eq!(
        held.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["1", "2", "3", "4"]
    );
    assert_eq!(best(&mut r, "h4", "3"), ["sold_out"]);
}

#[test]
fn confirm_is_fenced_by_every_seat_lock_and_release_frees_only_its_own() {
    let redis = RedisServer::start();
    let mut r = redis.client();
    create_gala(&mut r);
    let hold = |r: &mut redis::Connection, id: &str, seats: &str| {
        run(r, "hold_seats.lua", &[id, "hash", "60000", "0", seats])
    };
    assert_eq!(hold(&mut r, "h1", "A-1,A-2")[0], "ok");
    assert_eq!(hold(&mut r, "h2", "A-2,A-3"), ["taken", "A-2"]);
    assert_eq!(
        hold(&mut r, "h2", "A-7,Z-1,A-01"),
        ["unknown_seats", "A-7", "Z-1", "A-01"]
    );

    // h1's hold on A-2 expired and someone else holds it now.
    let _: () = r.set("lock:seat:{gala}:A-2", "hold:other").unwrap();
    assert_eq!(
        run(&mut r, "confirm_hold.lua", &["h1", "wrong", "b1", "bh"]),
        ["forbidden"]
    );
    assert_eq!(
        run(&mut r, "confirm_hold.lua", &["h1", "hash", "b1", "bh"]),
        ["expired"]
    );
    assert!(!r.exists::<_, bool>("booking:{gala}:b1").unwrap());
    assert_eq!(r.hget::<_, _, String>("map:{gala}", "A").unwrap(), "aaaaaa");

    assert_eq!(run(&mut r, "release_hold.lua", &["h1", "hash"]), ["ok"]);
    assert!(!r.exists::<_, bool>("lock:seat:{gala}:A-1").unwrap());
    assert_eq!(
        r.get::<_, String>("lock:seat:{gala}:A-2").unwrap(),
        "hold:other"
    );
    let held: Vec<String> = r.zrange("held:{gala}:A", 0, -1).unwrap();
    assert_eq!(held, ["2"], "only the released seat left the hold index");
}

#[test]
fn confirm_sells_the_seats_and_cancel_gives_back_only_its_own() {
    let redis = RedisServer::start();
    let mut r = redis.client();
    create_gala(&mut r);
    assert_eq!(
        run(
            &mut r,
            "hold_seats.lua",
            &["h1", "hash", "60000", "0", "B-5,B-6"]
        )[0],
        "ok"
    );
    let confirmed = run(&mut r, "confirm_hold.lua", &["h1", "hash", "b1", "bh"]);
    assert_eq!(confirmed, ["ok", "{\"seats\":[\"B-5\",\"B-6\"]}"]);
    assert_eq!(r.hget::<_, _, String>("map:{gala}", "B").unwrap(), "aaaabb");
    assert_eq!(
        r.get::<_, String>("lock:seat:{gala}:B-5").unwrap(),
        "booked:b1"
    );
    assert_eq!(r.zcard::<_, u64>("held:{gala}:B").unwrap(), 0);
    let record: std::collections::HashMap<String, String> = r.hgetall("booking:{gala}:b1").unwrap();
    assert_eq!(record["holdId"], "h1");
    assert_redis_ms(&mut r, &record["createdAt"]);
    assert_eq!(
        run(&mut r, "confirm_hold.lua", &["h1", "hash", "b2", "bh"]),
        ["confirmed"]
    );

    // Someone (an operator, a bug) re-marked B-6: cancel must not free it.
    let _: () = r.set("lock:seat:{gala}:B-6", "booked:other").unwrap();
    assert_eq!(
        run(&mut r, "cancel_booking.lua", &["b1", "wrong"]),
        ["forbidden"]
    );
    assert_eq!(run(&mut r, "cancel_booking.lua", &["b1", "bh"]), ["ok"]);
    assert!(!r.exists::<_, bool>("lock:seat:{gala}:B-5").unwrap());
    assert_eq!(
        r.get::<_, String>("lock:seat:{gala}:B-6").unwrap(),
        "booked:other"
    );
    assert_eq!(r.hget::<_, _, String>("map:{gala}", "B").unwrap(), "aaaaab");
    assert!(!r.sismember::<_, _, bool>("bookings:{gala}", "b1").unwrap());
    let cancelled_at: String = r.hget("booking:{gala}:b1", "cancelledAt").unwrap();
    assert_redis_ms(&mut r, &cancelled_at);
}

/// `timestamp.lua`'s text is Redis's clock in whole milliseconds, 13
/// digits, made from TIME's strings: within the last 5 s of Redis's own.
fn assert_redis_ms(r: &mut redis::Connection, text: &str) {
    assert_eq!(text.len(), 13, "{text}");
    let stamp: u64 = text.parse().unwrap();
    let now: Vec<u64> = redis::cmd("TIME").query(r).unwrap();
    let now_ms = now[0] * 1000 + now[1] / 1000;
    assert!(
        (now_ms - 5_000..=now_ms).contains(&stamp),
        "{stamp} vs {now_ms}"
    );
}

#[test]
fn the_seat_map_lists_only_live_holds() {
    let redis = RedisServer::start();
    let mut r = redis.client();
    create_gala(&mut r);
    assert_eq!(
        run(
            &mut r,
            "hold_seats.lua",
            &["h1", "hash", "60000", "0", "A-1"]
        )[0],
        "ok"
    );
    assert_eq!(
        run(&mut r, "hold_seats.lua", &["h2", "hash", "1", "0", "A-2"])[0],
        "ok"
    );
    std::thread::sleep(std::time::Duration::from_millis(20));
    let map = run(&mut r, "seat_map.lua", &[]);
    // The validator: createdAt, the version (create and two holds), live holds.
    assert_eq!(
        map,
        ["ok", "1.3.1", "Gala", "1", "2", "1", "A", "B", "aaaaaa", "aaaaaa", "A-1", "", ""]
    );
}

/// A waiting room's turns: spaced 60000 / rate ms in arrival order while
/// the queue is busy; once it has drained, the next arrival starts a new
/// rush at its own arrival time rather than being let in with a backlog.
#[test]
fn queue_turns_follow_arrival_order_at_the_rate() {
    let redis = RedisServer::start();
    let mut r = redis.client();
    let rows = r#"[["A",6]]"#;
    let made = run(
        &mut r,
        "create_event.lua",
        &["Gala", rows, "6", "1", "20", "5"],
    );
    assert_eq!(made[0], "ok");
    assert_eq!(
        run(&mut r, "queue_status.lua", &["t1", "h1"]),
        ["not_found"]
    );
    for (n, id) in ["t1", "t2", "t3"].iter().enumerate() {
        let joined = run(&mut r, "join_queue.lua", &[id, &format!("h-{id}")]);
        assert_eq!(joined, ["ok", &format!("{{\"seats\":{}}}", n + 1)]);
    }
    let turn = |r: &mut redis::Connection, id: &str| -> i64 {
        r.hget(format!("ticket:{{gala}}:{id}"), "turnAt").unwrap()
    };
    let (t1, t2, t3) = (turn(&mut r, "t1"), turn(&mut r, "t2"), turn(&mut r, "t3"));
    assert_eq!((t2 - t1, t3 - t1), (3000, 6000), "20 a minute: 3 s apart");
    // Each ticket lives until a day after its 5-minute access window.
    let joined_at: i64 = r.hget("ticket:{gala}:t3", "joinedAt").unwrap();
    let ttl: i64 = redis::cmd("PTTL")
        .arg("ticket:{gala}:t3")
        .query(&mut r)
        .unwrap();
    let lives_until = t3 + 5 * 60_000 + 86_400_000;
    assert!(
        (lives_until - joined_at - 1000..=lives_until - joined_at).contains(&ttl),
        "ticket t3 expires in {ttl} ms"
    );

    let status = run(&mut r, "queue_status.lua", &["t2", "h-t2"]);
    assert_eq!(
        status[..3],
        ["ok".to_owned(), "2".to_owned(), t2.to_string()]
    );
    assert_eq!(status[4..], ["20", "5"]);
    assert_eq!(
        run(&mut r, "queue_status.lua", &["t2", "wrong"]),
        ["forbidden"]
    );

    // The queue drained long ago: the next arrival is admitted on arrival,
    // and the one after it a full interval later.
    let _: () = r
        .hset_multiple("queue:{gala}", &[("turnBase", "1000"), ("sinceBase", "3")])
        .unwrap();
    run(&mut r, "join_queue.lua", &["t4", "h"]);
    run(&mut r, "join_queue.lua", &["t5", "h"]);
    let (t4, t5) = (turn(&mut r, "t4"), turn(&mut r, "t5"));
    let joined: i64 = r.hget("ticket:{gala}:t4", "joinedAt").unwrap();
    assert_eq!(t4, joined);
    assert_eq!(t5 - t4, 3000);
    let arrivals: i64 = r.hget("queue:{gala}", "arrivals").unwrap();
    assert_eq!(arrivals, 5);

    // An event without a waiting room, and no event at all.
    let _: () = r
        .hdel(EVENT, &["queueAdmitPerMinute", "queueAccessMinutes"])
        .unwrap();
    assert_eq!(
        run(&mut r, "join_queue.lua", &["t6", "h"]),
        ["no_waiting_room"]
    );
    assert_eq!(
        run(&mut r, "queue_status.lua", &["t1", "h-t1"]),
        ["no_waiting_room"]
    );
    let _: () = r.del(EVENT).unwrap();
    assert_eq!(run(&mut r, "join_queue.lua", &["t6", "h"]), ["no_event"]);
}

/// A waiting-room signing key, so that the queue scripts run too.
const QUEUE_SECRET: &str = "scripts-test-queue-secret-0123456789abcdef";

/// Every operation of the API that runs a script, once each, on `api`,
/// asserting its success answer.
fn run_every_script(api: &Service) {
    let expect = |answer: integration::Answer, status: u16| {
        assert_eq!(
            answer.status,
            status,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        answer
    };
    let post = |path: &str, body: serde_json::Value| {
        expect(api.send("POST", path, &[], Some(&body)), 201).json()
    };
    let with_token = |method: &str, path: &str, token: &serde_json::Value, status| {
        expect(api.call(method, path, token.as_str(), None), status)
    };
    api.create_event("gig", &[("A", 10)]); // create_event
    expect(api.call("GET", "/api/events", None, None), 200); // list_events
    expect(api.call("GET", "/api/events/gig/seats", None, None), 200); // seat_map

    let held = post("/api/events/gig/holds", json!({ "seats": ["A-1"] })); // hold_seats
    let confirm = format!(
        "/api/events/gig/holds/{}/confirm",
        held["holdId"].as_str().unwrap()
    );
    with_token("POST", &confirm, &held["holdToken"], 201); // confirm_hold
    let best = post(
        "/api/events/gig/holds",
        json!({ "bestAvailable": { "count": 2 } }),
    ); // hold_best
    let release = format!("/api/events/gig/holds/{}", best["holdId"].as_str().unwrap());
    with_token("DELETE", &release, &best["holdToken"], 204); // release_hold
    let booked = post("/api/events/gig/bookings", json!({ "seats": ["A-9"] })); // book_seats
    let cancel = format!(
        "/api/events/gig/bookings/{}",
        booked["bookingId"].as_str().unwrap()
    );
    with_token("DELETE", &cancel, &booked["bookingToken"], 204); // cancel_booking

    // book_seat, then replay_answer: a retry of a booking whose seat is sold.
    let key = [("idempotency-key", "a7e2c9f4-1b3d-4c5e-8f60-9d2b4a6c8e1f")];
    expect(api.send("POST", "/api/book/1", &key, None), 201);
    let replayed = api.send("POST", "/api/book/1", &key, None);
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    // book_seat_full: the seed's endpoint once the default event has a map.
    api.create_event("default", &[("A", 2)]);
    expect(api.send("POST", "/api/book/A-1", &[], None), 201);

    let room = json!({ "id": "onsale", "name": "On sale", "rows": [{ "label": "A", "seats": 2 }],
        "waitingRoom": { "admitPerMinute": 600, "accessMinutes": 5 } });
    let admin = Some(integration::ADMIN_TOKEN);
    expect(api.call("POST", "/api/events", admin, Some(&room)), 201);
    let ticket = post("/api/events/onsale/queue", json!(null)); // join_queue
    let poll = format!(
        "/api/events/onsale/queue/{}",
        ticket["ticketId"].as_str().unwrap()
    );
    with_token("GET", &poll, &ticket["ticketToken"], 200); // queue_status
}

/// The names of the scripts the component runs: the files of
/// `src/store/scripts/` (the pieces in `lib/` are parts of them).
fn script_files() -> Vec<String> {
    let dir = root().join("src/store/scripts");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".lua"))
        .collect();
    files.sort();
    files
}

/// The component runs each script by the SHA-1 it computed at compile time
/// (`EVALSHA`), and only when Redis lacks the script sends its text (`EVAL`),
/// which is the case for each script's first call on a fresh Redis. For
/// every script, the SHA-1 it sent must be the one `SCRIPT LOAD` gives the
/// text it sent: else Redis would never find the script by it.
#[test]
fn each_script_is_run_by_the_sha1_redis_gives_its_text() {
    let api = Service::start_with(&[("SPIN_VARIABLE_QUEUE_SECRET", QUEUE_SECRET)]);
    let monitor = RedisMonitor::start(&api.redis);
    run_every_script(&api);
    let lines = monitor.take_lines();

    let mut r = api.redis.client();
    let mut sent = BTreeSet::new();
    for (at, eval) in lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.command == "EVAL")
    {
        // The EVALSHA that Redis refused, just before on that connection.
        let evalsha = lines[..at]
            .iter()
            .rev()
            .find(|l| l.source == eval.source)
            .filter(|l| l.command == "EVALSHA")
            .unwrap_or_else(|| panic!("an EVAL without an EVALSHA before it: {lines:?}"));
        let sha1 = String::from_utf8(evalsha.args[0].clone()).unwrap();
        assert_eq!(
            evalsha.args[1..],
            eval.args[1..],
            "the same keys and arguments"
        );
        let text = &eval.args[0];
        let loaded: String = redis::cmd("SCRIPT")
            .arg("LOAD")
            .arg(text)
            .query(&mut r)
            .unwrap();
        assert_eq!(
            loaded,
            sha1,
            "the SHA-1 sent for\n{}",
            String::from_utf8_lossy(text)
        );
        sent.insert(sha1);
    }
    assert_eq!(
        sent.len(),
        script_files().len(),
        "one script sent for each of {:?}",
        script_files()
    );
    // Each script was sent once: the EVAL cached it for every later call.
    let evals = lines.iter().filter(|l| l.command == "EVAL").count();
    assert_eq!(evals, sent.len());
}
