//! The Redis store: the only place that knows the key layout and the Lua
//! scripts. Handlers call plain methods and get domain outcomes back.
//!
//! One [`Store`] is one Redis connection, opened per request (the component
//! is stateless), so a request that needs Redis opens exactly one connection.

pub mod booking;
pub mod keys;

use spin_sdk::redis::{Connection, Error as RedisError, RedisParameter, RedisResult};
use spin_sdk::variables;

use crate::response::Problem;

/// The Spin variable holding the Redis URL the component opens.
pub const REDIS_ADDRESS_VARIABLE: &str = "redis_address";

/// Why a store operation did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// Redis could not be reached or failed: the client may retry (503).
    Unavailable(String),
    /// The deployment is wrong (address refused or missing): retrying won't help.
    Misconfigured(String),
}

impl StoreError {
    /// Logs the cause (never secrets: the address is not part of it) and
    /// turns the error into the answer the client sees.
    pub fn into_problem(self) -> Problem {
        match self {
            StoreError::Unavailable(why) => {
                eprintln!("redis unavailable: {why}");
                Problem::redis_unavailable()
            }
            StoreError::Misconfigured(why) => {
                eprintln!("misconfigured: {why}");
                Problem::misconfigured(&why)
            }
        }
    }
}

impl From<RedisError> for StoreError {
    fn from(e: RedisError) -> StoreError {
        match e {
            RedisError::InvalidAddress => StoreError::Misconfigured(
                "the Redis address is invalid or not allowed by allowed_outbound_hosts; \
                 check the redis_address and redis_host variables"
                    .to_owned(),
            ),
            RedisError::TooManyConnections => {
                StoreError::Unavailable("too many Redis connections".to_owned())
            }
            RedisError::TypeError => {
                StoreError::Unavailable("unexpected value type in Redis".to_owned())
            }
            RedisError::Other(msg) => StoreError::Unavailable(msg),
        }
    }
}

/// An open connection to the booking store.
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens one Redis connection at the address from the `redis_address` variable.
    pub fn open() -> Result<Store, StoreError> {
        let address = variables::get(REDIS_ADDRESS_VARIABLE).map_err(|e| {
            StoreError::Misconfigured(format!("cannot read the redis_address variable: {e}"))
        })?;
        let conn = Connection::open(&address)?;
        Ok(Store { conn })
    }

    /// Checks that Redis answers.
    pub fn ping(&self) -> Result<(), StoreError> {
        match self.execute("PING", &[])?.as_slice() {
            [RedisResult::Status(s)] if s == "PONG" => Ok(()),
            other => Err(unexpected("PING", other)),
        }
    }

    /// Runs one command; every store operation goes through here.
    fn execute(
        &self,
        command: &str,
        args: &[RedisParameter],
    ) -> Result<Vec<RedisResult>, StoreError> {
        Ok(self.conn.execute(command, args)?)
    }
}

/// A text argument for a Redis command.
fn arg(text: impl Into<String>) -> RedisParameter {
    RedisParameter::Binary(text.into().into_bytes())
}

/// The error for a reply our own scripts and commands should never produce.
fn unexpected(command: &str, reply: &[RedisResult]) -> StoreError {
    StoreError::Unavailable(format!("unexpected reply to {command}: {reply:?}"))
}
