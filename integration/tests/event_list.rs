//! `GET /api/events` on real Spin and a real Redis: newest first, paged with
//! a cursor that never skips or repeats an event (ties in one millisecond
//! included), live counts (an expired hold counts as available), a clear
//! 400 for a bad limit or cursor, one connection and one `EVALSHA` a page.

use std::collections::HashSet;
use std::thread;
use std::time::Duration;

use integration::{Answer, RedisMonitor, Service, ADMIN_TOKEN};
use redis::Commands;
use serde_json::{json, Value};

integration::service_api!(Api);

impl Api {
    fn start() -> Api {
        Api(Service::start())
    }

    fn create_event(&self, id: &str, seats: u32) {
        let body = json!({
            "id": id,
            "name": format!("Event {id}"),
            "rows": [{ "label": "A", "seats": seats }],
        });
        let created = self.call("POST", "/api/events", Some(ADMIN_TOKEN), Some(&body));
        assert_eq!(created.status, 201, "{}", text(&created));
    }

    fn list(&self, query: &str) -> Value {
        let answer = self.call("GET", &format!("/api/events{query}"), None, None);
        assert_eq!(answer.status, 200, "{query}: {}", text(&answer));
        assert_eq!(
            answer.header("cache-control"),
            Some("public, max-age=1, stale-while-revalidate=2")
        );
        answer.json()
    }

    /// Every page of `limit` from the start: the ids in order, the pages' sizes.
    fn all_pages(&self, limit: u32) -> (Vec<String>, Vec<usize>) {
        let mut ids = Vec::new();
        let mut sizes = Vec::new();
        let mut query = format!("?limit={limit}");
        loop {
            let page = self.list(&query);
            let events = page["events"].as_array().unwrap();
            sizes.push(events.len());
            ids.extend(
                events
                    .iter()
                    .map(|e| e["eventId"].as_str().unwrap().to_owned()),
            );
            match page["next"].as_str() {
                Some(next) => query = format!("?limit={limit}&cursor={next}"),
                None => {
                    assert!(page["next"].is_null());
                    return (ids, sizes);
                }
            }
            assert!(sizes.len() < 50, "the cursor never ends");
        }
    }
}

fn text(a: &Answer) -> String {
    String::from_utf8_lossy(&a.body).into_owned()
}

#[test]
fn events_are_listed_newest_first_a_page_at_a_time() {
    let api = Api::start();
    assert_eq!(api.list(""), json!({ "events": [], "next": null }));
    let ids: Vec<String> = (1..=7).map(|n| format!("e{n}")).collect();
    for id in &ids {
        api.create_event(id, 10);
        thread::sleep(Duration::from_millis(2)); // distinct creation times
    }
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();

    let first = api.list("");
    let events = first["events"].as_array().unwrap();
    assert_eq!(events.len(), 7, "the default limit (20) takes them all");
    assert!(first["next"].is_null());
    let e = &events[0];
    assert_eq!(e["eventId"], "e7");
    assert_eq!(e["name"], "Event e7");
    assert_eq!(e["seatCount"], 10);
    assert_eq!(
        (&e["available"], &e["held"], &e["booked"]),
        (&json!(10), &json!(0), &json!(0))
    );
    assert_eq!(
        e["links"],
        json!({ "event": "/api/events/e7", "seats": "/api/events/e7/seats", "page": "/events/e7" })
    );
    let created = api.call("GET", "/api/events/e7", None, None).json()["createdAt"].clone();
    assert_eq!(e["createdAt"], created);

    for limit in [1, 2, 3, 7, 100] {
        let (listed, sizes) = api.all_pages(limit);
        assert_eq!(listed, newest_first, "limit {limit}");
        let full = 7usize.div_ceil(limit as usize);
        assert_eq!(sizes.len(), full, "limit {limit}: {sizes:?}");
    }

    // An event created while a client pages appears on no later page (it
    // is newer than the cursor) and shifts nothing.
    let page = api.list("?limit=3");
    api.create_event("late", 10);
    let next = page["next"].as_str().unwrap();
    let rest = api.list(&format!("?limit=10&cursor={next}"));
    let rest: Vec<&str> = rest["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventId"].as_str().unwrap())
        .collect();
    assert_eq!(rest, ["e4", "e3", "e2", "e1"]);
    assert_eq!(api.list("?limit=1")["events"][0]["eventId"], "late");
}

#[test]
fn events_of_one_millisecond_are_paged_without_skips_or_repeats() {
    let api = Api::start();
    for id in ["a", "b", "c", "d", "older"] {
        api.create_event(id, 2);
    }
    // Give four events one creation time, as four creates in one
    // millisecond would (the index is what the list pages through).
    let mut r = api.redis.client();
    let _: () = r.zadd("events", "a", 5_000_000_000_000u64).unwrap();
    let _: () = r.zadd("events", "b", 5_000_000_000_000u64).unwrap();
    let _: () = r.zadd("events", "c", 5_000_000_000_000u64).unwrap();
    let _: () = r.zadd("events", "d", 5_000_000_000_000u64).unwrap();
    for limit in [1, 2, 3] {
        let (listed, _) = api.all_pages(limit);
        assert_eq!(listed, ["d", "c", "b", "a", "older"], "limit {limit}");
        let unique: HashSet<&String> = listed.iter().collect();
        assert_eq!(unique.len(), listed.len());
    }
}

#[test]
fn counts_show_live_holds_and_bookings_and_expired_holds_as_available() {
    let api = Api::start();
    api.create_event("gig", 10);
    let hold = |seats: &[&str], ttl: u32| {
        let body = json!({ "seats": seats, "ttlSeconds": ttl });
        let held = api.call("POST", "/api/events/gig/holds", None, Some(&body));
        assert_eq!(held.status, 201, "{}", text(&held));
    };
    hold(&["A-1", "A-2"], 60);
    hold(&["A-3"], 1);
    let booked = api.call(
        "POST",
        "/api/events/gig/bookings",
        None,
        Some(&json!({ "seats": ["A-8", "A-9", "A-10"] })),
    );
    assert_eq!(booked.status, 201);
    let counts = |v: &Value| {
        let e = &v["events"][0];
        (
            e["available"].as_u64().unwrap(),
            e["held"].as_u64().unwrap(),
            e["booked"].as_u64().unwrap(),
            e["seatCount"].as_u64().unwrap(),
        )
    };
    assert_eq!(counts(&api.list("")), (4, 3, 3, 10));
    thread::sleep(Duration::from_millis(1100));
    assert_eq!(counts(&api.list("")), (5, 2, 3, 10), "A-3's hold expired");
    // The same counts as the event's own read.
    let event = api.call("GET", "/api/events/gig", None, None).json();
    assert_eq!(
        (&event["available"], &event["held"]),
        (&json!(5), &json!(2))
    );
}

#[test]
fn a_bad_limit_or_cursor_is_a_400_that_is_never_stored() {
    let api = Api::start();
    api.create_event("gig", 2);
    for (query, code) in [
        ("?limit=0", "invalid_limit"),
        ("?limit=101", "invalid_limit"),
        ("?limit=abc", "invalid_limit"),
        ("?limit=-3", "invalid_limit"),
        ("?limit=", "invalid_limit"),
        ("?limit=99999999999999999999", "invalid_limit"),
        ("?cursor=", "invalid_cursor"),
        ("?cursor=gig", "invalid_cursor"),
        ("?cursor=1.%7Bgig%7D", "invalid_cursor"),
        ("?cursor=1.gig*", "invalid_cursor"),
        ("?cursor=%FF%FE", "invalid_cursor"),
        ("?cursor=123456789012345678.gig", "invalid_cursor"),
        ("?limit=2&limit=3", "invalid_query"),
    ] {
        let answer = api.call("GET", &format!("/api/events{query}"), None, None);
        answer.assert_problem(400, code);
        assert_eq!(answer.header("cache-control"), Some("no-store"), "{query}");
    }
    // A well-formed cursor past the end is simply an empty last page.
    assert_eq!(
        api.list("?cursor=1.zzz"),
        json!({ "events": [], "next": null })
    );
    // Unknown parameters (a cache buster) are ignored.
    assert_eq!(api.list("?_=123")["events"][0]["eventId"], "gig");
}

/// One connection and one EVALSHA a page, whatever its size (the script
/// cached, as after any first page).
#[test]
fn a_page_costs_one_round_trip_after_open() {
    let api = Api::start();
    for n in 1..=12 {
        api.create_event(&format!("e{n}"), 20);
    }
    api.list("");
    let monitor = RedisMonitor::start(&api.redis);
    for query in ["", "?limit=5", "?limit=100"] {
        let (page, cost) = monitor.cost_of(&api.redis, || api.list(query));
        assert!(!page["events"].as_array().unwrap().is_empty());
        assert_eq!(cost.connections, 1, "{query}: one connection: {cost:?}");
        assert_eq!(
            cost.sent,
            [["EVALSHA"]],
            "{query}: one round trip after open"
        );
    }
}

/// A Redis outage is a 503 with `Retry-After` and `no-store`.
#[test]
fn the_list_says_503_when_redis_is_down() {
    let mut api = Api::start();
    api.redis.stop();
    let answer = api.call("GET", "/api/events", None, None);
    answer.assert_problem(503, "redis_unavailable");
    assert_eq!(answer.header("retry-after"), Some("1"));
    assert_eq!(answer.header("cache-control"), Some("no-store"));
}
