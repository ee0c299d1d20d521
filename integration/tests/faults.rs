//! Failures of the parts around the component: Redis going away and coming
//! back. (A Redis address the manifest does not allow is pinned in
//! `spin_behaviour.rs`.)

use std::time::{Duration, Instant};

use integration::{get, post, RedisServer, Spin};

/// Sends `f` and checks that it answered within `limit`.
fn timed<T>(limit: Duration, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    assert!(took < limit, "took {took:?}, limit {limit:?}");
    out
}

#[test]
fn redis_outage_gives_503_quickly_and_recovers_without_a_restart() {
    let mut redis = RedisServer::start();
    let spin = Spin::start(&redis);
    assert_eq!(post(&spin.url("/api/book/1")).status, 201);

    redis.stop();
    let limit = Duration::from_secs(2);
    let health = timed(limit, || get(&spin.url("/health")));
    health.assert_problem(503, "redis_unavailable");
    assert_eq!(health.header("retry-after"), Some("1"));
    let booking = timed(limit, || post(&spin.url("/api/book/2")));
    booking.assert_problem(503, "redis_unavailable");
    assert_eq!(booking.header("retry-after"), Some("1"));
    let text = String::from_utf8_lossy(&booking.body).to_string();
    assert!(
        !text.contains("redis://"),
        "no address in the answer: {text}"
    );

    redis.restart();
    assert_eq!(get(&spin.url("/health")).status, 200);
    assert_eq!(post(&spin.url("/api/book/2")).status, 201);
}
