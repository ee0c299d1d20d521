//! Booking one seat: the seed's `SET NX` lock, then one fencing script that
//! commits the booking and turns the lock into the seat's sold marker.
//!
//! Round trips after `open`: one `SET` and, only for the caller that got the
//! lock, one `EVAL`. A seat already sold answers from the `SET` alone,
//! because `SET ... NX GET` returns the marker that blocked it.

use std::time::{SystemTime, UNIX_EPOCH};

use spin_sdk::redis::{RedisParameter, RedisResult};
use uuid::Uuid;

use super::{arg, keys, unexpected, Store, StoreError};
use crate::seat_id::SeatId;

/// Seconds a booking request's lock lives if its owner dies mid-request.
pub const LOCK_TTL_SECONDS: i64 = 5;

/// The commit script, with its fencing check (see the file for the contract).
pub const BOOK_SEAT_SCRIPT: &str = include_str!("scripts/book_seat.lua");

/// What happened to a booking attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookOutcome {
    /// The seat is now sold to this caller.
    Booked {
        /// The new booking's id.
        booking_id: String,
    },
    /// The seat was sold before.
    AlreadyBooked,
    /// Another request holds the seat's lock right now.
    Locked,
}

/// How the lock attempt went, read from the `SET ... NX GET` reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockAttempt {
    /// The lock is ours.
    Acquired,
    /// The seat carries a sold marker.
    Booked,
    /// Someone else's lock token is there.
    Locked,
}

impl LockAttempt {
    /// Interprets the reply of `SET key token NX GET EX ttl`.
    pub fn from_reply(reply: &[RedisResult]) -> Option<LockAttempt> {
        match reply {
            [RedisResult::Nil] => Some(LockAttempt::Acquired),
            [RedisResult::Binary(old)] if old.starts_with(keys::BOOKED_PREFIX.as_bytes()) => {
                Some(LockAttempt::Booked)
            }
            [RedisResult::Binary(_)] => Some(LockAttempt::Locked),
            _ => None,
        }
    }
}

impl Store {
    /// Books `seat` of `event` for one caller, all or nothing.
    pub fn book_seat(&self, event: &str, seat: &SeatId) -> Result<BookOutcome, StoreError> {
        let lock_key = keys::seat_lock(event, seat);
        let token = Uuid::new_v4().to_string();
        let reply = self.execute(
            "SET",
            &[
                arg(lock_key.clone()),
                arg(token.clone()),
                arg("NX"),
                arg("GET"),
                arg("EX"),
                RedisParameter::Int64(LOCK_TTL_SECONDS),
            ],
        )?;
        match LockAttempt::from_reply(&reply) {
            Some(LockAttempt::Acquired) => {}
            Some(LockAttempt::Booked) => return Ok(BookOutcome::AlreadyBooked),
            Some(LockAttempt::Locked) => return Ok(BookOutcome::Locked),
            None => return Err(unexpected("SET", &reply)),
        }

        let booking_id = Uuid::new_v4().to_string();
        let reply = self.execute(
            "EVAL",
            &[
                arg(BOOK_SEAT_SCRIPT),
                RedisParameter::Int64(3),
                arg(lock_key),
                arg(keys::booking(event, &booking_id)),
                arg(keys::bookings(event)),
                arg(token),
                arg(booking_id.clone()),
                arg(seat.as_str()),
                arg(now_millis().to_string()),
            ],
        )?;
        match reply.as_slice() {
            [RedisResult::Int64(1)] => Ok(BookOutcome::Booked { booking_id }),
            // The lock expired and was taken over before we committed: the
            // fencing check wrote nothing, and the seat belongs to the other caller.
            [RedisResult::Int64(0)] => Ok(BookOutcome::Locked),
            other => Err(unexpected("EVAL", other)),
        }
    }
}

/// Milliseconds since the Unix epoch, for booking timestamps.
pub fn now_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_reply_is_read_correctly() {
        use RedisResult::*;
        assert_eq!(LockAttempt::from_reply(&[Nil]), Some(LockAttempt::Acquired));
        assert_eq!(
            LockAttempt::from_reply(&[Binary(b"booked:123".to_vec())]),
            Some(LockAttempt::Booked)
        );
        assert_eq!(
            LockAttempt::from_reply(&[Binary(b"9f0c-token".to_vec())]),
            Some(LockAttempt::Locked)
        );
        assert_eq!(LockAttempt::from_reply(&[]), None);
        assert_eq!(LockAttempt::from_reply(&[Int64(1)]), None);
    }
}
