//! Bookings: booked directly (all or nothing), read and cancelled with the
//! booking's token.

use spin_sdk::redis::RedisResult;

use super::holds::join;
use super::outcomes::{Answer, CancelRefusal, Change, SeatRefusal};
use super::{arg, keys, scripts, AnswerArgs, Store, StoreError};
use crate::ids::{EventId, SeatId};

/// A stored booking, as `GET` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingRecord {
    /// Hash of the booking token.
    pub token_hash: String,
    /// The seats, comma-joined.
    pub seats: String,
    /// `booked` or `cancelled`.
    pub status: String,
    /// When it was made (Unix ms).
    pub created_at_ms: u64,
    /// The hold it was confirmed from, or empty.
    pub hold_id: String,
}

impl Store {
    /// Books `seats` of `event` directly, all or nothing; `access_ticket`
    /// is the waiting-room ticket whose verified access came with the
    /// request, or empty.
    pub fn book_seats(
        &self,
        event: &EventId,
        answer: &AnswerArgs,
        booking_id: &str,
        token_hash: &str,
        seats: &[SeatId],
        access_ticket: &str,
    ) -> Result<Answer<SeatRefusal>, StoreError> {
        self.run_answer_script(
            &scripts::BOOK_SEATS,
            event,
            answer,
            vec![
                arg(booking_id),
                arg(token_hash),
                arg(join(seats)),
                arg(access_ticket),
            ],
        )
    }

    /// Reads booking `booking_id`, if it exists.
    pub fn booking(
        &self,
        event: &EventId,
        booking_id: &str,
    ) -> Result<Option<BookingRecord>, StoreError> {
        let reply = self.execute(
            "HMGET",
            &[
                arg(keys::booking(event, booking_id)),
                arg("tokenHash"),
                arg("seats"),
                arg("status"),
                arg("createdAt"),
                arg("holdId"),
            ],
        )?;
        let field = |i: usize| match reply.get(i) {
            Some(RedisResult::Binary(b)) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        };
        let Some(token_hash) = field(0) else {
            return Ok(None);
        };
        Ok(Some(BookingRecord {
            token_hash,
            seats: field(1).unwrap_or_default(),
            status: field(2).unwrap_or_default(),
            created_at_ms: field(3).and_then(|t| t.parse().ok()).unwrap_or(0),
            hold_id: field(4).unwrap_or_default(),
        }))
    }

    /// Cancels booking `booking_id`, whose token hashes to `token_hash`.
    pub fn cancel_booking(
        &self,
        event: &EventId,
        booking_id: &str,
        token_hash: &str,
    ) -> Result<Change<CancelRefusal>, StoreError> {
        self.run_change_script(
            &scripts::CANCEL_BOOKING,
            event,
            vec![arg(booking_id), arg(token_hash)],
        )
    }
}
