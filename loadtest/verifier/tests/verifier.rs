//! The verifier binary against real state: the built component under real
//! `spin up` makes real bookings and holds in a real redis-server, then the
//! state is corrupted on purpose to prove each check can fail. The failover
//! mode (`--acknowledged`, `--writes`) gets the same run's bookings as
//! `loadtest/failover.js` records them, then a booking "lost in a failover"
//! and its seat sold again. The harness builds the component; the verifier
//! binary is built by Cargo for the test.

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use integration::{send_with, RedisServer, Spin, ADMIN_TOKEN};
use serde_json::{json, Value};

/// A finished "load run": its Redis, its Spin instance, and the 201s it saw.
struct Run {
    redis: RedisServer,
    spin: Spin,
    counters: BTreeMap<String, u64>,
    /// A seat of the live hold the run left behind.
    held_seat: String,
    /// A seat a direct booking sold.
    sold_seat: String,
    /// What `loadtest/failover.js` would record: each booking answered
    /// 201 (`failover-acknowledged.jsonl`) ...
    acknowledged: Vec<Value>,
    /// ... and each answer (`failover-writes.jsonl`).
    writes: Vec<Value>,
}

impl Run {
    /// Books and holds through the real API, counting 201s as the
    /// Artillery processor does.
    fn new() -> Run {
        let redis = RedisServer::start();
        let spin = Spin::start(&redis);
        let agent = integration::client();
        let mut counters = BTreeMap::new();
        let mut acknowledged = Vec::new();
        let mut writes = Vec::new();
        let mut call = |method: &str, path: &str, token: Option<&str>, body: Option<Value>| {
            let auth = token.map(|t| format!("Bearer {t}"));
            let headers: Vec<(&str, &str)> =
                auth.iter().map(|a| ("authorization", a.as_str())).collect();
            let body = body.map(|b| b.to_string().into_bytes());
            let (sent, started) = (epoch_ms(), Instant::now());
            let answer = send_with(&agent, method, &spin.url(path), &headers, body.as_deref());
            writes.push(json!({
                "t": sent, "took": started.elapsed().as_millis() as u64,
                "status": answer.status, "name": path, "write": method != "GET"
            }));
            if answer.status == 201 {
                let created = answer.json();
                let event = created["eventId"].as_str().unwrap_or("?").to_owned();
                if let Some(id) = created.get("bookingId") {
                    let seats = created
                        .get("seats")
                        .cloned()
                        .unwrap_or_else(|| json!([created["seatId"]]));
                    acknowledged.push(
                        json!({"kind": "booked", "event": event, "bookingId": id, "seats": seats}),
                    );
                }
                if let Some(seats) = created
                    .get("bookingId")
                    .map(|_| created["seats"].as_array().map_or(1, Vec::len))
                {
                    *counters
                        .entry(format!("loadtest.bookings_201.{event}"))
                        .or_insert(0) += 1;
                    *counters
                        .entry(format!("loadtest.seats_201.{event}"))
                        .or_insert(0) += seats as u64;
                } else if created.get("holdId").is_some() {
                    *counters
                        .entry(format!("loadtest.holds_201.{event}"))
                        .or_insert(0) += 1;
                }
            }
            answer
        };

        let event = json!({"id": "gala", "name": "Gala", "rows": [{"label": "A", "seats": 10}]});
        assert_eq!(
            call("POST", "/api/events", Some(ADMIN_TOKEN), Some(event)).status,
            201
        );
        assert_eq!(call("POST", "/api/book/1", None, None).status, 201);
        assert_eq!(call("POST", "/api/book/1", None, None).status, 409);
        let hold = call(
            "POST",
            "/api/events/gala/holds",
            None,
            Some(json!({"seats": ["A-1", "A-2"]})),
        )
        .json();
        let confirm = format!(
            "/api/events/gala/holds/{}/confirm",
            hold["holdId"].as_str().unwrap()
        );
        assert_eq!(
            call("POST", &confirm, hold["holdToken"].as_str(), None).status,
            201
        );
        let best = json!({"bestAvailable": {"count": 2, "adjacent": true}, "ttlSeconds": 600});
        let live = call("POST", "/api/events/gala/holds", None, Some(best)).json();
        let direct = json!({"seats": ["A-9"]});
        assert_eq!(
            call("POST", "/api/events/gala/bookings", None, Some(direct)).status,
            201
        );
        Run {
            redis,
            spin,
            counters,
            held_seat: live["seats"][0].as_str().unwrap().to_owned(),
            sold_seat: "A-9".to_owned(),
            acknowledged,
            writes,
        }
    }

    /// Runs the verifier in failover mode: this run's counters as the
    /// report, and `acknowledged` and `writes` as the processor's records.
    fn verify_failover(&self, acknowledged: &[Value], writes: &[Value]) -> (i32, String) {
        let dir = integration::output_dir();
        let lines = |name: &str, entries: &[Value]| {
            let path = dir.join(format!("load-verifier-{}-{name}.jsonl", self.redis.port));
            let text: String = entries.iter().map(|e| format!("{e}\n")).collect();
            std::fs::write(&path, text).unwrap();
            path.to_str().unwrap().to_owned()
        };
        let acknowledged = lines("acknowledged", acknowledged);
        let writes = lines("writes", writes);
        let report = self.report(&self.counters);
        let out = verifier(&[
            "--report",
            &report,
            "--redis",
            &self.redis.url(),
            "--event",
            "default",
            "--acknowledged",
            &acknowledged,
            "--writes",
            &writes,
        ]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }

    /// Writes `counters` as an Artillery report and returns its path.
    fn report(&self, counters: &BTreeMap<String, u64>) -> String {
        let report = json!({
            "aggregate": {"firstMetricAt": 0, "lastMetricAt": 5000, "counters": counters, "summaries": {}},
            "intermediate": []
        });
        let path =
            integration::output_dir().join(format!("load-verifier-{}.json", self.redis.port));
        std::fs::write(&path, report.to_string()).unwrap();
        path.to_str().unwrap().to_owned()
    }

    /// Books `seats` of gala directly, behind the recorded clients' back.
    fn book_unrecorded(&self, seats: &[&str]) -> Value {
        let answer = send_with(
            &integration::client(),
            "POST",
            &self.spin.url("/api/events/gala/bookings"),
            &[],
            Some(json!({ "seats": seats }).to_string().as_bytes()),
        );
        assert_eq!(answer.status, 201, "{answer:?}");
        answer.json()
    }

    /// Runs the verifier on this run's state with `counters` as the report.
    fn verify(&self, counters: &BTreeMap<String, u64>) -> (i32, String) {
        let report_path = self.report(counters);
        let chart_path =
            integration::output_dir().join(format!("load-verifier-{}.html", self.redis.port));
        let out = verifier(&[
            "--report",
            &report_path,
            "--redis",
            &self.redis.url(),
            "--event",
            "default",
            "--event",
            "gala",
            "--chart",
            chart_path.to_str().unwrap(),
        ]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }

    fn redis_cmd(&self, args: &[&str]) {
        let mut cmd = redis::cmd(args[0]);
        for arg in &args[1..] {
            cmd.arg(*arg);
        }
        let _: redis::Value = cmd.query(&mut self.redis.client()).unwrap();
    }
}

fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// The three lines a failover run ends with.
fn closing(lost: u32, twice: u32, window: &str) -> String {
    format!("acknowledged bookings lost: {lost}\nseats sold twice: {twice}\nwrites unavailable: {window} s\n")
}

fn verifier(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_load-verifier"))
        .args(args)
        .output()
        .expect("run load-verifier")
}

#[test]
fn a_clean_run_passes() {
    let run = Run::new();
    let expected = BTreeMap::from([
        ("loadtest.bookings_201.default".to_owned(), 1),
        ("loadtest.seats_201.default".to_owned(), 1),
        ("loadtest.bookings_201.gala".to_owned(), 2),
        ("loadtest.seats_201.gala".to_owned(), 3),
        ("loadtest.holds_201.gala".to_owned(), 2),
    ]);
    assert_eq!(run.counters, expected);
    let (code, text) = run.verify(&run.counters);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("verifier verdict: PASS: 2 events"), "{text}");
    assert!(text.contains("2/2") && text.contains("3/3"), "{text}");
}

#[test]
fn a_seeded_double_booking_fails() {
    let run = Run::new();
    let seat = &run.sold_seat;
    let id = "00000000-0000-4000-8000-000000000001";
    run.redis_cmd(&[
        "HSET",
        &format!("booking:{{gala}}:{id}"),
        "tokenHash",
        "x",
        "seats",
        seat,
        "status",
        "booked",
        "createdAt",
        "1",
        "holdId",
        "",
    ]);
    run.redis_cmd(&["SADD", "bookings:{gala}", id]);
    // The report agrees with the counts, so only the double sale is wrong.
    let mut counters = run.counters.clone();
    *counters.get_mut("loadtest.bookings_201.gala").unwrap() += 1;
    *counters.get_mut("loadtest.seats_201.gala").unwrap() += 1;
    let (code, text) = run.verify(&counters);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("FAIL 1   no seat booked twice"), "{text}");
    assert!(
        text.contains(&format!("gala: seat {seat} is sold to 2 bookings")),
        "{text}"
    );
    assert!(text.contains("ok   2 "), "{text}");
}

#[test]
fn a_201_count_mismatch_fails() {
    let run = Run::new();
    let mut counters = run.counters.clone();
    *counters.get_mut("loadtest.bookings_201.default").unwrap() += 1;
    let (code, text) = run.verify(&counters);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("FAIL 2   201 answers = stored bookings and holds (1 violations)"),
        "{text}"
    );
    assert!(
        text.contains("default: 201s announced 2 bookings, Redis stores 1"),
        "{text}"
    );

    // A booking stored behind the clients' back fails the same way.
    let (code, text) = run.verify(&BTreeMap::new());
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("gala: 201s announced 0 holds, Redis stores 2"),
        "{text}"
    );
}

#[test]
fn a_hold_key_without_ttl_fails() {
    let run = Run::new();
    run.redis_cmd(&["PERSIST", &format!("lock:seat:{{gala}}:{}", run.held_seat)]);
    let (code, text) = run.verify(&run.counters);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("FAIL 3-4 no hold outlives its TTL"), "{text}");
    assert!(
        text.contains(&format!("seat {} is held by", run.held_seat)),
        "{text}"
    );
    assert!(text.contains("with no TTL"), "{text}");
}

#[test]
fn it_cannot_pass_without_redis_or_a_report() {
    let mut redis = RedisServer::start();
    redis.stop();
    let out = verifier(&["--report", "/nonexistent/report.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("read /nonexistent/report.json"));
    let report = integration::output_dir().join(format!("load-verifier-down-{}.json", redis.port));
    let json = json!({"aggregate": {"firstMetricAt": 0, "lastMetricAt": 1, "counters": {"loadtest.holds_201.gala": 1}, "summaries": {}}, "intermediate": []});
    std::fs::write(&report, json.to_string()).unwrap();
    let out = verifier(&[
        "--report",
        report.to_str().unwrap(),
        "--redis",
        &redis.url(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("connect to redis://127.0.0.1"),
        "{out:?}"
    );
}

#[test]
fn a_seat_map_that_disagrees_with_the_locks_fails() {
    let run = Run::new();
    // Hide every sale of row A from the map readers see.
    run.redis_cmd(&["HSET", "map:{gala}", "A", "aaaaaaaaaa"]);
    let (code, text) = run.verify(&run.counters);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("FAIL map the seat map shows what the locks say"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "the map shows seat {} as 'a', but the seat holds booked:",
            run.sold_seat
        )),
        "{text}"
    );
    assert!(
        text.contains("ok   1 ") && text.contains("ok   2 "),
        "{text}"
    );
}

#[test]
fn failover_mode_checks_acknowledged_bookings_by_id() {
    let run = Run::new();
    assert_eq!(run.acknowledged.len(), 3, "{:?}", run.acknowledged);
    let (code, text) = run.verify_failover(&run.acknowledged, &run.writes);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("acknowledged: 3 bookings (4 seats) in 2 events"),
        "{text}"
    );
    assert!(text.contains("failover verdict: PASS"), "{text}");
    assert!(text.ends_with(&closing(0, 0, "0.00")), "{text}");

    // A booking Redis stores that no 201 announced (a 503 whose change was
    // replicated after all) is allowed here, and only here.
    run.book_unrecorded(&["A-10"]);
    let (code, text) = run.verify_failover(&run.acknowledged, &run.writes);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("stored bookings no 201 announced: 1"),
        "{text}"
    );
    let (code, text) = run.verify(&run.counters);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("gala: 201s announced 2 bookings, Redis stores 3"),
        "{text}"
    );

    // The outage as the writes saw it: 503s between two 201s.
    let mut writes = run.writes.clone();
    let t = writes.last().unwrap()["t"].as_u64().unwrap();
    for (dt, took, status) in [
        (1_000, 4, 201),
        (1_200, 3, 503),
        (3_000, 3, 503),
        (3_400, 100, 201),
    ] {
        writes.push(
            json!({"t": t + dt, "took": took, "status": status, "name": "book", "write": true}),
        );
    }
    let (code, text) = run.verify_failover(&run.acknowledged, &writes);
    assert_eq!(code, 0, "{text}");
    assert!(text.ends_with(&closing(0, 0, "2.50")), "{text}");

    // A 500 fails the run, however well Redis looks.
    writes.push(json!({"t": t + 4_000, "took": 3, "status": 500, "name": "book", "write": true}));
    let (code, text) = run.verify_failover(&run.acknowledged, &writes);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("FAIL unexpected: book answered 500"),
        "{text}"
    );
}

#[test]
fn failover_mode_fails_on_a_lost_booking_whose_seat_sold_again() {
    let run = Run::new();
    // The failover lost the direct booking of A-9: its record, its place in
    // the live set and its seat's marker are gone ...
    let lost = run
        .acknowledged
        .iter()
        .find(|a| a["seats"] == json!([run.sold_seat]))
        .unwrap()["bookingId"]
        .as_str()
        .unwrap()
        .to_owned();
    run.redis_cmd(&["DEL", &format!("booking:{{gala}}:{lost}")]);
    run.redis_cmd(&["SREM", "bookings:{gala}", &lost]);
    run.redis_cmd(&["DEL", &format!("lock:seat:{{gala}}:{}", run.sold_seat)]);
    let (code, text) = run.verify_failover(&run.acknowledged, &run.writes);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(&format!("FAIL lost: gala booking {lost}: not stored")),
        "{text}"
    );
    assert!(text.ends_with(&closing(1, 0, "0.00")), "{text}");

    // ... and the seat is sold again to the next buyer.
    let again = run.book_unrecorded(&[&run.sold_seat]);
    let (code, text) = run.verify_failover(&run.acknowledged, &run.writes);
    assert_eq!(code, 1, "{text}");
    let mut owners = [lost.as_str(), again["bookingId"].as_str().unwrap()];
    owners.sort();
    assert!(
        text.contains(&format!(
            "sold twice: gala seat {} to {}",
            run.sold_seat,
            owners.join(", ")
        )),
        "{text}"
    );
    assert!(text.ends_with(&closing(1, 1, "0.00")), "{text}");
}

#[test]
fn failover_mode_needs_both_records() {
    let out = verifier(&[
        "--report",
        "/nonexistent/report.json",
        "--acknowledged",
        "a.jsonl",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--writes"),
        "{out:?}"
    );
}

/// The waiting-room rule on a real queue: a clean one passes; a ticket
/// admitted before an earlier arrival, or a hold whose record names no
/// ticket (made without access), fails.
#[test]
fn a_queue_out_of_order_or_a_hold_without_access_fails() {
    let redis = RedisServer::start();
    let secret = "verifier-test-queue-secret-0123456789abcdef";
    let spin = Spin::start_on(&redis, &[("SPIN_VARIABLE_QUEUE_SECRET", secret)]);
    let agent = integration::client();
    let call = |method: &str, path: &str, token: Option<&str>, body: Option<Value>| {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("authorization", a.as_str())).collect();
        let body = body.map(|b| b.to_string().into_bytes());
        send_with(&agent, method, &spin.url(path), &headers, body.as_deref())
    };
    let event = json!({"id": "onsale", "name": "Onsale", "rows": [{"label": "A", "seats": 10}],
        "waitingRoom": {"admitPerMinute": 6000, "accessMinutes": 5}});
    assert_eq!(
        call("POST", "/api/events", Some(ADMIN_TOKEN), Some(event)).status,
        201
    );
    let tickets: Vec<Value> = (0..3)
        .map(|_| call("POST", "/api/events/onsale/queue", None, None).json())
        .collect();
    let first = format!(
        "/api/events/onsale/queue/{}",
        tickets[0]["ticketId"].as_str().unwrap()
    );
    let status = call("GET", &first, tickets[0]["ticketToken"].as_str(), None).json();
    let access = status["accessToken"]
        .as_str()
        .expect("the first arrival is admitted at once");
    let hold = call(
        "POST",
        "/api/events/onsale/holds",
        Some(access),
        Some(json!({"seats": ["A-1"]})),
    );
    assert_eq!(hold.status, 201);
    let hold_id = hold.json()["holdId"].as_str().unwrap().to_owned();

    let run = Run {
        redis,
        spin,
        counters: BTreeMap::from([
            ("loadtest.tickets_201.onsale".to_owned(), 3),
            ("loadtest.holds_201.onsale".to_owned(), 1),
        ]),
        held_seat: "A-1".to_owned(),
        sold_seat: String::new(),
        acknowledged: Vec::new(),
        writes: Vec::new(),
    };
    let verify = |run: &Run| {
        let report = run.report(&run.counters);
        let out = verifier(&[
            "--report",
            &report,
            "--redis",
            &run.redis.url(),
            "--event",
            "onsale",
        ]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.code().unwrap_or(-1), text)
    };
    let (code, text) = verify(&run);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("3/3"), "{text}");

    // The third arrival's turn moved before the second's.
    let second: i64 = redis::Commands::hget(
        &mut run.redis.client(),
        format!(
            "ticket:{{onsale}}:{}",
            tickets[1]["ticketId"].as_str().unwrap()
        ),
        "turnAt",
    )
    .unwrap();
    let third = format!(
        "ticket:{{onsale}}:{}",
        tickets[2]["ticketId"].as_str().unwrap()
    );
    run.redis_cmd(&["HSET", &third, "turnAt", &(second - 5).to_string()]);
    // And the hold loses the ticket that let it in.
    run.redis_cmd(&[
        "HDEL",
        &format!("hold:{{onsale}}:{hold_id}"),
        "ticketId",
        "accessAt",
    ]);
    let (code, text) = verify(&run);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("FAIL wr  waiting rooms admit in arrival order"),
        "{text}"
    );
    assert!(
        text.contains("position 3 was admitted 5 ms before position 2"),
        "{text}"
    );
    assert!(
        text.contains(&format!("hold:{hold_id} was made without access")),
        "{text}"
    );
}
