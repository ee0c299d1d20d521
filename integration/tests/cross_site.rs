//! Cross-site requests (issue 22), on real Spin and a real Redis: a state
//! change a page of another site makes a browser send (a form post with a
//! foreign `Origin`, `Sec-Fetch-Site: cross-site`, `Origin: null`) is
//! `403 cross_site_request` before anything reaches Redis, on every
//! state-changing route; the page's own origin (as Spin gives the component
//! the `Host` it was sent to), `Sec-Fetch-Site: same-origin`, the origins of
//! `allowed_origins` and requests without `Origin` (curl, Artillery,
//! servers) are served as before; reads are not affected.

use integration::{raw_request, send_with, Answer, RedisMonitor, Service};
use redis::Commands;
use serde_json::json;

integration::service_api!(Api);

const FOREIGN: &str = "https://evil.example";

impl Api {
    fn start() -> Api {
        let api = Api(Service::start());
        api.create_event("gala", &[("A", 10)]);
        api
    }

    /// What a page's `<form method=post>` sends: a form body, its
    /// content type, and the given headers (`Origin`, `Sec-Fetch-Site`).
    fn form_post(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut all = vec![("content-type", "application/x-www-form-urlencoded")];
        all.extend_from_slice(headers);
        send_with(
            &self.agent,
            "POST",
            &self.spin.url(path),
            &all,
            Some(b"seat=A-1"),
        )
    }

    /// The component's own origin, as a browser on its page writes it.
    fn own_origin(&self) -> String {
        format!("http://{}", self.spin.addr)
    }
}

/// Headers to send, by name.
type Headers<'a> = Vec<(&'a str, &'a str)>;

fn text(a: &Answer) -> String {
    String::from_utf8_lossy(&a.body).into_owned()
}

#[test]
fn a_state_change_from_another_site_s_page_is_403_and_reaches_no_redis() {
    let api = Api::start();
    let monitor = RedisMonitor::start(&api.redis);
    let own = api.own_origin();
    let https_own = own.replacen("http://", "https://", 1);
    let refused: Vec<(&str, Headers)> = vec![
        ("a foreign Origin", vec![("origin", FOREIGN)]),
        (
            "a foreign Origin, cross-site",
            vec![("origin", FOREIGN), ("sec-fetch-site", "cross-site")],
        ),
        (
            "a sibling site",
            vec![
                ("origin", "http://shop.127.0.0.1.nip.io"),
                ("sec-fetch-site", "same-site"),
            ],
        ),
        // The browser's word against an Origin that looks like ours.
        (
            "our Origin, cross-site",
            vec![("origin", own.as_str()), ("sec-fetch-site", "cross-site")],
        ),
        ("Origin: null", vec![("origin", "null")]),
        ("another port", vec![("origin", "http://127.0.0.1:1")]),
        (
            "https where Spin serves http",
            vec![("origin", https_own.as_str())],
        ),
    ];
    for (what, headers) in refused {
        let (answer, cost) =
            monitor.cost_of(&api.redis, || api.form_post("/api/book/X1", &headers));
        answer.assert_problem(403, "cross_site_request");
        assert_eq!(
            answer.header("cache-control"),
            None,
            "{what}: a plain problem"
        );
        assert_eq!(
            (cost.connections, cost.sent.len()),
            (0, 0),
            "{what}: Redis was not even opened: {cost:?}"
        );
    }
    let detail = api.form_post("/api/book/X1", &[("origin", FOREIGN)]).json()["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(detail.contains(FOREIGN), "{detail}");
    assert!(detail.contains("allowed_origins"), "{detail}");

    // Every state-changing route, before its body is read: a JSON hold is
    // refused for its origin, not its body or media type.
    let hold = send_with(
        &api.agent,
        "POST",
        &api.spin.url("/api/events/gala/holds"),
        &[("origin", FOREIGN), ("content-type", "text/plain")],
        Some(br#"{"seats":["A-1"]}"#),
    );
    hold.assert_problem(403, "cross_site_request");
    let held = api.call(
        "POST",
        "/api/events/gala/holds",
        None,
        Some(&json!({ "seats": ["A-2"] })),
    );
    assert_eq!(held.status, 201, "{}", text(&held));
    let (hold_id, token) = (
        held.json()["holdId"].as_str().unwrap().to_owned(),
        held.json()["holdToken"].as_str().unwrap().to_owned(),
    );
    let auth = format!("Bearer {token}");
    let path = format!("/api/events/gala/holds/{hold_id}");
    for (method, path) in [
        ("DELETE", path.clone()),
        ("POST", format!("{path}/confirm")),
    ] {
        let answer = send_with(
            &api.agent,
            method,
            &api.spin.url(&path),
            &[("origin", FOREIGN), ("authorization", &auth)],
            None,
        );
        answer.assert_problem(403, "cross_site_request");
    }
    let join = api.form_post("/api/events/gala/queue", &[("origin", FOREIGN)]);
    join.assert_problem(403, "cross_site_request");
    let create = api.form_post("/api/events", &[("origin", FOREIGN)]);
    create.assert_problem(403, "cross_site_request");

    // Nothing was written: no booking, the hold still held.
    let mut r = api.redis.client();
    let booked: Vec<String> = r.smembers("bookings:{default}").unwrap();
    assert!(booked.is_empty(), "{booked:?}");
    let lock: Option<String> = r.get("lock:seat:{default}:X1").unwrap();
    assert_eq!(lock, None);
    let seats = api.send("GET", "/api/events/gala/seats", &[], None).json();
    assert_eq!(seats["rows"][0]["states"], "ahaaaaaaaa");

    // Reads are not state changes: a foreign Origin is served as before.
    let read = send_with(
        &api.agent,
        "GET",
        &api.spin.url("/api/events/gala"),
        &[("origin", FOREIGN), ("sec-fetch-site", "cross-site")],
        None,
    );
    assert_eq!(read.status, 200, "{}", text(&read));
}

#[test]
fn the_page_s_own_origin_and_requests_without_origin_are_served() {
    let api = Api::start();
    let own = api.own_origin();
    let served: Vec<(&str, &str, Headers)> = vec![
        ("S0", "no Origin (curl, Artillery, servers)", vec![]),
        (
            "S1",
            "no Origin but Sec-Fetch-Site (not a browser)",
            vec![("sec-fetch-site", "cross-site")],
        ),
        ("S2", "our own Origin", vec![("origin", own.as_str())]),
        (
            "S3",
            "our own Origin, same-origin",
            vec![("origin", own.as_str()), ("sec-fetch-site", "same-origin")],
        ),
        (
            "S4",
            "our own Origin, typed in (none)",
            vec![("origin", own.as_str()), ("sec-fetch-site", "none")],
        ),
        // Behind a proxy that rewrites Host, the browser still vouches.
        (
            "S5",
            "the public origin, same-origin",
            vec![
                ("origin", "https://tickets.example"),
                ("sec-fetch-site", "same-origin"),
            ],
        ),
    ];
    for (seat, what, headers) in served {
        let answer = api.form_post(&format!("/api/book/{seat}"), &headers);
        assert_eq!(answer.status, 201, "{what}: {}", text(&answer));
    }
    let hold = api.send(
        "POST",
        "/api/events/gala/holds",
        &[("origin", own.as_str()), ("sec-fetch-site", "same-origin")],
        Some(&json!({ "seats": ["A-1"] })),
    );
    assert_eq!(hold.status, 201, "{}", text(&hold));

    // The component's own origin is the Host the request names, as Spin
    // hands it over in `spin-full-url` (case and default port aside), not
    // the address Spin listens on.
    let with_host = |seat: &str, host: &str, origin: &str| {
        raw_request(
            api.spin.addr,
            format!(
                "POST /api/book/{seat} HTTP/1.1\r\nHost: {host}\r\nOrigin: {origin}\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        )
    };
    let named = with_host("H1", "Tickets.Example:80", "http://tickets.example");
    assert_eq!(named.status, 201, "{}", text(&named));
    let named = with_host("H2", "tickets.example:8080", "http://tickets.example:8080");
    assert_eq!(named.status, 201, "{}", text(&named));
    with_host("H3", "tickets.example", "http://tickets.example:8080")
        .assert_problem(403, "cross_site_request");
    with_host("H4", "tickets.example", &own).assert_problem(403, "cross_site_request");

    let mut r = api.redis.client();
    let booked: Vec<String> = r.smembers("bookings:{default}").unwrap();
    assert_eq!(booked.len(), 8, "S0 to S5, H1 and H2");
}

#[test]
fn the_origins_of_allowed_origins_pass_and_only_they() {
    let api = Api(Service::start_with(&[(
        "SPIN_VARIABLE_ALLOWED_ORIGINS",
        "https://shop.example, https://box.example:8443",
    )]));
    for (seat, origin) in [
        ("P1", "https://shop.example"),
        ("P2", "https://SHOP.example:443"),
        ("P3", "https://box.example:8443"),
    ] {
        let answer = api.form_post(
            &format!("/api/book/{seat}"),
            &[("origin", origin), ("sec-fetch-site", "cross-site")],
        );
        assert_eq!(answer.status, 201, "{origin}: {}", text(&answer));
    }
    for origin in [
        "https://box.example",
        "http://shop.example",
        "https://shop.example.evil.example",
        "null",
    ] {
        api.form_post("/api/book/P9", &[("origin", origin)])
            .assert_problem(403, "cross_site_request");
    }
    // The service's own pages still pass beside the list.
    let own = api.own_origin();
    let answer = api.form_post("/api/book/P4", &[("origin", own.as_str())]);
    assert_eq!(answer.status, 201, "{}", text(&answer));
}
