//! The benchmark's yardstick: exactly the booking protocol's own work and
//! nothing else, so `scripts/bench.sh` can show what the product adds.
//!
//! `POST /api/book/<seat>`: open Redis (address from the `redis_address`
//! variable), `SET lock:seat:{default}:<seat> <uuid> NX EX 5`, then one
//! five-line `EVAL` that checks the token (fencing), writes the booked
//! marker over the lock (commit and release in one) and the booking record.
//! 201 when booked, 409 when the seat was locked or sold, 503 on a Redis
//! error. No validation, no idempotency, no replication wait: a yardstick,
//! not a product.

use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;
use spin_sdk::redis::{Connection, RedisParameter, RedisResult};
use spin_sdk::variables;

/// Check the token, turn the lock into the booked marker, store the booking.
const COMMIT: &str = "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], 'booked:' .. ARGV[2])
redis.call('HSET', KEYS[2], 'seat', ARGV[3], 'status', 'booked')
redis.call('SADD', KEYS[3], ARGV[2])
return 1";

fn text(s: impl Into<String>) -> RedisParameter {
    RedisParameter::Binary(s.into().into_bytes())
}

fn status(code: u16) -> Response {
    Response::builder().status(code).body(Vec::new()).build()
}

#[http_component]
fn handle(req: Request) -> impl IntoResponse {
    let path = req.path();
    let Some(seat) = path.strip_prefix("/api/book/") else {
        return status(404);
    };
    let Ok(address) = variables::get("redis_address") else {
        return status(500);
    };
    let Ok(conn) = Connection::open(&address) else {
        return status(503);
    };
    let lock = format!("lock:seat:{{default}}:{seat}");
    let token = uuid::Uuid::new_v4().to_string();
    let set = conn.execute(
        "SET",
        &[
            text(lock.as_str()),
            text(token.as_str()),
            text("NX"),
            text("EX"),
            RedisParameter::Int64(5),
        ],
    );
    match set.as_deref() {
        Ok([RedisResult::Status(_)]) => {}
        Ok(_) => return status(409),
        Err(_) => return status(503),
    }
    let booking = uuid::Uuid::new_v4().to_string();
    let reply = conn.execute(
        "EVAL",
        &[
            text(COMMIT),
            RedisParameter::Int64(3),
            text(lock),
            text(format!("booking:{{default}}:{booking}")),
            text("bookings:{default}"),
            text(token),
            text(booking.as_str()),
            text(seat),
        ],
    );
    match reply.as_deref() {
        Ok([RedisResult::Int64(1)]) => Response::builder()
            .status(201)
            .header("content-type", "application/json")
            .body(format!(
                "{{\"seatId\":\"{seat}\",\"status\":\"booked\",\"bookingId\":\"{booking}\"}}"
            ))
            .build(),
        Ok(_) => status(409),
        Err(_) => status(503),
    }
}
