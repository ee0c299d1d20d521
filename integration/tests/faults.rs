//! Failures of the parts around the component: Redis going away and coming
//! back, and a Redis address the manifest does not allow.

use std::time::{Duration, Instant};

use integration::{get, post, Host, RedisServer};

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
    let host = Host::start(&redis);
    assert_eq!(post(&host.url("/api/book/1")).status, 201);

    redis.stop();
    let limit = Duration::from_secs(2);
    let health = timed(limit, || get(&host.url("/health")));
    health.assert_problem(503, "redis_unavailable");
    assert_eq!(health.header("retry-after"), Some("1"));
    let booking = timed(limit, || post(&host.url("/api/book/2")));
    booking.assert_problem(503, "redis_unavailable");
    assert_eq!(booking.header("retry-after"), Some("1"));
    let text = String::from_utf8_lossy(&booking.body).to_string();
    assert!(
        !text.contains("redis://"),
        "no address in the answer: {text}"
    );

    redis.restart();
    assert_eq!(get(&host.url("/health")).status, 200);
    assert_eq!(post(&host.url("/api/book/2")).status, 201);
}

#[test]
fn a_redis_address_outside_allowed_outbound_hosts_is_refused_like_spin() {
    let redis = RedisServer::start();
    // The component is told to open this Redis, but the manifest only
    // allows another port.
    let allowed = format!("127.0.0.1:{}", integration::free_port());
    let host = Host::start_with(&[
        ("SPIN_VARIABLE_REDIS_ADDRESS", redis.url().as_str()),
        ("SPIN_VARIABLE_REDIS_HOST", allowed.as_str()),
    ]);
    let mut r = redis.client();
    let before = integration::RedisCounters::read(&mut r);

    let answer = post(&host.url("/api/book/1"));
    answer.assert_problem(500, "misconfigured");
    let detail = answer.json()["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("allowed_outbound_hosts"), "{detail}");
    get(&host.url("/health")).assert_problem(500, "misconfigured");

    let (_, connections) = integration::RedisCounters::read(&mut r).since(&before);
    assert_eq!(connections, 0, "the refused address was never connected to");
    let destination = format!("redis://127.0.0.1:{}", redis.port);
    integration::wait_until(
        Duration::from_secs(5),
        "the host to log the refusal",
        || host.log().contains(&destination),
    );
    assert!(
        host.log().contains("allowed_outbound_hosts"),
        "{}",
        host.log()
    );
}
