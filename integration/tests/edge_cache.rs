//! The event reads as a cache sees them, on real Spin and a real Redis:
//! a strong ETag that changes with every change to what they show (holds
//! expiring included) and never otherwise, `If-None-Match` answered with a
//! bodiless 304 in one `EVALSHA`, `Cache-Control` on answers and `no-store` on
//! errors; and Debian's nginx in front, absorbing a thousand polls a second
//! while a booking still shows up once its `max-age` is over.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use integration::nginx::CachingProxy;
use integration::{client, send_with, Answer, RedisCounters, RedisMonitor, Service};
use serde_json::{json, Value};

const CACHE_CONTROL: &str = "public, max-age=1, stale-while-revalidate=2";
const SEATS: &str = "/api/events/gig/seats";
const EVENT: &str = "/api/events/gig";

// A running service with the event `gig` (rows A and B of 6 seats).
integration::service_api!(Api);

impl Api {
    fn start() -> Api {
        let api = Api(Service::start());
        api.create_event("gig", &[("A", 6), ("B", 6)]);
        api
    }

    fn post(&self, path: &str, body: &Value) -> Answer {
        let answer = self.send("POST", path, &[], Some(body));
        assert_eq!(answer.status, 201, "{path}: {}", text(&answer));
        answer
    }

    fn with_token(&self, method: &str, path: &str, token: &str) -> Answer {
        let auth = format!("Bearer {token}");
        self.send(method, path, &[("authorization", &auth)], None)
    }

    /// A plain read: 200 with an ETag and the cache policy.
    fn read(&self, path: &str) -> (String, Value) {
        let answer = self.send("GET", path, &[], None);
        assert_eq!(answer.status, 200, "{path}: {}", text(&answer));
        assert_eq!(answer.header("cache-control"), Some(CACHE_CONTROL));
        let etag = answer.header("etag").expect("an ETag").to_owned();
        assert!(
            etag.starts_with('"') && etag.ends_with('"'),
            "strong: {etag}"
        );
        (etag, answer.json())
    }

    /// A read with `If-None-Match: value`.
    fn read_if_none_match(&self, path: &str, value: &str) -> Answer {
        self.send("GET", path, &[("if-none-match", value)], None)
    }

    /// Both reads' ETags and bodies.
    fn snapshot(&self) -> Snapshot {
        let (seats_tag, seats) = self.read(SEATS);
        let (event_tag, event) = self.read(EVENT);
        Snapshot {
            seats_tag,
            seats,
            event_tag,
            event,
        }
    }
}

/// What the two reads showed at one moment.
#[derive(Debug, Clone, PartialEq)]
struct Snapshot {
    seats_tag: String,
    seats: Value,
    event_tag: String,
    event: Value,
}

fn text(a: &Answer) -> String {
    String::from_utf8_lossy(&a.body).into_owned()
}

/// The state character of `seat` (`A-3`) in a seat map body.
fn state(map: &Value, seat: &str) -> char {
    let (label, n) = seat.split_once('-').unwrap();
    let n: usize = n.parse().unwrap();
    let row = map["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["label"] == label)
        .unwrap();
    row["states"].as_str().unwrap().chars().nth(n - 1).unwrap()
}

fn assert_not_modified(answer: &Answer, etag: &str, what: &str) {
    assert_eq!(answer.status, 304, "{what}: {}", text(answer));
    assert!(answer.body.is_empty(), "{what}: a 304 has no body");
    assert_eq!(answer.header("etag"), Some(etag), "{what}");
    assert_eq!(
        answer.header("cache-control"),
        Some(CACHE_CONTROL),
        "{what}"
    );
}

#[test]
fn reads_answer_if_none_match_with_304_and_errors_are_never_stored() {
    let mut api = Api::start();
    for path in [SEATS, EVENT] {
        let (etag, _) = api.read(path);
        let weak = format!("W/{etag}");
        let listed = format!("\"other\", {etag} ,W/\"x\"");
        for value in [etag.as_str(), &weak, &listed, "*", " * "] {
            assert_not_modified(&api.read_if_none_match(path, value), &etag, value);
        }
        // Tags that are not this read's current one, or not tags at all:
        // a normal 200 with the full body, never an error.
        let other_read = if path == SEATS {
            etag.replacen("\"s", "\"e", 1)
        } else {
            etag.replacen("\"e", "\"s", 1)
        };
        for value in [
            "\"s1.1.1.1\"",
            other_read.as_str(),
            &etag[1..],
            "W/",
            "\"a b\"",
            "\"unterminated",
            "*, *",
            &"\"s1.1.1.1\",".repeat(500),
        ] {
            let answer = api.read_if_none_match(path, value);
            assert_eq!(answer.status, 200, "{path} {value:?}: {}", text(&answer));
            assert_eq!(answer.header("etag"), Some(etag.as_str()));
            assert!(!answer.body.is_empty());
        }
    }

    // 404 (even for `*`: there is no current representation) and 400 are
    // never stored, nor is 503.
    for (path, inm, status) in [
        ("/api/events/nope/seats", "*", 404),
        ("/api/events/nope", "\"e1.1.1.1\"", 404),
        ("/api/events/n%7Bo%7D/seats", "*", 400),
        ("/api/events/n%7Bo%7D", "", 400),
    ] {
        let answer = api.read_if_none_match(path, inm);
        assert_eq!(answer.status, status, "{path}");
        assert_eq!(answer.header("cache-control"), Some("no-store"), "{path}");
        assert!(answer.header("etag").is_none(), "{path}");
    }
    api.redis.stop();
    for path in [SEATS, EVENT] {
        let answer = api.read_if_none_match(path, "*");
        answer.assert_problem(503, "redis_unavailable");
        assert_eq!(answer.header("cache-control"), Some("no-store"));
    }
}

/// Every operation that changes what the reads show changes both ETags
/// (and an old ETag then gets the new body); reads, refusals and a hold
/// cleanup change neither.
#[test]
fn every_change_moves_the_etags_and_nothing_else_does() {
    let api = Api::start();
    // The seed's /api/book commits into the event `default`; give it a map.
    api.create_event("default", &[("A", 4)]);
    let mut before = api.snapshot();
    let mut step = |what: &str, expect_change: bool, after: Snapshot| {
        if expect_change {
            assert_ne!(after.seats_tag, before.seats_tag, "{what}: seats ETag");
            assert_ne!(after.event_tag, before.event_tag, "{what}: event ETag");
            let stale = api.read_if_none_match(SEATS, &before.seats_tag);
            assert_eq!(stale.status, 200, "{what}: an old ETag gets the new map");
            assert_eq!(stale.json(), after.seats, "{what}");
        } else {
            assert_eq!(after, before, "{what}: nothing changed");
        }
        before = after;
    };

    step("a read", false, api.snapshot());
    let held = api.post(
        &format!("{EVENT}/holds"),
        &json!({ "seats": ["A-1", "A-2"] }),
    );
    let after = api.snapshot();
    assert_eq!(state(&after.seats, "A-1"), 'h');
    step("hold", true, after);

    let refused = api.send(
        "POST",
        &format!("{EVENT}/holds"),
        &[],
        Some(&json!({ "seats": ["A-2", "A-3"] })),
    );
    refused.assert_problem(409, "seats_taken");
    step("a refused hold", false, api.snapshot());

    let hold_id = held.json()["holdId"].as_str().unwrap().to_owned();
    let token = held.json()["holdToken"].as_str().unwrap().to_owned();
    let confirmed = api.with_token("POST", &format!("{EVENT}/holds/{hold_id}/confirm"), &token);
    assert_eq!(confirmed.status, 201, "{}", text(&confirmed));
    let after = api.snapshot();
    assert_eq!(state(&after.seats, "A-1"), 'b');
    step("confirm", true, after);

    let best = api.post(
        &format!("{EVENT}/holds"),
        &json!({ "bestAvailable": { "count": 2 } }),
    );
    step("best available hold", true, api.snapshot());

    let release = format!("{EVENT}/holds/{}", best.json()["holdId"].as_str().unwrap());
    let token = best.json()["holdToken"].as_str().unwrap().to_owned();
    assert_eq!(api.with_token("DELETE", &release, &token).status, 204);
    step("release", true, api.snapshot());

    let booking = api.post(&format!("{EVENT}/bookings"), &json!({ "seats": ["B-6"] }));
    let after = api.snapshot();
    assert_eq!(state(&after.seats, "B-6"), 'b');
    step("direct booking", true, after);

    let cancel = format!(
        "{EVENT}/bookings/{}",
        booking.json()["bookingId"].as_str().unwrap()
    );
    let token = booking.json()["bookingToken"].as_str().unwrap().to_owned();
    assert_eq!(api.with_token("DELETE", &cancel, &token).status, 204);
    let after = api.snapshot();
    assert_eq!(state(&after.seats, "B-6"), 'a');
    step("cancel", true, after);

    // The seed's endpoint, on the event `default`.
    let (default_tag, _) = api.read("/api/events/default/seats");
    let booked = api.send("POST", "/api/book/A-3", &[], None);
    assert_eq!(booked.status, 201, "{}", text(&booked));
    let (tag, map) = api.read("/api/events/default/seats");
    assert_ne!(tag, default_tag, "seed booking commit");
    assert_eq!(state(&map, "A-3"), 'b');
    step("a booking of another event", false, api.snapshot());
}

/// Holds expire with no script running: the ETag still changes with the
/// map, and an If-None-Match from before the expiry gets the freed seat.
/// A hold cleanup (best available drops expired index entries) changes
/// nothing shown, and a later expiry still moves the ETag: the validator
/// counts live holds, which a cleanup never touches.
#[test]
fn expiring_holds_move_the_etag() {
    let api = Api::start();
    let hold = |seats: &[&str], ttl: u32| {
        api.post(
            &format!("{EVENT}/holds"),
            &json!({ "seats": seats, "ttlSeconds": ttl }),
        );
    };
    // Row B: B-1 held 1 s, B-2 held 2 s, B-4 and B-6 held a minute; all of
    // row A booked, so best available must look at row B.
    api.post(
        &format!("{EVENT}/bookings"),
        &json!({ "seats": ["A-1", "A-2", "A-3", "A-4", "A-5", "A-6"] }),
    );
    hold(&["B-1"], 1);
    hold(&["B-2"], 2);
    hold(&["B-4", "B-6"], 60);
    let all_held = api.snapshot();
    assert_eq!(state(&all_held.seats, "B-1"), 'h');
    assert_not_modified(
        &api.read_if_none_match(SEATS, &all_held.seats_tag),
        &all_held.seats_tag,
        "before any expiry",
    );

    thread::sleep(Duration::from_millis(1100));
    let answer = api.read_if_none_match(SEATS, &all_held.seats_tag);
    assert_eq!(answer.status, 200, "B-1 expired: a new map");
    assert_eq!(state(&answer.json(), "B-1"), 'a');
    let one_expired = api.snapshot();
    assert_ne!(one_expired.seats_tag, all_held.seats_tag);
    assert_ne!(one_expired.event_tag, all_held.event_tag);
    assert_eq!(one_expired.event["held"], 3);

    // Free now: B-1, B-3, B-5: no two together. Best available for two
    // adjacent seats scans row B (dropping B-1's expired entry) and finds none.
    let sold_out = api.send(
        "POST",
        &format!("{EVENT}/holds"),
        &[],
        Some(&json!({ "bestAvailable": { "count": 2, "adjacent": true } })),
    );
    assert_eq!(sold_out.status, 409, "{}", text(&sold_out));
    let cleaned = api.snapshot();
    assert_eq!(cleaned.seats, one_expired.seats);
    assert_eq!(cleaned.event, one_expired.event);
    if cleaned.seats_tag == one_expired.seats_tag {
        assert_not_modified(
            &api.read_if_none_match(SEATS, &one_expired.seats_tag),
            &one_expired.seats_tag,
            "after the cleanup",
        );
    }

    thread::sleep(Duration::from_millis(1000));
    let two_expired = api.snapshot();
    assert_eq!(state(&two_expired.seats, "B-2"), 'a');
    for earlier in [&all_held, &one_expired, &cleaned] {
        assert_ne!(two_expired.seats_tag, earlier.seats_tag);
        assert_ne!(two_expired.event_tag, earlier.event_tag);
        assert_eq!(
            api.read_if_none_match(SEATS, &earlier.seats_tag).status,
            200
        );
    }
}

/// A 304 costs what the full read costs in round trips: one connection,
/// one EVALSHA (the full read before it had Redis cache the script); and it
/// reads no map (no HMGET of the rows, no hold lists).
#[test]
fn a_304_is_one_evalsha_that_reads_no_map() {
    let api = Api::start();
    let (etag, _) = api.read(SEATS);
    let monitor = RedisMonitor::start(&api.redis);
    for path in [SEATS, EVENT] {
        let current = if path == SEATS {
            etag.clone()
        } else {
            api.read(EVENT).0
        };
        let (answer, cost) = monitor.cost_of(&api.redis, || api.read_if_none_match(path, &current));
        assert_eq!(answer.status, 304);
        assert_eq!(cost.connections, 1, "{path}: {cost:?}");
        assert_eq!(
            cost.sent,
            [["EVALSHA"]],
            "{path}: one round trip after open"
        );
        assert!(
            cost.in_scripts.iter().all(|c| c != "ZRANGEBYSCORE"),
            "{path}: the 304 lists no holds: {:?}",
            cost.in_scripts
        );
        let hmgets = cost.in_scripts.iter().filter(|c| *c == "HMGET").count();
        assert_eq!(
            hmgets, 1,
            "{path}: only the event record: {:?}",
            cost.in_scripts
        );
    }
}

/// nginx from Debian in front, configured as docs/deployment.md says: a
/// thousand concurrent polls within about a second reach the component a
/// handful of times, and a booking shows through the cache once `max-age`
/// is over (the first poll after it may still get the stale copy while
/// nginx refreshes it in the background; the next one has the booking).
#[test]
fn a_caching_proxy_absorbs_polls_and_still_shows_a_booking_after_max_age() {
    let api = Api::start();
    let proxy = CachingProxy::start(api.spin.addr);
    let through = |path: &str| send_with(&api.agent, "GET", &proxy.url(path), &[], None);
    let first = through(SEATS);
    assert_eq!(first.status, 200, "{}\n{}", text(&first), proxy.log());
    assert_eq!(state(&first.json(), "A-1"), 'a');

    let mut counters = api.redis.client();
    let before = RedisCounters::read(&mut counters);
    const THREADS: usize = 20;
    const PER_THREAD: usize = 50;
    let start = Arc::new(Barrier::new(THREADS + 1));
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let start = Arc::clone(&start);
            let url = proxy.url(SEATS);
            thread::spawn(move || {
                let agent = client();
                start.wait();
                (0..PER_THREAD)
                    .map(|_| {
                        let answer = send_with(&agent, "GET", &url, &[], None);
                        (
                            answer.status,
                            answer.header("x-cache-status").map(str::to_owned),
                        )
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    start.wait();
    let began = Instant::now();
    let answers: Vec<_> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    let elapsed = began.elapsed();
    let (calls, _) = RedisCounters::read(&mut counters).since(&before);
    let evals = calls.get("evalsha").copied().unwrap_or(0);
    let full_maps = calls.get("zrangebyscore").copied().unwrap_or(0);
    let mut statuses = std::collections::BTreeMap::new();
    for (status, cache) in &answers {
        *statuses
            .entry(format!("{status} {}", cache.as_deref().unwrap_or("-")))
            .or_insert(0) += 1;
    }
    println!(
        "{} polls through nginx in {elapsed:?}: {evals} seat-map EVALSHAs reached Redis \
         ({full_maps} row hold lists read); answers {statuses:?}",
        answers.len()
    );
    assert_eq!(answers.len(), THREADS * PER_THREAD);
    assert!(answers.iter().all(|(s, _)| *s == 200), "{statuses:?}");
    // One upstream request per expiry of the cached copy, at most, plus
    // slack for a window that straddles an expiry.
    let allowed = elapsed.as_secs() + 3;
    assert!(
        evals <= allowed,
        "{evals} EVALSHAs for {} polls in {elapsed:?} (allowed {allowed})",
        answers.len()
    );
    assert!(
        elapsed < Duration::from_secs(5),
        "the burst took {elapsed:?}"
    );
    assert_eq!(full_maps, 0, "nothing changed: no full map was built");

    // Once the copy is stale, nginx revalidates it with its ETag: the
    // component answers 304 (a ZCOUNT per row, no hold lists) and nginx
    // keeps serving its copy.
    thread::sleep(Duration::from_millis(2100));
    let before = RedisCounters::read(&mut counters);
    let stale = through(SEATS);
    assert_eq!(stale.status, 200);
    thread::sleep(Duration::from_millis(300));
    let refreshed = through(SEATS);
    let (calls, _) = RedisCounters::read(&mut counters).since(&before);
    println!(
        "revalidation: {} then {}, Redis saw {calls:?}",
        stale.header("x-cache-status").unwrap_or("-"),
        refreshed.header("x-cache-status").unwrap_or("-")
    );
    assert_eq!(
        calls.get("evalsha"),
        Some(&1),
        "one revalidation: {calls:?}"
    );
    assert!(calls.contains_key("zcount"), "the 304 path: {calls:?}");
    assert!(
        !calls.contains_key("zrangebyscore"),
        "no map built: {calls:?}"
    );
    assert_eq!(refreshed.body, first.body);

    // A booking straight at the component (not through the cache) shows
    // through it once the cached copy is stale: nginx keeps `max-age=1`
    // on its whole-second clock, so a copy stays fresh for 1 to 2 s; the
    // first poll after that may get the stale copy while one background
    // request refreshes it, and the next one has the booking.
    let booked = api.post(&format!("{EVENT}/bookings"), &json!({ "seats": ["A-1"] }));
    let booked_at = Instant::now();
    assert_eq!(booked.status, 201);
    let mut timeline = Vec::new();
    let shown_after = loop {
        let answer = through(SEATS);
        let at = booked_at.elapsed();
        let seat = state(&answer.json(), "A-1");
        timeline.push(format!(
            "{}ms {} {seat}",
            at.as_millis(),
            answer.header("x-cache-status").unwrap_or("-")
        ));
        if seat == 'b' || at > Duration::from_secs(5) {
            break at;
        }
        thread::sleep(Duration::from_millis(100));
    };
    println!("after the booking, polls every 100 ms: {timeline:?}");
    assert!(
        timeline[0].ends_with('a'),
        "the cache served its copy at first: {timeline:?}"
    );
    assert!(
        shown_after < Duration::from_secs(3),
        "the booking shows within 2 s (max-age on nginx's clock) and one refresh: {timeline:?}"
    );
}

/// Through nginx configured as docs/deployment.md says: the answers that
/// carry tokens or a buyer's booking pass the proxy on every request and
/// are never stored (`no-store`, and outside the cached locations), while
/// the event reads are cached; and the page's own form posts pass the
/// component's cross-site check, because the proxy hands on the `Host`
/// the browser sent.
#[test]
fn token_answers_pass_a_caching_proxy_unstored_and_its_own_pages_may_post() {
    let api = Api::start();
    let proxy = CachingProxy::start(api.spin.addr);
    let through = |method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>| {
        let mut all = headers.to_vec();
        if body.is_some() && !all.iter().any(|(n, _)| *n == "content-type") {
            all.push(("content-type", "application/json"));
        }
        send_with(&api.agent, method, &proxy.url(path), &all, body)
    };
    // The event reads are the cached ones.
    through("GET", SEATS, &[], None);
    let cached = through("GET", SEATS, &[], None);
    assert_eq!(
        cached.header("x-cache-status"),
        Some("HIT"),
        "{}",
        proxy.log()
    );

    let key = integration::idempotency_key();
    let hold_body = br#"{"seats":["B-1"]}"#;
    let headers = [("idempotency-key", key.as_str())];
    let hold = through("POST", &format!("{EVENT}/holds"), &headers, Some(hold_body));
    let replay = through("POST", &format!("{EVENT}/holds"), &headers, Some(hold_body));
    for answer in [&hold, &replay] {
        assert_eq!(answer.status, 201, "{}", text(answer));
        assert_eq!(answer.header("cache-control"), Some("no-store"));
        assert_eq!(
            answer.header("x-cache-status"),
            None,
            "not a cached location"
        );
    }
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    let hold = hold.json();
    let confirm = format!("{EVENT}/holds/{}/confirm", hold["holdId"].as_str().unwrap());
    let auth = format!("Bearer {}", hold["holdToken"].as_str().unwrap());
    let booked = through("POST", &confirm, &[("authorization", &auth)], None);
    assert_eq!(booked.status, 201, "{}", text(&booked));
    assert_eq!(booked.header("cache-control"), Some("no-store"));
    let booked = booked.json();
    let read_path = format!("{EVENT}/bookings/{}", booked["bookingId"].as_str().unwrap());
    let auth = format!("Bearer {}", booked["bookingToken"].as_str().unwrap());
    for _ in 0..2 {
        let read = through("GET", &read_path, &[("authorization", &auth)], None);
        assert_eq!(read.status, 200, "{}", text(&read));
        assert_eq!(read.header("cache-control"), Some("no-store"));
        assert_eq!(read.header("x-cache-status"), None, "not a cached location");
    }
    // Not answered from a copy: without the token it is refused.
    let stranger = through("GET", &read_path, &[], None);
    stranger.assert_problem(401, "unauthorized");

    // A form post from the page the proxy serves: its Origin is the
    // proxy's, and so is the Host nginx passes on.
    let own = format!("http://{}", proxy.addr);
    let form = [
        ("origin", own.as_str()),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    let posted = through("POST", "/api/book/A-9", &form, Some(b"seat=A-9"));
    assert_eq!(posted.status, 201, "{}", text(&posted));
    let foreign = [
        ("origin", "https://evil.example"),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    through("POST", "/api/book/A-8", &foreign, Some(b"seat=A-8"))
        .assert_problem(403, "cross_site_request");
}
