//! Waiting rooms: joining an event's queue and reading a ticket's turn, one
//! script call each. The turn of every ticket is fixed when it joins
//! (`scripts/join_queue.lua`), so admission needs no background job: a
//! ticket is admitted once Redis's clock reaches its turn.

use std::ops::RangeInclusive;

use anyhow::anyhow;

use super::outcomes::{Answer, QueueRefusal, Refusal};
use super::{arg, scripts, AnswerArgs, Store, StoreError, SEATS_PLACEHOLDER};
use crate::ids::EventId;

/// Where the join answer leaves the ticket's position for the script to
/// fill in: the same slot `scripts/lib/answer.lua` fills with seats
/// elsewhere, since only the script knows the arrival number.
pub const POSITION_PLACEHOLDER: &str = SEATS_PLACEHOLDER;

/// An event's waiting-room settings, as `POST /api/events` takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitingRoom {
    /// Buyers admitted per minute (the queue's outflow).
    pub admit_per_minute: u32,
    /// How long an admission lasts, in minutes.
    pub access_minutes: u32,
}

impl WaitingRoom {
    /// Accepted admissions per minute.
    pub const ADMIT_PER_MINUTE: RangeInclusive<u32> = 1..=100_000;
    /// Accepted access minutes.
    pub const ACCESS_MINUTES: RangeInclusive<u32> = 1..=120;

    /// Settings within the bounds, or why not.
    pub fn new(admit_per_minute: u32, access_minutes: u32) -> Result<WaitingRoom, &'static str> {
        if !WaitingRoom::ADMIT_PER_MINUTE.contains(&admit_per_minute) {
            return Err("waitingRoom.admitPerMinute must be a whole number from 1 to 100000");
        }
        if !WaitingRoom::ACCESS_MINUTES.contains(&access_minutes) {
            return Err("waitingRoom.accessMinutes must be a whole number from 1 to 120");
        }
        Ok(WaitingRoom {
            admit_per_minute,
            access_minutes,
        })
    }

    /// Reads the two fields of an event record (empty when the event has
    /// no waiting room).
    pub fn from_record(admit_per_minute: &str, access_minutes: &str) -> Option<WaitingRoom> {
        WaitingRoom::new(admit_per_minute.parse().ok()?, access_minutes.parse().ok()?).ok()
    }
}

/// A ticket's place in the queue, read on Redis's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketTurn {
    /// Its arrival number (1 for the first buyer).
    pub position: u64,
    /// When its turn comes (Unix ms, Redis clock).
    pub turn_at_ms: u64,
    /// Redis's clock when it was read.
    pub now_ms: u64,
    /// The event's settings.
    pub room: WaitingRoom,
}

/// The longest polling interval suggested while waiting.
pub const MAX_RETRY_AFTER_SECONDS: u64 = 30;
/// The shortest, unless the turn comes sooner.
pub const MIN_RETRY_AFTER_SECONDS: u64 = 2;

impl TicketTurn {
    /// Whether the ticket's turn has come.
    pub fn admitted(&self) -> bool {
        self.now_ms >= self.turn_at_ms
    }

    /// Milliseconds until the turn (0 once admitted).
    pub fn wait_ms(&self) -> u64 {
        self.turn_at_ms.saturating_sub(self.now_ms)
    }

    /// The wait in whole seconds, rounded up: exact, since the turn is fixed.
    pub fn wait_seconds(&self) -> u64 {
        self.wait_ms().div_ceil(1000)
    }

    /// Buyers ahead still waiting: turns are spaced 60000 / rate ms apart
    /// while a queue is busy, so those between now and this turn.
    pub fn ahead(&self) -> u64 {
        let spread = self.wait_ms() * u64::from(self.room.admit_per_minute);
        spread.div_ceil(60_000).saturating_sub(1)
    }

    /// When the admission ends: `accessMinutes` after the turn, so every
    /// poll after it gets the same expiry, never a later one.
    pub fn access_expires_at_ms(&self) -> u64 {
        self.turn_at_ms + u64::from(self.room.access_minutes) * 60_000
    }

    /// Whether the admission is over (the buyer came back too late).
    pub fn access_over(&self) -> bool {
        self.now_ms >= self.access_expires_at_ms()
    }

    /// The polling interval to suggest while waiting: half the remaining
    /// wait, from 2 to 30 seconds, but never past the turn; a buyer polls
    /// a handful of times in all, more often as the turn nears.
    pub fn retry_after_seconds(&self) -> u64 {
        let half = self.wait_ms().div_ceil(2000);
        half.clamp(MIN_RETRY_AFTER_SECONDS, MAX_RETRY_AFTER_SECONDS)
            .min(self.wait_seconds())
            .max(1)
    }

    /// Reads `queue_status.lua`'s `ok` reply after its first word.
    fn parse(items: &[String]) -> Option<TicketTurn> {
        let [position, turn_at, now, rate, minutes] = items else {
            return None;
        };
        Some(TicketTurn {
            position: position.parse().ok()?,
            turn_at_ms: turn_at.parse().ok()?,
            now_ms: now.parse().ok()?,
            room: WaitingRoom::from_record(rate, minutes)?,
        })
    }
}

/// What reading a ticket found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketLookup {
    /// The ticket, for its holder.
    Found(TicketTurn),
    /// Not found, wrong token, no such event or no waiting room.
    Refused(QueueRefusal),
}

impl Store {
    /// Joins `event`'s waiting room as ticket `ticket_id`, whose token
    /// hashes to `token_hash`.
    pub fn join_queue(
        &self,
        event: &EventId,
        answer: &AnswerArgs,
        ticket_id: &str,
        token_hash: &str,
    ) -> Result<Answer<QueueRefusal>, StoreError> {
        self.run_answer_script(
            &scripts::JOIN_QUEUE,
            event,
            answer,
            vec![arg(ticket_id), arg(token_hash)],
        )
    }

    /// Reads ticket `ticket_id` of `event` for the holder of its token.
    /// Writes nothing, so it waits for no replica.
    pub fn queue_status(
        &self,
        event: &EventId,
        ticket_id: &str,
        token_hash: &str,
    ) -> Result<TicketLookup, StoreError> {
        let reply = self.run_script(
            &scripts::QUEUE_STATUS,
            event,
            vec![arg(ticket_id), arg(token_hash)],
        )?;
        match reply.split_first() {
            Some((word, rest)) if word == "ok" => TicketTurn::parse(rest)
                .map(TicketLookup::Found)
                .ok_or_else(|| StoreError::Unavailable(anyhow!("unexpected ticket: {reply:?}"))),
            Some((word, _)) => QueueRefusal::parse(word, Vec::new())
                .map(TicketLookup::Refused)
                .ok_or_else(|| StoreError::Unexpected(anyhow!("queue_status: {word:?}"))),
            None => Err(StoreError::Unexpected(anyhow!(
                "an empty reply to queue_status"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(turn_at_ms: u64, now_ms: u64, rate: u32) -> TicketTurn {
        TicketTurn {
            position: 7,
            turn_at_ms,
            now_ms,
            room: WaitingRoom::new(rate, 2).unwrap(),
        }
    }

    #[test]
    fn settings_have_bounds() {
        assert!(WaitingRoom::new(1, 1).is_ok());
        assert!(WaitingRoom::new(100_000, 120).is_ok());
        assert!(WaitingRoom::new(0, 1).is_err());
        assert!(WaitingRoom::new(100_001, 1).is_err());
        assert!(WaitingRoom::new(1, 0).is_err());
        assert!(WaitingRoom::new(1, 121).is_err());
        assert_eq!(
            WaitingRoom::from_record("60", "5"),
            Some(WaitingRoom {
                admit_per_minute: 60,
                access_minutes: 5
            })
        );
        assert_eq!(WaitingRoom::from_record("", ""), None);
    }

    #[test]
    fn a_ticket_is_admitted_at_its_turn_for_access_minutes() {
        let waiting = turn(10_000, 7_500, 60);
        assert!(!waiting.admitted());
        assert_eq!(waiting.wait_seconds(), 3);
        // Turns one second apart: those at 8.0 s and 9.0 s are ahead.
        assert_eq!(waiting.ahead(), 2);
        let admitted = turn(10_000, 10_000, 60);
        assert!(admitted.admitted());
        assert_eq!((admitted.wait_seconds(), admitted.ahead()), (0, 0));
        assert_eq!(admitted.access_expires_at_ms(), 130_000);
        assert_eq!(turn(10_000, 90_000, 60).access_expires_at_ms(), 130_000);
        assert!(!turn(10_000, 129_999, 60).access_over());
        assert!(turn(10_000, 130_000, 60).access_over());
    }

    #[test]
    fn polling_slows_down_for_long_waits_and_speeds_up_near_the_turn() {
        let retry = |wait_ms: u64| turn(1_000_000 + wait_ms, 1_000_000, 10).retry_after_seconds();
        assert_eq!(retry(600_000), 30);
        assert_eq!(retry(20_000), 10);
        assert_eq!(retry(3_000), 2);
        assert_eq!(retry(1_500), 2);
        assert_eq!(retry(400), 1);
    }

    #[test]
    fn the_status_reply_is_read_strictly() {
        let items = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let parsed = TicketTurn::parse(&items(&["3", "2000", "1500", "60", "5"])).unwrap();
        assert_eq!(
            (parsed.position, parsed.turn_at_ms, parsed.now_ms),
            (3, 2000, 1500)
        );
        assert!(TicketTurn::parse(&items(&["3", "2000", "1500", "60"])).is_none());
        assert!(TicketTurn::parse(&items(&["x", "2000", "1500", "60", "5"])).is_none());
    }
}
