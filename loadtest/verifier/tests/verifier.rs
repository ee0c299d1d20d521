//! The verifier binary against real state: the built component under real
//! `spin up` makes real bookings and holds in a real redis-server, then the
//! state is corrupted on purpose to prove each check can fail. The harness
//! builds the component; the verifier binary is built by Cargo for the test.

use std::collections::BTreeMap;
use std::process::{Command, Output};

use integration::{send_with, RedisServer, Spin, ADMIN_TOKEN};
use serde_json::{json, Value};

/// A finished "load run": its Redis, its Spin instance, and the 201s it saw.
struct Run {
    redis: RedisServer,
    _spin: Spin,
    counters: BTreeMap<String, u64>,
    /// A seat of the live hold the run left behind.
    held_seat: String,
    /// A seat a direct booking sold.
    sold_seat: String,
}

impl Run {
    /// Books and holds through the real API, counting 201s as the
    /// Artillery processor does.
    fn new() -> Run {
        let redis = RedisServer::start();
        let spin = Spin::start(&redis);
        let agent = integration::client();
        let mut counters = BTreeMap::new();
        let mut call = |method: &str, path: &str, token: Option<&str>, body: Option<Value>| {
            let auth = token.map(|t| format!("Bearer {t}"));
            let headers: Vec<(&str, &str)> =
                auth.iter().map(|a| ("authorization", a.as_str())).collect();
            let body = body.map(|b| b.to_string().into_bytes());
            let answer = send_with(&agent, method, &spin.url(path), &headers, body.as_deref());
            if answer.status == 201 {
                let created = answer.json();
                let event = created["eventId"].as_str().unwrap_or("?").to_owned();
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
            _spin: spin,
            counters,
            held_seat: live["seats"][0].as_str().unwrap().to_owned(),
            sold_seat: "A-9".to_owned(),
        }
    }

    /// Runs the verifier on this run's state with `counters` as the report.
    fn verify(&self, counters: &BTreeMap<String, u64>) -> (i32, String) {
        let report = json!({
            "aggregate": {"firstMetricAt": 0, "lastMetricAt": 5000, "counters": counters, "summaries": {}},
            "intermediate": []
        });
        let dir = integration::output_dir();
        let report_path = dir.join(format!("load-verifier-{}.json", self.redis.port));
        let chart_path = dir.join(format!("load-verifier-{}.html", self.redis.port));
        std::fs::write(&report_path, report.to_string()).unwrap();
        let out = verifier(&[
            "--report",
            report_path.to_str().unwrap(),
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
