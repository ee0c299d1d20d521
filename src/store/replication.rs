//! Durable acknowledgements: a state change is answered as done only once
//! enough replicas have it.
//!
//! Redis replicates asynchronously, so a write the primary acknowledged but
//! had not yet sent to a replica is gone after a failover: a buyer would
//! hold a confirmation for a seat the new primary shows free. With
//! `redis_replica_acks` = N > 0, every state change is followed by
//! `WAIT N timeout` on the same connection (WAIT waits for the writes *this*
//! connection made), and the request succeeds only if N replicas
//! acknowledged. Reads and refusals write nothing and wait for nothing.

use anyhow::anyhow;
use spin_sdk::redis::{RedisParameter, RedisResult};

use super::{unexpected, Store, StoreError};

/// Application variable: how many replicas must acknowledge a state change.
pub const REPLICA_ACKS_VARIABLE: &str = "redis_replica_acks";
/// Application variable: how long to wait for them, in milliseconds.
pub const ACK_TIMEOUT_VARIABLE: &str = "redis_replica_ack_timeout_ms";
/// The longest wait accepted: every answer must come within 2 s, even
/// during a failover (docs/design.md, invariant 6).
pub const MAX_ACK_TIMEOUT_MS: u32 = 1500;

/// How many replica acknowledgements a state change needs, and for how long to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaAcks {
    /// Replicas that must have the write (0: answer after the primary's reply).
    pub replicas: u32,
    /// Milliseconds to wait for them (never 0, which would mean forever).
    pub timeout_ms: u32,
}

impl ReplicaAcks {
    /// Reads the two settings as `spin.toml` passes them on (see
    /// [`super::CONNECTION_VARIABLE`]). The timeout matters only when acks
    /// are wanted, so a single-Redis deployment never needs a valid one.
    pub fn from_settings(replicas: &str, timeout_ms: &str) -> Result<ReplicaAcks, String> {
        if replicas.trim() == "0" {
            return Ok(ReplicaAcks {
                replicas: 0,
                timeout_ms: 1,
            });
        }
        ReplicaAcks::parse(replicas, timeout_ms)
    }

    /// Parses the variables' values: a replica count of 0 to 16, and a
    /// timeout of 1 to [`MAX_ACK_TIMEOUT_MS`] milliseconds.
    pub fn parse(replicas: &str, timeout_ms: &str) -> Result<ReplicaAcks, String> {
        let replicas: u32 = replicas
            .trim()
            .parse()
            .ok()
            .filter(|n| *n <= 16)
            .ok_or_else(|| format!("{REPLICA_ACKS_VARIABLE} must be a number from 0 to 16"))?;
        let timeout_ms: u32 = timeout_ms
            .trim()
            .parse()
            .ok()
            .filter(|n| (1..=MAX_ACK_TIMEOUT_MS).contains(n))
            .ok_or_else(|| {
                format!("{ACK_TIMEOUT_VARIABLE} must be a number from 1 to {MAX_ACK_TIMEOUT_MS}")
            })?;
        Ok(ReplicaAcks {
            replicas,
            timeout_ms,
        })
    }
}

impl Store {
    /// Called after a state change this connection made: when replica
    /// acknowledgements are configured, `WAIT`s for them, and fails with
    /// [`StoreError::NotReplicated`] if too few replicas have the change.
    pub fn ensure_replicated(&self) -> Result<(), StoreError> {
        let acks = self.acks;
        if acks.replicas == 0 {
            return Ok(());
        }
        let reply = self.execute(
            "WAIT",
            &[
                RedisParameter::Int64(i64::from(acks.replicas)),
                RedisParameter::Int64(i64::from(acks.timeout_ms)),
            ],
        )?;
        match reply.as_slice() {
            [RedisResult::Int64(n)] if *n >= i64::from(acks.replicas) => Ok(()),
            [RedisResult::Int64(n)] => Err(StoreError::NotReplicated(anyhow!(
                "{n} of {} replicas acknowledged within {} ms",
                acks.replicas,
                acks.timeout_ms
            ))),
            other => Err(unexpected("WAIT", other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_acks_the_timeout_is_not_read() {
        assert_eq!(
            ReplicaAcks::from_settings("0", "").map(|a| a.replicas),
            Ok(0)
        );
        assert_eq!(
            ReplicaAcks::from_settings(" 0 ", "x").map(|a| a.replicas),
            Ok(0)
        );
        assert!(ReplicaAcks::from_settings("1", "").is_err());
        assert!(ReplicaAcks::from_settings("two", "500").is_err());
    }

    #[test]
    fn replica_counts_and_timeouts_are_bounded() {
        assert_eq!(
            ReplicaAcks::parse("1", "500"),
            Ok(ReplicaAcks {
                replicas: 1,
                timeout_ms: 500
            })
        );
        assert_eq!(ReplicaAcks::parse(" 2 ", "1500").map(|a| a.replicas), Ok(2));
        for (replicas, timeout) in [
            ("-1", "500"),
            ("17", "500"),
            ("one", "500"),
            ("", "500"),
            ("1", "0"),
            ("1", "1501"),
            ("1", "-5"),
            ("1", ""),
        ] {
            assert!(
                ReplicaAcks::parse(replicas, timeout).is_err(),
                "{replicas:?} {timeout:?} was accepted"
            );
        }
    }
}
