//! Booking one seat the seed's way: a `SET NX` lock, then one fencing
//! script that commits the booking and turns the lock into the seat's sold
//! marker.
//!
//! Round trips after `open`: one `SET` and, only for the caller that got
//! the lock, one `EVALSHA` (and an `EVAL` after it when Redis has lost its
//! script cache, see `eval.rs`): `book_seat.lua` without an
//! Idempotency-Key, `book_seat_full.lua` with one. A second `EVALSHA` when
//! the default event has a seat map, which the lean script leaves to
//! `book_seat_full.lua`. A seat already sold answers from the `SET` alone,
//! because `SET ... NX GET` returns the marker that blocked it (plus one
//! read of the stored answer when the request carries an Idempotency-Key,
//! in case it was this very request that sold it).

use spin_sdk::redis::{RedisParameter, RedisResult};

use super::outcomes::{Answer, SeatCommitRefusal};
use super::{arg, event_key, keys, scripts, unexpected, AnswerArgs, Store, StoreError};
use crate::idempotency::Idempotency;
use crate::ids::{EventId, SeatId};
use crate::time::now_millis;

/// Seconds a booking request's lock lives if its owner dies mid-request.
pub const LOCK_TTL_SECONDS: i64 = 5;

/// What happened to a one-seat booking.
#[derive(Debug, Clone)]
pub enum SeatBooking<'a> {
    /// The commit script ran (or an idempotent answer was found), with the
    /// answer arguments it was given.
    Answer(Answer<SeatCommitRefusal>, AnswerArgs<'a>),
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
    /// Someone else's lock or hold is there.
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
    /// Books `seat` of `event` as booking `booking_id`, all or nothing.
    /// `commit` makes the success answer and the token's hash: it is called
    /// only once the lock is ours (or a stored answer is to be shown), so a
    /// request refused by the `SET` alone, which is most of them when
    /// thousands want one seat, neither renders nor hashes anything.
    pub fn book_seat<'a>(
        &self,
        event: &EventId,
        seat: &SeatId,
        booking_id: &str,
        idempotency: Option<&Idempotency>,
        commit: impl FnOnce() -> (AnswerArgs<'a>, String),
    ) -> Result<SeatBooking<'a>, StoreError> {
        // The booking id is the lock's fencing token: fresh and unique per
        // request, so no second random value (a host call) is needed.
        let reply = self.execute(
            "SET",
            &[
                arg(keys::seat_lock(event, seat)),
                arg(booking_id),
                arg("NX"),
                arg("GET"),
                arg("EX"),
                RedisParameter::Int64(LOCK_TTL_SECONDS),
            ],
        )?;
        let refusal = match LockAttempt::from_reply(&reply) {
            Some(LockAttempt::Acquired) => None,
            Some(LockAttempt::Booked) => Some(SeatBooking::AlreadyBooked),
            Some(LockAttempt::Locked) => Some(SeatBooking::Locked),
            None => return Err(unexpected("SET", &reply)),
        };
        if let Some(refusal) = refusal {
            if let Some(idempotency) = idempotency {
                if let Some(stored) = self.stored_answer(event, idempotency)? {
                    return Ok(SeatBooking::Answer(stored, commit().0));
                }
            }
            return Ok(refusal);
        }
        let (mut answer, token_hash) = commit();
        // createdAt from this instance's clock, as for events: one `TIME`
        // less inside the Redis that every node shares.
        let created_at_ms = i64::try_from(now_millis()).unwrap_or(i64::MAX);
        let args = || {
            vec![
                arg(booking_id),
                arg(seat.as_str()),
                arg(token_hash.as_str()),
                RedisParameter::Int64(created_at_ms),
            ]
        };
        if idempotency.is_none() {
            // No answer to store: the lean script commits, and the answer
            // rendered here is the one given.
            let mut params = Vec::from(event_key(event));
            params.extend(args());
            let reply = self.eval(&scripts::BOOK_SEAT, params)?;
            match LeanCommit::from_reply(&reply) {
                Some(LeanCommit::Booked) => {
                    self.ensure_replicated()?;
                    let body = std::mem::take(&mut answer.body);
                    return Ok(SeatBooking::Answer(Answer::Done(body), answer));
                }
                Some(LeanCommit::LostLock) => return Ok(SeatBooking::Locked),
                // The event has a seat map: the lock is still ours, and
                // the script that checks and marks the map commits.
                Some(LeanCommit::Mapped) => {}
                None => return Err(unexpected("EVALSHA", &reply)),
            }
        }
        let reply = self.run_answer_script(&scripts::BOOK_SEAT_FULL, event, &answer, args())?;
        Ok(match reply {
            // The lock expired and was taken over before we committed: the
            // fencing check wrote nothing, and the seat belongs to the other caller.
            Answer::Refused(SeatCommitRefusal::LostLock) => SeatBooking::Locked,
            other => SeatBooking::Answer(other, answer),
        })
    }
}

/// What `book_seat.lua` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LeanCommit {
    /// `ok`: the seat is booked.
    Booked,
    /// `lost_lock`: the lock expired and was taken over; nothing written.
    LostLock,
    /// `mapped`: the default event has a seat map; nothing written.
    Mapped,
}

impl LeanCommit {
    fn from_reply(reply: &[RedisResult]) -> Option<LeanCommit> {
        match reply {
            [RedisResult::Binary(word)] => match word.as_slice() {
                b"ok" => Some(LeanCommit::Booked),
                b"lost_lock" => Some(LeanCommit::LostLock),
                b"mapped" => Some(LeanCommit::Mapped),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Whether `word` is one `book_seat.lua` answers (for `outcomes.rs`'s test).
#[cfg(test)]
pub(super) fn lean_commit_word(word: &str) -> bool {
    LeanCommit::from_reply(&[RedisResult::Binary(word.as_bytes().to_vec())]).is_some()
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
            LockAttempt::from_reply(&[Binary(b"hold:9f0c".to_vec())]),
            Some(LockAttempt::Locked)
        );
        assert_eq!(LockAttempt::from_reply(&[]), None);
        assert_eq!(LockAttempt::from_reply(&[Int64(1)]), None);
    }

    #[test]
    fn lean_commit_reply_is_read_correctly() {
        use RedisResult::*;
        let word = |w: &str| [Binary(w.as_bytes().to_vec())];
        assert_eq!(
            LeanCommit::from_reply(&word("ok")),
            Some(LeanCommit::Booked)
        );
        assert_eq!(
            LeanCommit::from_reply(&word("lost_lock")),
            Some(LeanCommit::LostLock)
        );
        assert_eq!(
            LeanCommit::from_reply(&word("mapped")),
            Some(LeanCommit::Mapped)
        );
        assert_eq!(LeanCommit::from_reply(&word("taken")), None);
        assert_eq!(LeanCommit::from_reply(&[Status("ok".into())]), None);
        assert_eq!(LeanCommit::from_reply(&[]), None);
    }
}
