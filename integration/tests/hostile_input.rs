//! Bad and hostile input: oversized, mistyped, malformed and deeply nested
//! bodies, absurd numbers, hostile ids, injected headers, wrong tokens and
//! missing admin credentials. Every case gets a clear 4xx problem answer,
//! and nothing a client sends reaches Redis as a key unchecked.

use integration::{client, raw, send_with, Answer, RedisServer, Spin, ADMIN_TOKEN};
use redis::Commands;
use serde_json::{json, Value};

fn call(spin: &Spin, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    send_with(&client(), method, &spin.url(path), headers, Some(body))
}

fn json_call(spin: &Spin, method: &str, path: &str, body: &Value) -> Answer {
    call(
        spin,
        method,
        path,
        &[("content-type", "application/json")],
        body.to_string().as_bytes(),
    )
}

fn admin(spin: &Spin, body: &Value) -> Answer {
    let auth = format!("Bearer {ADMIN_TOKEN}");
    call(
        spin,
        "POST",
        "/api/events",
        &[
            ("content-type", "application/json"),
            ("authorization", &auth),
        ],
        body.to_string().as_bytes(),
    )
}

fn start_with_event() -> (RedisServer, Spin) {
    let redis = RedisServer::start();
    let spin = Spin::start(&redis);
    let created = admin(
        &spin,
        &json!({ "id": "gala", "name": "Gala", "rows": [{"label": "A", "seats": 20}] }),
    );
    assert_eq!(created.status, 201);
    (redis, spin)
}

/// Every key in Redis is one the component's key layout allows.
fn assert_only_well_formed_keys(redis: &RedisServer) {
    let mut r = redis.client();
    let keys: Vec<String> = r.keys("*").unwrap();
    for key in keys {
        // The index of events is the one key outside any event (keys.rs).
        if key == "events" {
            continue;
        }
        let ok = key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_:{}".contains(&b))
            && key.matches('{').count() == 1
            && key.matches('}').count() == 1;
        assert!(ok, "unexpected key {key:?}");
    }
}

#[test]
fn malformed_oversized_and_mistyped_bodies_get_clear_4xx() {
    let (redis, spin) = start_with_event();
    let holds = "/api/events/gala/holds";
    let nested = "[".repeat(5000) + &"]".repeat(5000);
    let thousands: Vec<String> = (0..5000).map(|n| format!("A-{n}")).collect();
    let cases: Vec<(Vec<u8>, &str, u16, &str)> = vec![
        (
            vec![b'x'; 200 * 1024],
            "application/json",
            413,
            "body_too_large",
        ),
        (
            br#"{"seats":["A-1"]}"#.to_vec(),
            "text/plain",
            415,
            "unsupported_media_type",
        ),
        (
            br#"{"seats": ["#.to_vec(),
            "application/json",
            400,
            "invalid_body",
        ),
        (
            b"\xff\xfe".to_vec(),
            "application/json",
            400,
            "invalid_body",
        ),
        (nested.into_bytes(), "application/json", 400, "invalid_body"),
        (
            br#"{"seats":["A-1"],"admin":true}"#.to_vec(),
            "application/json",
            400,
            "invalid_body",
        ),
        (
            br#"{"bestAvailable":{"count":-1}}"#.to_vec(),
            "application/json",
            400,
            "invalid_body",
        ),
        (
            br#"{"bestAvailable":{"count":1e12}}"#.to_vec(),
            "application/json",
            400,
            "invalid_body",
        ),
        (
            br#"{"bestAvailable":{"count":0}}"#.to_vec(),
            "application/json",
            400,
            "invalid_body",
        ),
        (
            br#"{"bestAvailable":{"count":101}}"#.to_vec(),
            "application/json",
            400,
            "invalid_body",
        ),
        (
            br#"{"seats":["A-1"],"ttlSeconds":-5}"#.to_vec(),
            "application/json",
            400,
            "invalid_body",
        ),
        (
            br#"{"seats":["A-1"],"ttlSeconds":99999999999999999999}"#.to_vec(),
            "application/json",
            400,
            "invalid_body",
        ),
        (
            br#"{"seats":["A-1","A-2","A-1"]}"#.to_vec(),
            "application/json",
            400,
            "invalid_body",
        ),
        (
            json!({ "seats": thousands }).to_string().into_bytes(),
            "application/json",
            400,
            "invalid_body",
        ),
        (
            br#"{"seats":[]}"#.to_vec(),
            "application/json",
            400,
            "invalid_body",
        ),
        (
            br#"{"seats":"A-1"}"#.to_vec(),
            "application/json",
            400,
            "invalid_body",
        ),
        (
            br#"{"seats":["A-1*"]}"#.to_vec(),
            "application/json",
            400,
            "invalid_seat_id",
        ),
        (
            br#"{"seats":["{gala}A-1"]}"#.to_vec(),
            "application/json",
            400,
            "invalid_seat_id",
        ),
        (
            br#"{"seats":["A?1"]}"#.to_vec(),
            "application/json",
            400,
            "invalid_seat_id",
        ),
        (
            br#"{"seats":["[a]"]}"#.to_vec(),
            "application/json",
            400,
            "invalid_seat_id",
        ),
        (
            br#"{"seats":["A-1\r\nX: y"]}"#.to_vec(),
            "application/json",
            400,
            "invalid_seat_id",
        ),
    ];
    for (body, content_type, status, code) in cases {
        let headers: Vec<(&str, &str)> = if content_type.is_empty() {
            vec![]
        } else {
            vec![("content-type", content_type)]
        };
        let a = call(&spin, "POST", holds, &headers, &body);
        assert_eq!(
            a.status,
            status,
            "{} -> {}",
            String::from_utf8_lossy(&body[..body.len().min(60)]),
            String::from_utf8_lossy(&a.body)
        );
        a.assert_problem(status, code);
    }
    // No Content-Type at all.
    integration::raw_with_body(
        spin.addr,
        "POST",
        holds.as_bytes(),
        &[],
        br#"{"seats":["A-1"]}"#,
    )
    .assert_problem(415, "unsupported_media_type");
    assert_only_well_formed_keys(&redis);
}

/// Bodies nested as deep as serde_json goes (its limit is 128), where each
/// route's parser would follow them, get a 4xx on every POST route: the
/// component's small stack (`build.rs`) is enough for its deepest parse.
#[test]
fn bodies_nested_to_the_parsers_limit_get_4xx_on_every_route() {
    let (redis, spin) = start_with_event();
    let auth = format!("Bearer {ADMIN_TOKEN}");
    // (POST /api/book/{seatId} reads no body.)
    let routes = [
        "/api/events",
        "/api/events/gala/holds",
        "/api/events/gala/holds/h1/confirm",
        "/api/events/gala/bookings",
        "/api/events/gala/queue",
    ];
    for depth in [126, 127, 128, 129] {
        let arrays = "[".repeat(depth) + &"]".repeat(depth);
        let objects = r#"{"a":"#.repeat(depth) + "1" + &"}".repeat(depth);
        let bodies = [
            arrays.clone(),
            format!(r#"{{"seats":{arrays}}}"#),
            format!(r#"{{"rows":{arrays}}}"#),
            format!(r#"{{"bestAvailable":{objects}}}"#),
            format!(r#"{{"id":"deep","name":"Deep","rows":[{{"label":{objects}}}]}}"#),
        ];
        for route in routes {
            for body in &bodies {
                let headers = [
                    ("content-type", "application/json"),
                    ("authorization", &auth),
                ];
                let a = call(&spin, "POST", route, &headers, body.as_bytes());
                assert!(
                    (400..500).contains(&a.status),
                    "{route}, depth {depth}, {}: {} {}",
                    &body[..body.len().min(40)],
                    a.status,
                    String::from_utf8_lossy(&a.body)
                );
            }
        }
    }
    assert_only_well_formed_keys(&redis);
}

#[test]
fn hostile_ids_and_headers_are_refused_before_redis() {
    let (redis, spin) = start_with_event();
    let targets: Vec<(&[u8], &str)> = vec![
        (b"/api/events/*", "invalid_event_id"),
        (b"/api/events/%7Bgala%7D/seats", "invalid_event_id"),
        (b"/api/events/ga%0D%0Ala/seats", "invalid_event_id"),
        (b"/api/events/gala%20/seats", "invalid_event_id"),
        (b"/api/events/g?a/seats", "event_not_found"),
        (b"/api/book/a%0D%0ALocation:%20evil", "invalid_seat_id"),
        (b"/api/book/A-1*", "invalid_seat_id"),
        (b"/api/book/%5Ba%5D", "invalid_seat_id"),
        (b"/api/events/gala/../default/seats", "invalid_path"),
        (b"/api/events/gala/./seats", "invalid_path"),
    ];
    for (target, code) in targets {
        let method = if target.starts_with(b"/api/book") {
            "POST"
        } else {
            "GET"
        };
        let a = raw(spin.addr, method, target);
        let status = if code == "event_not_found" { 404 } else { 400 };
        assert_eq!(
            a.status,
            status,
            "{}: {}",
            String::from_utf8_lossy(target),
            String::from_utf8_lossy(&a.body)
        );
        a.assert_problem(status, code);
        assert!(
            a.headers.values().all(|v| !v.contains("evil")),
            "no injected header"
        );
    }
    let long_key = "k".repeat(256);
    let a = call(
        &spin,
        "POST",
        "/api/book/K1",
        &[("idempotency-key", long_key.as_str())],
        b"",
    );
    a.assert_problem(400, "invalid_idempotency_key");
    assert_only_well_formed_keys(&redis);
}

#[test]
fn admin_endpoints_refuse_missing_wrong_and_unconfigured_tokens() {
    let redis = RedisServer::start();
    let spin = Spin::start(&redis);
    let body = json!({ "id": "e1", "name": "E", "rows": [{"label": "A", "seats": 1}] }).to_string();
    let cases = [
        (vec![], 401, "unauthorized"),
        (vec![("authorization", "Bearer ")], 401, "unauthorized"),
        (
            vec![("authorization", "Basic YWRtaW46YWRtaW4=")],
            401,
            "unauthorized",
        ),
        (
            vec![("authorization", "Bearer test-admin-token-012345678")],
            403,
            "forbidden",
        ),
        (
            vec![("authorization", "Bearer test-admin-token-01234567890")],
            403,
            "forbidden",
        ),
        (
            vec![("authorization", "Bearer TEST-ADMIN-TOKEN-0123456789")],
            403,
            "forbidden",
        ),
    ];
    for (mut headers, status, code) in cases {
        headers.push(("content-type", "application/json"));
        call(&spin, "POST", "/api/events", &headers, body.as_bytes()).assert_problem(status, code);
    }
    let mut r = redis.client();
    assert!(!r.exists::<_, bool>("event:{e1}").unwrap());

    // No admin token configured (the manifest's default): nobody is admin.
    let allowed = format!("127.0.0.1:{}", redis.port);
    let unconfigured = Spin::start_with(&[
        ("SPIN_VARIABLE_REDIS_ADDRESS", redis.url().as_str()),
        ("SPIN_VARIABLE_REDIS_HOST", allowed.as_str()),
    ]);
    for token in ["", "x", ADMIN_TOKEN] {
        let auth = format!("Bearer {token}");
        let a = call(
            &unconfigured,
            "POST",
            "/api/events",
            &[
                ("content-type", "application/json"),
                ("authorization", &auth),
            ],
            body.as_bytes(),
        );
        assert!(a.status == 401 || a.status == 403, "{}", a.status);
        if !token.is_empty() {
            a.assert_problem(403, "admin_disabled");
        }
    }
    assert!(!unconfigured.log().contains(ADMIN_TOKEN));
}

#[test]
fn wrong_tokens_are_refused_alike() {
    let (_redis, spin) = start_with_event();
    assert_eq!(
        admin(
            &spin,
            &json!({ "id": "other", "name": "Other", "rows": [{"label": "A", "seats": 5}] })
        )
        .status,
        201
    );
    let hold = |event: &str, seat: &str, ttl: u64| {
        let a = json_call(
            &spin,
            "POST",
            &format!("/api/events/{event}/holds"),
            &json!({ "seats": [seat], "ttlSeconds": ttl }),
        );
        assert_eq!(a.status, 201);
        (
            a.json()["holdId"].as_str().unwrap().to_owned(),
            a.json()["holdToken"].as_str().unwrap().to_owned(),
        )
    };
    let (target, right) = hold("gala", "A-1", 600);
    let (_, sibling) = hold("gala", "A-2", 600);
    let (_, other_event) = hold("other", "A-1", 600);
    let (_, expired) = hold("gala", "A-3", 1);
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let mut last_char = right.clone();
    let flipped = if right.ends_with('a') { "b" } else { "a" };
    last_char.replace_range(31.., flipped);

    let confirm = format!("/api/events/gala/holds/{target}/confirm");
    let release = format!("/api/events/gala/holds/{target}");
    let mut answers = Vec::new();
    for token in [
        &sibling,
        &other_event,
        &expired,
        &last_char,
        &right.to_uppercase(),
        &format!("{right}0"),
    ] {
        let auth = format!("Bearer {token}");
        for (method, path) in [("POST", &confirm), ("DELETE", &release)] {
            let a = call(&spin, method, path, &[("authorization", &auth)], b"");
            a.assert_problem(403, "forbidden");
            answers.push(a.body.clone());
        }
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "every wrong token gets the same answer"
    );
    let empty = call(
        &spin,
        "POST",
        &confirm,
        &[("authorization", "Bearer ")],
        b"",
    );
    empty.assert_problem(401, "unauthorized");

    // The right token still works: nothing above changed the hold.
    let auth = format!("Bearer {right}");
    let booked = call(&spin, "POST", &confirm, &[("authorization", &auth)], b"");
    assert_eq!(booked.status, 201);
    let b = booked.json();
    let path = format!(
        "/api/events/gala/bookings/{}",
        b["bookingId"].as_str().unwrap()
    );
    for token in [
        right.as_str(),
        sibling.as_str(),
        &b["bookingToken"].as_str().unwrap()[..31],
    ] {
        let auth = format!("Bearer {token}");
        call(&spin, "GET", &path, &[("authorization", &auth)], b"")
            .assert_problem(403, "forbidden");
        call(&spin, "DELETE", &path, &[("authorization", &auth)], b"")
            .assert_problem(403, "forbidden");
    }
}

/// RFC 9110: `HEAD` is served wherever `GET` is, as the `GET`'s status and
/// headers without a body, through real Spin; a path that takes no `GET`
/// still answers 405 with its `Allow`.
#[test]
fn head_is_answered_as_get_without_a_body() {
    let (_redis, spin) = start_with_event();
    for path in ["/api/version", "/health", "/api/events/gala/seats", "/"] {
        let get = call(&spin, "GET", path, &[], b"");
        let head = call(&spin, "HEAD", path, &[], b"");
        assert_eq!(head.status, get.status, "HEAD {path}");
        assert!(head.body.is_empty(), "HEAD {path} carried a body");
        assert_eq!(
            head.header("content-type"),
            get.header("content-type"),
            "{path}"
        );
        assert_eq!(head.header("etag"), get.header("etag"), "{path}");
    }
    let refused = call(&spin, "HEAD", "/api/book/A-1", &[], b"");
    assert_eq!(refused.status, 405);
    assert_eq!(refused.header("allow"), Some("POST"));
    let listed = call(&spin, "PUT", "/api/events", &[], b"");
    assert_eq!(listed.header("allow"), Some("GET, HEAD, POST"));
}
