//! `fermyon:spin/redis@2.0.0`, with the semantics of Spin's
//! `factor-outbound-redis/src/host.rs`.
//!
//! * `open` checks the address against `allowed_outbound_hosts` (refusal:
//!   `invalid-address` plus Spin's warning), parses it (`invalid-address`) and
//!   makes one new multiplexed connection (`other(message)` on failure). There
//!   is no pooling: each `open` pays for its own TCP connection, as on Spin.
//! * `execute` flattens nested arrays into one list; map, attribute, verbatim
//!   and push replies are errors, as are results over 128 MiB.
//! * Unlike Spin, the connection attempt and each reply are bounded in time
//!   so a stalled Redis cannot hang a request forever; the error is still
//!   `other(message)`.

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncCommands, AsyncConnectionConfig, FromRedisValue, Value};
use wasmtime::component::Resource;

use crate::bindings::fermyon::spin::redis::{self as v2, Error, RedisParameter, RedisResult};
use crate::instance::InstanceState;

/// Spin refuses results bigger than this (`spin_world::MAX_HOST_BUFFERED_BYTES`).
pub const MAX_HOST_BUFFERED_BYTES: usize = 128 << 20;

/// How long `open` waits for the TCP connection and handshake.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a command waits for its reply before failing with `other`.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

/// The host side of a `connection` resource: one multiplexed Redis connection.
pub struct RedisConnection {
    conn: MultiplexedConnection,
}

fn other(err: impl std::fmt::Display) -> Error {
    Error::Other(err.to_string())
}

impl InstanceState {
    fn redis_conn(
        &mut self,
        connection: &Resource<RedisConnection>,
    ) -> Result<MultiplexedConnection, Error> {
        self.table
            .get(connection)
            .map(|c| c.conn.clone())
            .map_err(|_| Error::Other("could not find connection for resource".into()))
    }
}

impl v2::Host for InstanceState {}

impl v2::HostConnection for InstanceState {
    async fn open(&mut self, address: String) -> Result<Resource<RedisConnection>, Error> {
        self.trace_call(format_args!("redis.open"));
        if !self.component.allowed_hosts.check(&address, "redis") {
            return Err(Error::InvalidAddress);
        }
        let client = redis::Client::open(address.as_str()).map_err(|_| Error::InvalidAddress)?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(CONNECT_TIMEOUT)
            .set_response_timeout(RESPONSE_TIMEOUT);
        let conn = client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(other)?;
        self.table
            .push(RedisConnection { conn })
            .map_err(|_| Error::TooManyConnections)
    }

    async fn publish(
        &mut self,
        connection: Resource<RedisConnection>,
        channel: String,
        payload: Vec<u8>,
    ) -> Result<(), Error> {
        let mut conn = self.redis_conn(&connection)?;
        let () = conn.publish(&channel, &payload).await.map_err(other)?;
        Ok(())
    }

    async fn get(
        &mut self,
        connection: Resource<RedisConnection>,
        key: String,
    ) -> Result<Option<Vec<u8>>, Error> {
        let mut conn = self.redis_conn(&connection)?;
        let value: Option<Vec<u8>> = conn.get(&key).await.map_err(other)?;
        let size = std::mem::size_of::<Option<Vec<u8>>>() + value.as_ref().map_or(0, Vec::len);
        if size > MAX_HOST_BUFFERED_BYTES {
            return Err(too_big());
        }
        Ok(value)
    }

    async fn set(
        &mut self,
        connection: Resource<RedisConnection>,
        key: String,
        value: Vec<u8>,
    ) -> Result<(), Error> {
        let mut conn = self.redis_conn(&connection)?;
        let () = conn.set(&key, &value).await.map_err(other)?;
        Ok(())
    }

    async fn incr(
        &mut self,
        connection: Resource<RedisConnection>,
        key: String,
    ) -> Result<i64, Error> {
        let mut conn = self.redis_conn(&connection)?;
        conn.incr(&key, 1).await.map_err(other)
    }

    async fn del(
        &mut self,
        connection: Resource<RedisConnection>,
        keys: Vec<String>,
    ) -> Result<u32, Error> {
        let mut conn = self.redis_conn(&connection)?;
        conn.del(&keys).await.map_err(other)
    }

    async fn sadd(
        &mut self,
        connection: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> Result<u32, Error> {
        let mut conn = self.redis_conn(&connection)?;
        conn.sadd(&key, &values).await.map_err(|e| {
            if e.kind() == redis::ErrorKind::TypeError {
                Error::TypeError
            } else {
                other(e)
            }
        })
    }

    async fn smembers(
        &mut self,
        connection: Resource<RedisConnection>,
        key: String,
    ) -> Result<Vec<String>, Error> {
        let mut conn = self.redis_conn(&connection)?;
        conn.smembers(&key).await.map_err(other)
    }

    async fn srem(
        &mut self,
        connection: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> Result<u32, Error> {
        let mut conn = self.redis_conn(&connection)?;
        conn.srem(&key, &values).await.map_err(other)
    }

    async fn execute(
        &mut self,
        connection: Resource<RedisConnection>,
        command: String,
        arguments: Vec<RedisParameter>,
    ) -> Result<Vec<RedisResult>, Error> {
        let mut conn = self.redis_conn(&connection)?;
        let mut cmd = redis::cmd(&command);
        for argument in arguments {
            match argument {
                RedisParameter::Int64(v) => cmd.arg(v),
                RedisParameter::Binary(v) => cmd.arg(v),
            };
        }
        let results: RedisResults = cmd.query_async(&mut conn).await.map_err(other)?;
        check_size(&results.0)?;
        Ok(results.0)
    }

    async fn drop(&mut self, connection: Resource<RedisConnection>) -> wasmtime::Result<()> {
        self.table.delete(connection)?;
        Ok(())
    }
}

fn too_big() -> Error {
    Error::Other(format!(
        "query result exceeds limit of {MAX_HOST_BUFFERED_BYTES} bytes"
    ))
}

/// Refuses a result list whose buffered size exceeds Spin's limit.
fn check_size(results: &[RedisResult]) -> Result<(), Error> {
    let item = std::mem::size_of::<RedisResult>();
    let total = std::mem::size_of::<Vec<RedisResult>>()
        + results
            .iter()
            .map(|r| match r {
                RedisResult::Nil | RedisResult::Int64(_) => item,
                RedisResult::Binary(b) => item + b.len(),
                RedisResult::Status(s) => item + s.len(),
            })
            .sum::<usize>();
    if total > MAX_HOST_BUFFERED_BYTES {
        Err(too_big())
    } else {
        Ok(())
    }
}

/// The flattened reply of `execute`.
pub struct RedisResults(pub Vec<RedisResult>);

fn unsupported(detail: &str) -> redis::RedisError {
    redis::RedisError::from((
        redis::ErrorKind::TypeError,
        "Could not convert Redis response",
        detail.to_string(),
    ))
}

/// Appends `value` to `out`, descending into arrays and sets.
pub fn flatten(value: &Value, out: &mut Vec<RedisResult>) -> redis::RedisResult<()> {
    match value {
        Value::Nil => out.push(RedisResult::Nil),
        Value::Int(v) => out.push(RedisResult::Int64(*v)),
        Value::BulkString(bytes) => out.push(RedisResult::Binary(bytes.clone())),
        Value::SimpleString(s) => out.push(RedisResult::Status(s.clone())),
        Value::Okay => out.push(RedisResult::Status("OK".to_string())),
        Value::Array(items) | Value::Set(items) => {
            for item in items {
                flatten(item, out)?;
            }
        }
        Value::Double(v) => out.push(RedisResult::Binary(v.to_string().into_bytes())),
        Value::Boolean(v) => out.push(RedisResult::Int64(i64::from(*v))),
        Value::BigNumber(v) => out.push(RedisResult::Binary(v.to_string().into_bytes())),
        Value::Map(_) => return Err(unsupported("Redis Map type is not supported")),
        Value::Attribute { .. } => {
            return Err(unsupported("Redis Attribute type is not supported"))
        }
        Value::VerbatimString { .. } => {
            return Err(unsupported(
                "Redis string with format attribute is not supported",
            ))
        }
        Value::Push { .. } => return Err(unsupported("Redis Pub/Sub types are not supported")),
        Value::ServerError(err) => {
            return Err(redis::RedisError::from((
                redis::ErrorKind::ResponseError,
                "Server error",
                format!("{err:?}"),
            )))
        }
    }
    Ok(())
}

impl FromRedisValue for RedisResults {
    fn from_redis_value(value: &Value) -> redis::RedisResult<Self> {
        let mut out = Vec::new();
        flatten(value, &mut out)?;
        Ok(Self(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(value: Value) -> Result<Vec<RedisResult>, String> {
        RedisResults::from_redis_value(&value)
            .map(|r| r.0)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn scalars() {
        assert!(matches!(flat(Value::Nil).unwrap()[..], [RedisResult::Nil]));
        assert!(matches!(
            flat(Value::Int(7)).unwrap()[..],
            [RedisResult::Int64(7)]
        ));
        assert!(
            matches!(&flat(Value::BulkString(b"x".to_vec())).unwrap()[..], [RedisResult::Binary(b)] if b == b"x")
        );
        assert!(
            matches!(&flat(Value::SimpleString("PONG".into())).unwrap()[..], [RedisResult::Status(s)] if s == "PONG")
        );
        assert!(matches!(&flat(Value::Okay).unwrap()[..], [RedisResult::Status(s)] if s == "OK"));
        assert!(
            matches!(&flat(Value::Double(1.5)).unwrap()[..], [RedisResult::Binary(b)] if b == b"1.5")
        );
        assert!(matches!(
            flat(Value::Boolean(true)).unwrap()[..],
            [RedisResult::Int64(1)]
        ));
    }

    #[test]
    fn nested_arrays_are_flattened_in_order() {
        let value = Value::Array(vec![
            Value::Int(1),
            Value::Array(vec![
                Value::BulkString(b"a".to_vec()),
                Value::Nil,
                Value::Array(vec![Value::Okay]),
            ]),
            Value::Array(vec![]),
            Value::Int(2),
        ]);
        let out = flat(value).unwrap();
        assert_eq!(out.len(), 5);
        assert!(matches!(out[0], RedisResult::Int64(1)));
        assert!(matches!(&out[1], RedisResult::Binary(b) if b == b"a"));
        assert!(matches!(out[2], RedisResult::Nil));
        assert!(matches!(&out[3], RedisResult::Status(s) if s == "OK"));
        assert!(matches!(out[4], RedisResult::Int64(2)));
        assert!(flat(Value::Array(vec![])).unwrap().is_empty());
    }

    #[test]
    fn maps_attributes_and_errors_are_refused() {
        assert!(flat(Value::Map(vec![(Value::Int(1), Value::Int(2))]))
            .unwrap_err()
            .contains("Map"));
        let attr = Value::Attribute {
            data: Box::new(Value::Int(1)),
            attributes: vec![],
        };
        assert!(flat(attr).unwrap_err().contains("Attribute"));
        // A map nested in an array fails the whole reply.
        assert!(flat(Value::Array(vec![Value::Int(1), Value::Map(vec![])])).is_err());
    }

    /// A throwaway `redis-server` on a free loopback port, stopped on drop.
    struct TestRedis {
        child: std::process::Child,
        port: u16,
    }

    impl TestRedis {
        fn start() -> Self {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let child = std::process::Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("redis-server must be installed to run the Redis tests");
            // Owned from here on, so a failed start still kills the process.
            let redis = Self { child, port };
            for _ in 0..100 {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return redis;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            panic!("redis-server did not start on port {port}");
        }
    }

    impl Drop for TestRedis {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn state(allowed: &[&str]) -> InstanceState {
        use std::collections::BTreeMap;
        let app = crate::variables::AppVariables::resolve(&BTreeMap::new(), &[]).unwrap();
        let entries: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
        let config = crate::instance::ComponentConfig {
            id: "test".into(),
            allowed_hosts: crate::outbound::AllowedHosts::resolve(&entries, &app).unwrap(),
            variables: crate::variables::ComponentVariables::new("test", &BTreeMap::new(), &app)
                .unwrap(),
            environment: Vec::new(),
            trace_calls: false,
        };
        InstanceState::new(std::sync::Arc::new(config))
    }

    fn bin(s: &str) -> RedisParameter {
        RedisParameter::Binary(s.as_bytes().to_vec())
    }

    #[tokio::test]
    async fn against_a_real_redis() {
        use v2::HostConnection;
        let redis = TestRedis::start();
        let address = format!("redis://127.0.0.1:{}", redis.port);
        let mut state = state(&[&address]);

        let conn = state.open(address.clone()).await.unwrap();
        let pong = state.execute(conn, "PING".into(), vec![]).await.unwrap();
        assert!(matches!(&pong[..], [RedisResult::Status(s)] if s == "PONG"));

        let conn = state.open(address.clone()).await.unwrap();
        state
            .set(Resource::new_borrow(conn.rep()), "k".into(), b"v".to_vec())
            .await
            .unwrap();
        let got = state
            .get(Resource::new_borrow(conn.rep()), "k".into())
            .await
            .unwrap();
        assert_eq!(got.as_deref(), Some(&b"v"[..]));
        let n = state
            .incr(Resource::new_borrow(conn.rep()), "n".into())
            .await
            .unwrap();
        assert_eq!(n, 1);
        let wrong = state
            .execute(
                Resource::new_borrow(conn.rep()),
                "LPUSH".into(),
                vec![bin("k"), bin("x")],
            )
            .await;
        assert!(matches!(wrong, Err(Error::Other(m)) if m.contains("WRONGTYPE")));
        let flat = state
            .execute(
                Resource::new_borrow(conn.rep()),
                "MGET".into(),
                vec![bin("k"), bin("none")],
            )
            .await
            .unwrap();
        assert!(matches!(&flat[..], [RedisResult::Binary(v), RedisResult::Nil] if v == b"v"));
        state.drop(conn).await.unwrap();
    }

    #[tokio::test]
    async fn refused_unparsable_and_down_addresses() {
        use v2::HostConnection;
        let redis = TestRedis::start();
        let port = redis.port;
        let mut state = state(&[&format!("redis://127.0.0.1:{port}"), "redis://127.0.0.1:1"]);

        for refused in [
            format!("redis://127.0.0.1:{}", port + 1),
            format!("redis://127.0.0.2:{port}"),
            format!("rediss://127.0.0.1:{port}"),
            "not a url at all".to_string(),
        ] {
            assert!(
                matches!(
                    state.open(refused.clone()).await,
                    Err(Error::InvalidAddress)
                ),
                "{refused}"
            );
        }

        // Allowed but nothing listens there: a prompt `other` error.
        let started = std::time::Instant::now();
        let down = state.open("redis://127.0.0.1:1".into()).await;
        assert!(matches!(down, Err(Error::Other(_))), "{:?}", down.err());
        assert!(started.elapsed() < CONNECT_TIMEOUT);
    }

    #[test]
    fn size_limit() {
        assert!(check_size(&[RedisResult::Binary(vec![0; 16])]).is_ok());
        let big = vec![RedisResult::Binary(vec![0; MAX_HOST_BUFFERED_BYTES])];
        assert!(matches!(check_size(&big), Err(Error::Other(m)) if m.contains("exceeds limit")));
    }
}
