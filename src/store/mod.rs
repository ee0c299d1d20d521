//! The Redis store: the only place that knows the key layout and the Lua
//! scripts. Handlers call plain methods and get domain outcomes back.
//!
//! One [`Store`] is one Redis connection, opened per request (the component
//! is stateless), so a request that needs Redis opens exactly one connection.

pub(crate) mod bookings;
pub(crate) mod eval;
pub(crate) mod event_list;
pub(crate) mod events;
pub(crate) mod holds;
pub(crate) mod keys;
pub(crate) mod outcomes;
pub(crate) mod queue;
pub(crate) mod replication;
pub(crate) mod scripts;
pub(crate) mod seat_lock;
pub(crate) mod seat_map;

use anyhow::anyhow;
use spin_sdk::redis::{Connection, Error as RedisError, RedisParameter, RedisResult};
use spin_sdk::variables;

use crate::http::Problem;
use crate::idempotency::Idempotency;
use crate::ids::EventId;
use outcomes::{Answer, Change, Refusal};
use replication::ReplicaAcks;
use scripts::Script;

/// The component variable the store reads. `spin.toml` composes it from the
/// application variables `redis_address`, `redis_replica_acks` and
/// `redis_replica_ack_timeout_ms`, joined by spaces, so deployments set
/// those as before while a request looks up one value, not two: a variable
/// lookup is a host call that costs Spin about 50 µs of CPU (measured under
/// load on Spin 4.0.2), as much as the guest's own work on a booking.
pub const CONNECTION_VARIABLE: &str = "redis_connection";

/// Why a store operation did not happen. Each kind carries its cause with
/// the context it was found in (the command or script, then what Redis
/// said), for the log line [`StoreError::into_problem`] writes; the client
/// sees only the kind's problem.
#[derive(Debug)]
pub enum StoreError {
    /// Redis could not be reached or failed: the client may retry (503).
    Unavailable(anyhow::Error),
    /// The deployment is wrong (address refused or missing): retrying won't help.
    Misconfigured(anyhow::Error),
    /// The change was made on the primary, but fewer replicas than
    /// `redis_replica_acks` acknowledged it in time: it could still be lost
    /// in a failover, so it is not confirmed (503; a retry with the same
    /// Idempotency-Key replays it once replicated, or redoes it).
    NotReplicated(anyhow::Error),
    /// Redis answered what no script or command of ours answers: a bug
    /// between the component and its scripts (500, logged).
    Unexpected(anyhow::Error),
}

impl StoreError {
    /// The same error with `context` (what was being done) around its cause.
    pub(crate) fn context(self, context: impl std::fmt::Display + Send + Sync + 'static) -> Self {
        match self {
            StoreError::Unavailable(e) => StoreError::Unavailable(e.context(context)),
            StoreError::Misconfigured(e) => StoreError::Misconfigured(e.context(context)),
            StoreError::NotReplicated(e) => StoreError::NotReplicated(e.context(context)),
            StoreError::Unexpected(e) => StoreError::Unexpected(e.context(context)),
        }
    }

    /// Logs the cause with its context (never secrets: the address is not
    /// part of it) and turns the error into the answer the client sees.
    pub fn into_problem(self) -> Problem {
        match self {
            StoreError::Unavailable(why) => {
                eprintln!("redis unavailable: {why:#}");
                Problem::redis_unavailable()
            }
            StoreError::Misconfigured(why) => {
                eprintln!("misconfigured: {why:#}");
                // The root cause is ours, written for operators; the
                // context (which command) is for the log.
                Problem::misconfigured(&why.root_cause().to_string())
            }
            StoreError::NotReplicated(why) => {
                eprintln!("not replicated: {why:#}");
                Problem::not_replicated()
            }
            StoreError::Unexpected(why) => {
                eprintln!("unexpected reply from Redis: {why:#}");
                Problem::internal_error()
            }
        }
    }
}

impl From<RedisError> for StoreError {
    fn from(e: RedisError) -> StoreError {
        match e {
            RedisError::InvalidAddress => StoreError::Misconfigured(anyhow!(
                "the Redis address is invalid or not allowed by allowed_outbound_hosts; \
                 check the redis_address and redis_host variables"
            )),
            RedisError::TooManyConnections => {
                StoreError::Unavailable(anyhow!("too many Redis connections"))
            }
            RedisError::TypeError => {
                StoreError::Unavailable(anyhow!("unexpected value type in Redis"))
            }
            RedisError::Other(msg) => StoreError::Unavailable(anyhow!(msg)),
        }
    }
}

/// An open connection to the booking store.
pub struct Store {
    conn: Connection,
    /// What a state change waits for before it is answered.
    acks: ReplicaAcks,
}

impl Store {
    /// Opens one Redis connection at the address [`CONNECTION_VARIABLE`]
    /// names. Misconfigured replica settings are refused here, before
    /// anything is written.
    pub fn open() -> Result<Store, StoreError> {
        let settings = variables::get(CONNECTION_VARIABLE).map_err(|e| {
            StoreError::Misconfigured(anyhow!(
                "cannot read the {CONNECTION_VARIABLE} variable: {e}"
            ))
        })?;
        let (address, acks) =
            parse_connection(&settings).map_err(|why| StoreError::Misconfigured(anyhow!(why)))?;
        let conn = Connection::open(address)
            .map_err(|e| StoreError::from(e).context("opening the connection"))?;
        Ok(Store { conn, acks })
    }

    /// Checks that Redis answers.
    pub fn ping(&self) -> Result<(), StoreError> {
        match self.execute("PING", &[])?.as_slice() {
            [RedisResult::Status(s)] if s == "PONG" => Ok(()),
            other => Err(unexpected("PING", other)),
        }
    }

    /// Runs one command; every store operation goes through here, but for
    /// scripts, which go through [`Store::eval`].
    fn execute(
        &self,
        command: &str,
        args: &[RedisParameter],
    ) -> Result<Vec<RedisResult>, StoreError> {
        self.conn
            .execute(command, args)
            .map_err(|e| StoreError::from(e).context(command.to_owned()))
    }
}

/// Splits [`CONNECTION_VARIABLE`]'s value into the Redis URL and the
/// replica settings. The URL comes first and may hold anything but the two
/// numbers after it; an error never repeats it (it may carry the password).
fn parse_connection(value: &str) -> Result<(&str, ReplicaAcks), String> {
    let mut parts = value.rsplitn(3, ' ');
    let (Some(timeout_ms), Some(replicas), Some(address)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(format!(
            "{CONNECTION_VARIABLE} must be \"<redis_address> <redis_replica_acks> \
             <redis_replica_ack_timeout_ms>\" (see spin.toml)"
        ));
    };
    Ok((address, ReplicaAcks::from_settings(replicas, timeout_ms)?))
}

/// Where an answer's body leaves the seats for the script to fill in: the
/// seats a script chose are known only inside it (`scripts/lib/answer.lua`).
pub const SEATS_PLACEHOLDER: &str = "%SEATS%";

/// The answer a state-changing script stores and returns (its last five
/// arguments):
/// rendered by the component before the change, with `"%SEATS%"`
/// ([`SEATS_PLACEHOLDER`]) where the script fills in seats it chose.
#[derive(Debug, Clone)]
pub struct AnswerArgs<'a> {
    /// The request's idempotency key, if it sent one.
    pub idempotency: Option<&'a Idempotency>,
    /// HTTP status of the success answer.
    pub status: u16,
    /// Its `Location`, or empty.
    pub location: String,
    /// Its JSON body (tokens sealed, see `idempotency.rs`).
    pub body: String,
}

impl Store {
    /// Runs a state-changing event script: `KEYS[1]` is the event record,
    /// `args` its own arguments, then the five answer arguments.
    pub(crate) fn run_answer_script<R: Refusal>(
        &self,
        script: &Script,
        event: &EventId,
        answer: &AnswerArgs,
        args: Vec<RedisParameter>,
    ) -> Result<Answer<R>, StoreError> {
        let (key_hash, fingerprint) = match answer.idempotency {
            Some(i) => (i.key_hash(), i.fingerprint().to_owned()),
            None => (String::new(), String::new()),
        };
        // Without an idempotency key nothing is stored, and a body with no
        // seats to fill in would come back unchanged: it stays here, and the
        // script answers `ok` with an empty body (which no answer has).
        let round_trip = answer.idempotency.is_some() || answer.body.contains(SEATS_PLACEHOLDER);
        let mut params = Vec::from(event_key(event));
        params.extend(args);
        params.extend([
            arg(key_hash),
            arg(fingerprint),
            RedisParameter::Int64(answer.status.into()),
            arg(answer.location.clone()),
            arg(if round_trip {
                answer.body.clone()
            } else {
                String::new()
            }),
        ]);
        let reply = self.eval(script, params)?;
        let parsed = Answer::parse(reply.into_iter().map(text).collect())
            .map_err(|e| e.context(script.file()))?;
        let reply = match parsed {
            Answer::Done(body) if body.is_empty() => Answer::Done(answer.body.clone()),
            reply => reply,
        };
        if matches!(reply, Answer::Done(_) | Answer::Replay { .. }) {
            self.ensure_replicated()?;
        }
        Ok(reply)
    }

    /// Runs an event script that stores no answer: `KEYS[1]` is the event
    /// record, `args` its arguments; the reply as text.
    pub(crate) fn run_script(
        &self,
        script: &Script,
        event: &EventId,
        args: Vec<RedisParameter>,
    ) -> Result<Vec<String>, StoreError> {
        let mut params = Vec::from(event_key(event));
        params.extend(args);
        Ok(self.eval(script, params)?.into_iter().map(text).collect())
    }

    /// Runs a state-changing event script that stores no answer, and waits
    /// for its change to be replicated when it made one.
    pub(crate) fn run_change_script<R: Refusal>(
        &self,
        script: &Script,
        event: &EventId,
        args: Vec<RedisParameter>,
    ) -> Result<Change<R>, StoreError> {
        let change = Change::parse(self.run_script(script, event, args)?)
            .map_err(|e| e.context(script.file()))?;
        if matches!(change, Change::Done) {
            self.ensure_replicated()?;
        }
        Ok(change)
    }

    /// The stored answer for an idempotency key, when an operation found
    /// its seat taken and wants to know whether this very request took it.
    /// One run of `replay_answer.lua`, which marks a replay with a write
    /// so that the `WAIT` after it vouches for the answer.
    pub(crate) fn stored_answer<R>(
        &self,
        event: &EventId,
        idempotency: &Idempotency,
    ) -> Result<Option<Answer<R>>, StoreError> {
        let key = keys::idempotency(event, &idempotency.key_hash());
        let reply = self.eval(
            &scripts::REPLAY_ANSWER,
            vec![
                RedisParameter::Int64(1),
                arg(key),
                arg(idempotency.fingerprint()),
            ],
        )?;
        let fields: Vec<Option<String>> = reply
            .into_iter()
            .map(|r| match r {
                RedisResult::Nil => None,
                other => Some(text(other)),
            })
            .collect();
        let stored = match fields.as_slice() {
            [Some(fp), ..] if fp != idempotency.fingerprint() => Some(Answer::IdempotencyMismatch),
            [Some(_), Some(status), Some(location), Some(body)] => Some(Answer::Replay {
                status: status.parse().unwrap_or(200),
                location: location.clone(),
                body: body.clone(),
            }),
            _ => None,
        };
        if matches!(stored, Some(Answer::Replay { .. })) {
            self.ensure_replicated()?;
        }
        Ok(stored)
    }
}

/// A reply item as text (integers in decimal, nil as empty).
fn text(r: RedisResult) -> String {
    match r {
        RedisResult::Nil => String::new(),
        RedisResult::Status(s) => s,
        RedisResult::Int64(n) => n.to_string(),
        RedisResult::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
    }
}

/// How every event script's parameters begin: one key, `KEYS[1]`, the
/// event's record (`scripts/lib/event.lua` derives the others from it).
fn event_key(event: &EventId) -> [RedisParameter; 2] {
    [RedisParameter::Int64(1), arg(keys::event(event))]
}

/// A text argument for a Redis command.
fn arg(text: impl Into<String>) -> RedisParameter {
    RedisParameter::Binary(text.into().into_bytes())
}

/// The error for a reply our own scripts and commands should never produce.
fn unexpected(command: &str, reply: &[RedisResult]) -> StoreError {
    StoreError::Unavailable(anyhow!("unexpected reply to {command}: {reply:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seats_placeholder_survives_json_rendering() {
        // scripts/lib/answer.lua looks for the quoted placeholder in the body.
        let json =
            serde_json::to_string(&serde_json::json!({ "seats": SEATS_PLACEHOLDER })).unwrap();
        assert!(json.contains("\"%SEATS%\""));
    }

    #[test]
    fn the_connection_setting_splits_from_the_right() {
        let (address, acks) = parse_connection("redis://:p w@host:6379 1 500").unwrap();
        assert_eq!(address, "redis://:p w@host:6379");
        assert_eq!((acks.replicas, acks.timeout_ms), (1, 500));
        let (address, acks) = parse_connection("redis://127.0.0.1:6379 0 ").unwrap();
        assert_eq!((address, acks.replicas), ("redis://127.0.0.1:6379", 0));
    }

    #[test]
    fn a_bad_connection_setting_never_repeats_the_address() {
        for value in [
            "redis://:secret@h:1",
            "redis://:secret@h:1 2",
            "redis://:secret@h:1 x 500",
        ] {
            let why = parse_connection(value).unwrap_err();
            assert!(!why.contains("secret"), "{why}");
        }
    }
}
