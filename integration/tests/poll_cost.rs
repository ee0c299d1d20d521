//! What a seat map poll costs when nothing changed, measured on real Spin
//! and a real Redis that nothing else uses: bytes on the wire and Redis CPU
//! per poll, for a poll without a validator (every poll before ETags, and a
//! client's first poll now) and one with `If-None-Match` (a 304), on a
//! 5×40 map and a 50,000-seat stadium with holds and bookings on it.
//! Prints the table the README and docs/deployment.md quote
//! (`cargo test -p integration --test poll_cost -- --nocapture`), and
//! checks that the 304 is the cheaper one.

use std::io::{Read, Write};
use std::net::TcpStream;

use integration::{client, send_with, RedisServer, Spin, ADMIN_TOKEN};
use serde_json::{json, Value};

/// Polls per measurement.
const POLLS: u32 = 200;

/// One measured kind of poll.
#[derive(Debug, Clone, Copy)]
struct Cost {
    /// Bytes of the whole HTTP response (status line, headers, body).
    bytes: usize,
    /// `cmdstat_evalsha` and `cmdstat_eval` microseconds per poll (the
    /// script, with the commands it runs).
    script_usec: f64,
    /// Redis process CPU (user + sys) microseconds per poll, networking included.
    cpu_usec: f64,
}

/// The usec of `cmdstat_evalsha` and `cmdstat_eval` (a script's first call
/// on a Redis that has not cached it) together, and the process's CPU
/// seconds.
fn redis_counters(conn: &mut redis::Connection) -> (f64, f64) {
    let stats: String = redis::cmd("INFO").arg("commandstats").query(conn).unwrap();
    let usec = |command: &str| -> f64 {
        stats
            .lines()
            .find_map(|l| l.strip_prefix(command))
            .and_then(|f| f.split(',').find_map(|p| p.strip_prefix("usec=")))
            .map_or(0.0, |v| v.parse().unwrap())
    };
    let script_usec = usec("cmdstat_evalsha:") + usec("cmdstat_eval:");
    let cpu: String = redis::cmd("INFO").arg("cpu").query(conn).unwrap();
    let seconds = |name: &str| -> f64 {
        cpu.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().parse().unwrap())
            .unwrap()
    };
    (
        script_usec,
        seconds("used_cpu_user:") + seconds("used_cpu_sys:"),
    )
}

/// One GET over its own connection; returns the status and the response's size.
fn poll(spin: &Spin, path: &str, if_none_match: Option<&str>) -> (u16, usize) {
    let mut stream = TcpStream::connect(spin.addr).unwrap();
    let condition = if_none_match
        .map(|tag| format!("If-None-Match: {tag}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {}\r\n{condition}Connection: close\r\n\r\n",
        spin.addr
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let status = std::str::from_utf8(&response[9..12])
        .unwrap()
        .parse()
        .unwrap();
    (status, response.len())
}

/// `POLLS` polls of `path`, all answered `expected`.
fn measure(
    spin: &Spin,
    redis: &RedisServer,
    path: &str,
    if_none_match: Option<&str>,
    expected: u16,
) -> Cost {
    let mut conn = redis.client();
    let (script_before, cpu_before) = redis_counters(&mut conn);
    let mut bytes = 0;
    for _ in 0..POLLS {
        let (status, size) = poll(spin, path, if_none_match);
        assert_eq!(status, expected, "{path} {if_none_match:?}");
        bytes = size;
    }
    let (script_after, cpu_after) = redis_counters(&mut conn);
    let n = f64::from(POLLS);
    Cost {
        bytes,
        script_usec: (script_after - script_before) / n,
        cpu_usec: (cpu_after - cpu_before) * 1e6 / n,
    }
}

/// Creates `id` with `rows` rows of `seats`, then holds and books `busy`
/// seats of each kind, 100 a request, from the front rows.
fn create_busy_event(spin: &Spin, id: &str, rows: u32, seats: u32, busy: u32) {
    let agent = client();
    let layout: Vec<Value> = (1..=rows)
        .map(|r| json!({ "label": format!("R{r}"), "seats": seats }))
        .collect();
    let body = json!({ "id": id, "name": id, "rows": layout }).to_string();
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let created = send_with(
        &agent,
        "POST",
        &spin.url("/api/events"),
        &[("authorization", &auth)],
        Some(body.as_bytes()),
    );
    assert_eq!(created.status, 201);
    let all: Vec<String> = (1..=rows)
        .flat_map(|r| (1..=seats).map(move |n| format!("R{r}-{n}")))
        .collect();
    let busy = busy as usize;
    for (kind, seats) in [("holds", &all[..busy]), ("bookings", &all[busy..2 * busy])] {
        for chunk in seats.chunks(100) {
            let body = json!({ "seats": chunk }).to_string();
            let answer = send_with(
                &agent,
                "POST",
                &spin.url(&format!("/api/events/{id}/{kind}")),
                &[],
                Some(body.as_bytes()),
            );
            assert_eq!(
                answer.status,
                201,
                "{}",
                String::from_utf8_lossy(&answer.body)
            );
        }
    }
}

#[test]
fn an_unchanged_map_costs_a_fraction_with_if_none_match() {
    let redis = RedisServer::start();
    let spin = Spin::start(&redis);
    println!("| map | poll | bytes | Redis script µs | Redis CPU µs |");
    println!("| --- | --- | ---: | ---: | ---: |");
    for (id, rows, seats, busy) in [("hall", 5, 40, 6), ("stadium", 250, 200, 1_000)] {
        create_busy_event(&spin, id, rows, seats, busy);
        let path = format!("/api/events/{id}/seats");
        let first = send_with(&client(), "GET", &spin.url(&path), &[], None);
        let etag = first.header("etag").unwrap().to_owned();
        let full = measure(&spin, &redis, &path, None, 200);
        let not_modified = measure(&spin, &redis, &path, Some(&etag), 304);
        let size = format!("{} seats", rows * seats);
        for (what, cost) in [
            ("no validator: 200", full),
            ("If-None-Match: 304", not_modified),
        ] {
            println!(
                "| {size} | {what} | {} | {:.1} | {:.1} |",
                cost.bytes, cost.script_usec, cost.cpu_usec
            );
        }
        assert!(
            not_modified.bytes < full.bytes,
            "{id}: {not_modified:?} {full:?}"
        );
        if rows * seats >= 50_000 {
            assert!(
                not_modified.script_usec * 5.0 < full.script_usec,
                "{id}: the 304 builds no map: {not_modified:?} vs {full:?}"
            );
        }
    }
}
