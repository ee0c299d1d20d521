//! The Spin behaviours the component relies on, pinned against real Spin
//! (docs/design.md, "Spin facts that shape the design"), so that a Spin upgrade
//! that changes one fails here, loudly, rather than in production:
//!
//! - an address outside `allowed_outbound_hosts` is refused
//!   (`error::invalid-address`) with Spin's warning in its log;
//! - a request header that is not UTF-8 is answered 500 by Spin before any
//!   component runs;
//! - a Redis error reply reaches the component as `error::other(message)`,
//!   and for `EVALSHA` of a script Redis has not cached, that message is
//!   redis-rs's `... - NoScriptError: ...`, not Redis's `NOSCRIPT ...`
//!   (`store/eval.rs` falls back to `EVAL` on it);
//! - a component that panics gets its request answered 500, and the next
//!   request is served (checked with the test-only probe component in
//!   `integration/spin-probe/`, since the product must never panic);
//! - a response whose body was written and finished before the response was
//!   set leaves Spin in one write, head and body together (`send_response.rs`
//!   relies on it to spare clients a 40 ms delayed-ACK stall);
//! - the manifest's `files` are mounted under a preopened `/`, where a
//!   relative path from the repository finds them (`mounted_file.rs` serves
//!   the page from them).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use integration::{
    get, post, raw_request, wait_until, Answer, RedisCounters, RedisMonitor, RedisServer, Spin,
};
use redis::Commands;

/// The part of Spin 4.0.2's log line that names a refused destination.
const SPIN_REFUSED_DESTINATION: &str = "Outbound network destination not allowed: ";
/// Spin 4.0.2's warning to the user about a refused destination.
const SPIN_DISALLOWED_WARNING: &str =
    "A component tried to make an outbound network connection to disallowed destination";
/// How Spin 4.0.2 logs a request it could not hand to the component.
const SPIN_REQUEST_ERROR: &str = "Error processing request: ";
/// Redis's error reply to a write over `maxmemory` (`OOM ...`).
const REDIS_OOM_MESSAGE: &str = "command not allowed when used memory > 'maxmemory'";

/// Redis's error reply to `EVALSHA` of a script it has not cached
/// (`NOSCRIPT No matching script. Please use EVAL.`), as Spin 4.0.2 hands it
/// over in `error::other`: its Redis client's (redis-rs) wording, in which
/// Redis's code `NOSCRIPT` became the kind `NoScriptError`.
const REDIS_NOSCRIPT_MESSAGE: &str =
    "An error was signalled by the server - NoScriptError: No matching script. Please use EVAL.";
/// The component's log line when it falls back to `EVAL` (`store/eval.rs`).
const SCRIPT_CACHE_MISS: &str = "redis script cache miss, sending the script: ";

/// Waits until `spin`'s log contains `text`, then returns the log.
fn log_with(spin: &Spin, text: &str) -> String {
    wait_until(
        Duration::from_secs(5),
        &format!("{text:?} in the log"),
        || spin.log().contains(text),
    );
    spin.log()
}

/// Waits until the component's stderr has a line containing `text`, then
/// returns that line.
fn component_line(spin: &Spin, text: &str) -> String {
    wait_until(Duration::from_secs(5), "the component's log line", || {
        spin.component_stderr().contains(text)
    });
    spin.component_stderr()
        .lines()
        .find(|l| l.contains(text))
        .map(str::to_owned)
        .unwrap()
}

/// Asserts an empty 500, the answer Spin itself gives when no component
/// answer exists.
fn assert_spin_500(answer: &Answer) {
    assert_eq!(
        answer.status,
        500,
        "body: {}",
        String::from_utf8_lossy(&answer.body)
    );
    assert!(
        answer.body.is_empty(),
        "Spin's own 500 has no body: {}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(answer.header("content-length"), Some("0"));
}

#[test]
fn a_redis_address_outside_allowed_outbound_hosts_is_refused_by_spin() {
    let redis = RedisServer::start();
    // The component is told to open this Redis, but the manifest only
    // allows another port.
    let allowed = format!("127.0.0.1:{}", integration::free_port());
    let spin = Spin::start_with(&[
        ("SPIN_VARIABLE_REDIS_ADDRESS", redis.url().as_str()),
        ("SPIN_VARIABLE_REDIS_HOST", allowed.as_str()),
    ]);
    let mut r = redis.client();
    let before = RedisCounters::read(&mut r);

    let answer = post(&spin.url("/api/book/1"));
    answer.assert_problem(500, "misconfigured");
    let detail = answer.json()["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("allowed_outbound_hosts"), "{detail}");
    get(&spin.url("/health")).assert_problem(500, "misconfigured");

    let (calls, connections) = RedisCounters::read(&mut r).since(&before);
    assert_eq!(connections, 0, "the refused address was never connected to");
    assert!(calls.is_empty(), "{calls:?}");
    let destination = format!("redis://127.0.0.1:{}", redis.port);
    let log = log_with(&spin, &format!("{SPIN_REFUSED_DESTINATION}{destination}"));
    assert!(
        log.contains(&format!("{SPIN_DISALLOWED_WARNING} '{destination}'")),
        "{log}"
    );
    // The component learnt it as `invalid-address` and logged its own line.
    assert!(spin.component_stderr().contains("misconfigured: "), "{log}");
}

#[test]
fn a_header_that_is_not_utf8_is_answered_500_by_spin_before_the_component_runs() {
    let redis = RedisServer::start();
    let spin = Spin::start(&redis);
    let mut r = redis.client();
    let before = RedisCounters::read(&mut r);

    let mut request = b"POST /api/book/U1 HTTP/1.1\r\nHost: probe\r\nX-Not-Utf8: ".to_vec();
    request.extend_from_slice(b"caf\xe9 \xff\xfe");
    request.extend_from_slice(b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let answer = raw_request(spin.addr, &request);
    assert_spin_500(&answer);

    // The component never ran: it would have opened Redis to book U1.
    let (calls, connections) = RedisCounters::read(&mut r).since(&before);
    assert_eq!(connections, 0, "no Redis connection was opened");
    assert!(calls.is_empty(), "no Redis command ran: {calls:?}");
    assert!(!r.exists::<_, bool>("lock:seat:{default}:U1").unwrap());
    let log = log_with(&spin, &format!("{SPIN_REQUEST_ERROR}invalid utf-8"));
    assert!(spin.component_stderr().is_empty(), "{log}");

    // The instance is fine: the next request books the seat.
    assert_eq!(post(&spin.url("/api/book/U1")).status, 201);
}

/// `INFO errorstats`'s count of `OOM` error replies.
fn oom_replies(conn: &mut redis::Connection) -> u64 {
    let stats: String = redis::cmd("INFO")
        .arg("errorstats")
        .query(conn)
        .expect("INFO errorstats");
    stats
        .lines()
        .find_map(|l| l.strip_prefix("errorstat_OOM:count="))
        .map_or(0, |n| n.trim().parse().expect("OOM count"))
}

#[test]
fn a_redis_error_reply_reaches_the_component_as_other_with_its_message() {
    // With maxmemory at 1 byte every write is refused with an error reply
    // (`OOM command not allowed ...`); reads and PING still work.
    let redis = RedisServer::start_with(&["--maxmemory", "1"]);
    let spin = Spin::start(&redis);
    let mut r = redis.client();
    let oom_before = oom_replies(&mut r);

    // The component maps `other(message)` to Unavailable: 503 with Retry-After.
    let answer = post(&spin.url("/api/book/E1"));
    answer.assert_problem(503, "redis_unavailable");
    assert_eq!(answer.header("retry-after"), Some("1"));
    assert_eq!(
        oom_replies(&mut r),
        oom_before + 1,
        "Redis sent one error reply"
    );
    let line = component_line(&spin, REDIS_OOM_MESSAGE);
    assert!(line.starts_with("redis unavailable: "), "{line}");

    // Redis's own error, not the connection: once writes fit, it books.
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg("0")
        .query(&mut r)
        .unwrap();
    assert_eq!(post(&spin.url("/api/book/E1")).status, 201);
}

/// What `store/eval.rs` relies on: Redis's `NOSCRIPT` reply to `EVALSHA`
/// reaches the component as `error::other` with a message whose kind,
/// `NoScriptError`, comes first after the fixed prefix, so the component
/// can tell it from every other error and send the script's text with
/// `EVAL`, on the same connection.
#[test]
fn a_noscript_reply_reaches_the_component_as_other_with_its_kind_first() {
    // A fresh Redis has no script cached.
    let redis = RedisServer::start();
    let spin = Spin::start(&redis);
    let monitor = RedisMonitor::start(&redis);

    assert_eq!(post(&spin.url("/api/book/N1")).status, 201);
    let lines = monitor.take_lines();
    let scripts: Vec<_> = lines
        .iter()
        .filter(|l| l.command.starts_with("EVAL"))
        .collect();
    assert_eq!(scripts.len(), 2, "{lines:?}");
    assert_eq!(
        (scripts[0].command.as_str(), scripts[1].command.as_str()),
        ("EVALSHA", "EVAL")
    );
    assert_eq!(scripts[0].source, scripts[1].source, "one connection");
    let line = component_line(&spin, SCRIPT_CACHE_MISS);
    assert_eq!(line, format!("{SCRIPT_CACHE_MISS}{REDIS_NOSCRIPT_MESSAGE}"));

    // The EVAL cached the script: the next booking sends EVALSHA alone.
    assert_eq!(post(&spin.url("/api/book/N2")).status, 201);
    let commands: Vec<String> = monitor.take();
    assert_eq!(commands, ["SET", "EVALSHA"]);
}

#[test]
fn a_panicking_component_gets_a_500_and_the_next_request_is_served() {
    let spin = Spin::start_probe();
    assert_eq!(get(&spin.url("/")).status, 200);

    for _ in 0..3 {
        assert_spin_500(&get(&spin.url("/panic")));
        let after = get(&spin.url("/"));
        assert_eq!(after.status, 200, "served again after a panic");
        assert_eq!(after.body, b"probe ok");
    }
    let log = log_with(
        &spin,
        &format!("{SPIN_REQUEST_ERROR}guest invocation failed"),
    );
    assert!(log.contains("wasm trap"), "{log}");
    assert!(
        spin.component_stderr()
            .contains("spin-probe: panicking on purpose for /panic"),
        "the panic message reaches the component's stderr log:\n{log}"
    );
}

/// What `src/send_response.rs` relies on: Spin (hyper) writes a response
/// whose body is already finished in one go. With spin-sdk's default glue
/// (head set first, body written after) Spin sometimes sends the head alone
/// and the body in a second small segment that Nagle's algorithm holds until
/// the client's delayed ACK, 40 ms later; measured on Spin 4.0.2 with one
/// keep-alive connection, 12 to 14 of 300 bookings on the yardstick
/// component split that way. Here every one of 300 bookings, on one
/// keep-alive connection, must arrive whole in the first read the client
/// makes: the first bytes carry the head, the body and the closing chunk.
#[test]
fn a_small_answer_reaches_the_client_in_one_piece() {
    let redis = RedisServer::start();
    let spin = Spin::start(&redis);
    let mut stream = TcpStream::connect(spin.addr).expect("connect to Spin");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut split = Vec::new();
    for n in 0..300 {
        let request = format!("POST /api/book/W{n} HTTP/1.1\r\nHost: test\r\n\r\n");
        stream
            .write_all(request.as_bytes())
            .expect("send the request");
        let mut buf = vec![0; 65536];
        let first = read_some(&mut stream, &mut buf).expect("read the answer");
        let mut answer = buf[..first].to_vec();
        while !answer.ends_with(b"\r\n0\r\n\r\n") {
            let more = read_some(&mut stream, &mut buf).expect("read the rest");
            assert!(more > 0, "Spin closed the connection mid-answer");
            answer.extend_from_slice(&buf[..more]);
        }
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 201"), "{text}");
        if first < answer.len() {
            split.push(format!(
                "W{n}: first read {first} of {} bytes",
                answer.len()
            ));
        }
    }
    assert!(split.is_empty(), "answers split across reads: {split:?}");
}

/// One `read`, retried when a signal interrupted it before any byte
/// arrived (EINTR consumes nothing, so the next read is still the first
/// that returns data).
fn read_some(stream: &mut TcpStream, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match stream.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// `files` in `spin.toml`: Spin mounts the listed files into the component
/// at the paths they have in the repository, under one preopened directory
/// named `/`. `mounted_file.rs` relies on both to serve the page and the
/// OpenAPI document, which are not built into the component.
#[test]
fn mounted_files_are_served_byte_for_byte() {
    let redis = RedisServer::start();
    let spin = Spin::start(&redis);
    let repo = |path: &str| std::fs::read(integration::root().join(path)).unwrap();

    let document = get(&spin.url("/api/openapi.json"));
    assert_eq!(document.status, 200);
    assert!(
        document.body == repo("api/openapi.json"),
        "the OpenAPI document differs"
    );

    let page = get(&spin.url("/"));
    assert_eq!(page.status, 200);
    let html = String::from_utf8(page.body).unwrap();
    for (name, file) in [("page.js", "web/page.js"), ("page.css", "web/page.css")] {
        let start = html
            .find(&format!("/assets/{name}?v="))
            .unwrap_or_else(|| panic!("the page links {name}: {html}"));
        let url = &html[start..start + html[start..].find('"').unwrap()];
        let asset = get(&spin.url(url));
        assert_eq!(asset.status, 200, "{url}");
        assert!(asset.body == repo(file), "{url} differs from {file}");
    }
}

/// Sends `head` and then `body` on a new connection to Spin, ignoring a
/// failed write (Spin may answer and close before taking it all), and
/// returns the first answer read, whole.
fn answer_to(spin: &Spin, head: &str, body: &[u8]) -> (TcpStream, String) {
    let mut stream = TcpStream::connect(spin.addr).expect("connect to Spin");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(head.as_bytes()).expect("send the head");
    let _ = stream.write_all(body);
    let text = read_answer(&mut stream);
    (stream, text)
}

/// Reads one chunked answer (Spin chunks every answer the component
/// streams) up to its closing chunk.
fn read_answer(stream: &mut TcpStream) -> String {
    let mut buf = vec![0; 65536];
    let mut answer = Vec::new();
    while !answer.ends_with(b"\r\n0\r\n\r\n") {
        let n = read_some(stream, &mut buf).expect("read the answer");
        assert!(n > 0, "Spin closed the connection mid-answer: {answer:?}");
        answer.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// What `src/request.rs` relies on, and what it does about it. A component
/// may answer without reading the request body (a booking takes none), or
/// after reading only part of it (a body over the 128 KiB limit is refused
/// from its first 128 KiB and one byte). Spin delivers the answer either
/// way, but a body left unread when the answer goes out ends the
/// connection, and a client still sending then gets a broken pipe (ureq
/// gave up on a 413 that way in CI). So the component reads and drops what
/// is left, up to 1 MiB in all: such a client gets its answer on a
/// connection that stays open. Past 1 MiB the answer still comes first.
#[test]
fn an_answer_given_before_the_body_is_read_reaches_the_client() {
    let redis = RedisServer::start();
    let spin = Spin::start(&redis);
    let book = |seat: &str, length: usize| {
        format!("POST /api/book/{seat} HTTP/1.1\r\nHost: test\r\nContent-Length: {length}\r\n\r\n")
    };
    let hold = |framing: &str| {
        format!(
            "POST /api/events/default/holds HTTP/1.1\r\nHost: test\r\n\
             Content-Type: application/json\r\n{framing}\r\n"
        )
    };
    let chunked = |size: usize| hold(&format!("Transfer-Encoding: chunked\r\n\r\n{size:x}"));
    let chunked_body = |size: usize| [vec![b' '; size], b"\r\n0\r\n\r\n".to_vec()].concat();
    let still_open = |stream: &mut TcpStream, what: &str| {
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
            .unwrap_or_else(|e| panic!("after {what}: send a second request: {e}"));
        let health = read_answer(stream);
        assert!(health.starts_with("HTTP/1.1 200"), "after {what}: {health}");
    };

    // Bodies the booking never reads, and bodies over the limit, declared
    // or found by reading: each answered on a connection that stays open.
    let size = 200 * 1024;
    let cases = [
        (
            "5 bytes to a booking",
            book("U1", 5),
            b"hello".to_vec(),
            "201",
        ),
        (
            "100 KB to a booking",
            book("U2", 100_000),
            vec![b'x'; 100_000],
            "201",
        ),
        (
            "200 KiB declared to a hold",
            hold(&format!("Content-Length: {size}\r\n")),
            vec![b' '; size],
            "413",
        ),
        (
            "200 KiB chunked to a hold",
            chunked(size),
            chunked_body(size),
            "413",
        ),
    ];
    for (what, head, body, status) in cases {
        let (mut stream, answer) = answer_to(&spin, &head, &body);
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "{what}: {answer}"
        );
        still_open(&mut stream, what);
    }

    // Past 1 MiB: the answer comes before the body is all sent.
    let size = 4 << 20;
    let (_, refused) = answer_to(&spin, &chunked(size), &chunked_body(size));
    assert!(refused.starts_with("HTTP/1.1 413"), "{refused}");
    assert!(refused.contains("body_too_large"), "{refused}");
    let (_, answer) = answer_to(&spin, &book("U3", size), &vec![b'x'; size]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}
