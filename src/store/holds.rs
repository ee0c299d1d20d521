//! Holds: the seats' locks with the hold's TTL ("the lock is the hold"),
//! confirmed into bookings or released with the hold's token.

use super::outcomes::{Answer, Change, HoldRefusal, HoldStateRefusal};
use super::{arg, scripts, AnswerArgs, Store, StoreError};
use crate::ids::{EventId, SeatId};

/// What to hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldRequest {
    /// These seats, all or nothing.
    Seats(Vec<SeatId>),
    /// The best `count` available seats, adjacent in one row if asked.
    BestAvailable {
        /// How many seats.
        count: u32,
        /// Whether they must be one block in one row.
        adjacent: bool,
    },
}

/// A new hold's identity and lifetime.
#[derive(Debug, Clone)]
pub struct NewHold<'a> {
    /// The hold's id.
    pub hold_id: &'a str,
    /// The hash of its token.
    pub token_hash: &'a str,
    /// Its time to live.
    pub ttl_ms: u64,
    /// When it expires (Unix ms).
    pub expires_at_ms: u64,
    /// The waiting-room ticket whose verified access token came with the
    /// request, or empty (`access::admitted_ticket`).
    pub access_ticket: &'a str,
}

impl Store {
    /// Holds seats of `event` for `hold.ttl_ms`, all or nothing.
    pub fn hold(
        &self,
        event: &EventId,
        answer: &AnswerArgs,
        hold: &NewHold,
        request: &HoldRequest,
    ) -> Result<Answer<HoldRefusal>, StoreError> {
        let mut args = vec![
            arg(hold.hold_id),
            arg(hold.token_hash),
            arg(hold.ttl_ms.to_string()),
            arg(hold.expires_at_ms.to_string()),
        ];
        let script = match request {
            HoldRequest::Seats(seats) => {
                args.push(arg(join(seats)));
                scripts::HOLD_SEATS
            }
            HoldRequest::BestAvailable { count, adjacent } => {
                args.push(arg(count.to_string()));
                args.push(arg(if *adjacent { "1" } else { "0" }));
                scripts::HOLD_BEST
            }
        };
        args.push(arg(hold.access_ticket));
        self.run_answer_script(&script, event, answer, args)
    }

    /// Confirms hold `hold_id` into booking `booking_id`.
    pub fn confirm_hold(
        &self,
        event: &EventId,
        answer: &AnswerArgs,
        hold_id: &str,
        hold_token_hash: &str,
        booking_id: &str,
        booking_token_hash: &str,
    ) -> Result<Answer<HoldStateRefusal>, StoreError> {
        self.run_answer_script(
            &scripts::CONFIRM_HOLD,
            event,
            answer,
            vec![
                arg(hold_id),
                arg(hold_token_hash),
                arg(booking_id),
                arg(booking_token_hash),
            ],
        )
    }

    /// Releases hold `hold_id`, whose token hashes to `token_hash`.
    pub fn release_hold(
        &self,
        event: &EventId,
        hold_id: &str,
        token_hash: &str,
    ) -> Result<Change<HoldStateRefusal>, StoreError> {
        self.run_change_script(
            &scripts::RELEASE_HOLD,
            event,
            vec![arg(hold_id), arg(token_hash)],
        )
    }
}

/// Seats as the scripts take them: comma-joined (ids never contain commas).
pub fn join(seats: &[SeatId]) -> String {
    seats
        .iter()
        .map(SeatId::as_str)
        .collect::<Vec<_>>()
        .join(",")
}
