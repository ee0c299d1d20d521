//! docs/design.md's invariants, checked on one event's state in Redis against
//! what the run's 201 answers told the clients. Pure: no I/O, so every rule
//! is unit-tested on hand-made states.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crate::report::{Report, Reported};
use crate::state::{Booking, EventState, Hold, SeatLock};

/// The TTL of a request's seat lock (`SET ... NX EX 5` in the component).
pub const REQUEST_LOCK_TTL_MS: i64 = 5_000;

/// The invariants a load run must keep (docs/design.md, "Invariants").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Invariant {
    /// 1: no seat is sold twice, and seat markers agree with the bookings.
    NoDoubleBooking,
    /// 2: every 201 matches one stored record and every record one 201.
    AnswersMatchStore,
    /// 3 and 4: a hold keeps its seats until its TTL, and not a moment longer.
    HoldsEndAtTheirTtl,
    /// The seat map's derived state (sold rows, held index) shows what the
    /// seat locks, the authority, say.
    SeatMapMatchesLocks,
    /// An event's waiting room let buyers in in arrival order, never faster
    /// than its `admitPerMinute`, and nobody held or booked without access.
    WaitingRoom,
}

impl Invariant {
    /// Every invariant, in docs/design.md's order.
    pub const ALL: [Invariant; 5] = [
        Invariant::NoDoubleBooking,
        Invariant::AnswersMatchStore,
        Invariant::HoldsEndAtTheirTtl,
        Invariant::SeatMapMatchesLocks,
        Invariant::WaitingRoom,
    ];

    /// The numbers docs/design.md gives the invariant.
    pub fn design_numbers(self) -> &'static str {
        match self {
            Invariant::NoDoubleBooking => "1",
            Invariant::AnswersMatchStore => "2",
            Invariant::HoldsEndAtTheirTtl => "3-4",
            Invariant::SeatMapMatchesLocks => "map",
            Invariant::WaitingRoom => "wr",
        }
    }
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Invariant::NoDoubleBooking => "no seat booked twice",
            Invariant::AnswersMatchStore => "201 answers = stored bookings and holds",
            Invariant::HoldsEndAtTheirTtl => "no hold outlives its TTL",
            Invariant::SeatMapMatchesLocks => "the seat map shows what the locks say",
            Invariant::WaitingRoom => {
                "waiting rooms admit in arrival order, at their rate, and only them"
            }
        })
    }
}

/// One broken rule, with what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Which invariant it breaks.
    pub invariant: Invariant,
    /// What was found, naming seats, ids and numbers.
    pub detail: String,
}

/// What Redis holds for the event, counted for the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stored {
    /// Booking records, live or cancelled.
    pub bookings: u64,
    /// Seats those records sold.
    pub seats: u64,
    /// Seats marked sold right now.
    pub sold_seats: u64,
    /// Hold records.
    pub holds: u64,
    /// Holds still holding their seats.
    pub live_holds: u64,
    /// Waiting-room tickets.
    pub tickets: u64,
}

/// The verdict on one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventCheck {
    /// The event id.
    pub event: String,
    /// What its 201s said.
    pub reported: Reported,
    /// What Redis holds.
    pub stored: Stored,
    /// Everything wrong, in invariant order.
    pub violations: Vec<Violation>,
}

/// How the 201 counts are held against the records Redis stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Counting {
    /// A plain run: every 201 matches one record and every record one 201.
    #[default]
    Exact,
    /// A failover run: every 201 matches a record, but Redis may store
    /// more. A change answered `503 not_replicated` (or `redis_unavailable`
    /// when the connection dropped after the script ran) may still have
    /// been replicated and survive the failover, with no 201 for it; the
    /// retry with the same key replays it, unless the buyer gave up.
    AtLeast,
}

/// Checks `state` against `reported`. `slack_ms` absorbs the difference
/// between the component's clock (which writes `expiresAt`) and Redis's
/// (which runs the TTLs).
pub fn check(state: &EventState, reported: Reported, slack_ms: i64) -> EventCheck {
    check_counting(state, reported, slack_ms, Counting::Exact)
}

/// [`check`], with the 201 counts held against Redis as `counting` says.
pub fn check_counting(
    state: &EventState,
    reported: Reported,
    slack_ms: i64,
    counting: Counting,
) -> EventCheck {
    let index = Index::new(state);
    let mut violations = Vec::new();
    no_double_booking(state, &index, &mut violations);
    answers_match_store(state, &index, reported, counting, &mut violations);
    holds_end_at_their_ttl(state, &index, slack_ms, &mut violations);
    seat_map::matches_locks(state, &index, slack_ms, &mut violations);
    waiting_room::admits_in_order_at_its_rate(state, reported, counting, slack_ms, &mut violations);
    violations.sort_by_key(|v| v.invariant);
    let stored = Stored {
        bookings: state.bookings.len() as u64,
        seats: state.bookings.iter().map(|b| b.seats.len() as u64).sum(),
        sold_seats: state
            .locks
            .iter()
            .filter(|l| l.value.starts_with("booked:"))
            .count() as u64,
        holds: state.holds.len() as u64,
        live_holds: state
            .holds
            .iter()
            .filter(|h| h.status == "held" && h.expires_at_ms > h.read_at_ms)
            .count() as u64,
        tickets: state.waiting_room.tickets.len() as u64,
    };
    EventCheck {
        event: state.event.clone(),
        reported,
        stored,
        violations,
    }
}

/// Violations the report shows by itself: a 201 whose body the processor
/// could not read cannot be matched with anything stored.
pub fn report_violations(report: &Report) -> Vec<Violation> {
    let unreadable = report.counter("loadtest.unparsable_201");
    if unreadable == 0 {
        return Vec::new();
    }
    vec![Violation {
        invariant: Invariant::AnswersMatchStore,
        detail: format!("{unreadable} answers were 201 with a body that is not JSON"),
    }]
}

struct Index<'a> {
    locks: HashMap<&'a str, &'a SeatLock>,
    bookings: HashMap<&'a str, &'a Booking>,
    holds: HashMap<&'a str, &'a Hold>,
}

impl<'a> Index<'a> {
    fn new(state: &'a EventState) -> Index<'a> {
        Index {
            locks: state.locks.iter().map(|l| (l.seat.as_str(), l)).collect(),
            bookings: state.bookings.iter().map(|b| (b.id.as_str(), b)).collect(),
            holds: state.holds.iter().map(|h| (h.id.as_str(), h)).collect(),
        }
    }

    fn lock_value(&self, seat: &str) -> &str {
        self.locks
            .get(seat)
            .map(|l| l.value.as_str())
            .unwrap_or("nothing")
    }
}

fn violation(out: &mut Vec<Violation>, invariant: Invariant, detail: String) {
    out.push(Violation { invariant, detail });
}

fn no_double_booking(state: &EventState, index: &Index, out: &mut Vec<Violation>) {
    let one = Invariant::NoDoubleBooking;
    let mut owners: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for booking in state.bookings.iter().filter(|b| b.status == "booked") {
        for seat in &booking.seats {
            owners.entry(seat).or_default().push(&booking.id);
        }
    }
    for (seat, ids) in &owners {
        if ids.len() > 1 {
            let detail = format!(
                "seat {seat} is sold to {} bookings: {}",
                ids.len(),
                ids.join(", ")
            );
            violation(out, one, detail);
        }
        for id in ids {
            let marker = index.lock_value(seat);
            if marker != format!("booked:{id}") {
                let detail = format!("booking {id} sold seat {seat}, but the seat holds {marker}");
                violation(out, one, detail);
            }
        }
    }
    for lock in &state.locks {
        let Some(id) = lock.value.strip_prefix("booked:") else {
            continue;
        };
        let seat = &lock.seat;
        if lock.pttl_ms >= 0 {
            let detail = format!(
                "sold seat {seat} expires in {} ms (it would be sold again)",
                lock.pttl_ms
            );
            violation(out, one, detail);
        }
        match index.bookings.get(id) {
            None => violation(
                out,
                one,
                format!("seat {seat} is marked sold to {id}, which has no record"),
            ),
            Some(b) if b.status != "booked" => {
                let detail = format!("seat {seat} is marked sold to {id}, which is {}", b.status);
                violation(out, one, detail);
            }
            Some(b) if !b.seats.contains(seat) => {
                let detail = format!(
                    "seat {seat} is marked sold to {id}, whose seats are {}",
                    b.seats.join(",")
                );
                violation(out, one, detail);
            }
            Some(_) => {}
        }
    }
}

fn answers_match_store(
    state: &EventState,
    index: &Index,
    reported: Reported,
    counting: Counting,
    out: &mut Vec<Violation>,
) {
    let two = Invariant::AnswersMatchStore;
    let seats: u64 = state.bookings.iter().map(|b| b.seats.len() as u64).sum();
    for (what, told, stored) in [
        ("bookings", reported.bookings, state.bookings.len() as u64),
        ("booked seats", reported.seats, seats),
        ("holds", reported.holds, state.holds.len() as u64),
    ] {
        let broken = match counting {
            Counting::Exact => told != stored,
            Counting::AtLeast => told > stored,
        };
        if broken {
            let hint = if told < stored {
                " (a 201 lost on its way? see the report's errors)"
            } else {
                " (a 201 for something never stored)"
            };
            let detail = format!("201s announced {told} {what}, Redis stores {stored}{hint}");
            violation(out, two, detail);
        }
    }
    for booking in &state.bookings {
        let listed = state.live_bookings.contains(&booking.id);
        let problem = match (booking.status.as_str(), listed) {
            ("booked", false) => "is live but missing from the live set",
            ("cancelled", true) => "is cancelled but still in the live set",
            ("booked", true) | ("cancelled", false) => "",
            _ => "has an unknown status",
        };
        if !problem.is_empty() {
            let detail = format!("booking {} ({}) {problem}", booking.id, booking.status);
            violation(out, two, detail);
        }
        if !booking.hold_id.is_empty() {
            let confirmed = index
                .holds
                .get(booking.hold_id.as_str())
                .is_some_and(|h| h.status == "confirmed" && h.booking_id == booking.id);
            if !confirmed {
                let detail = format!(
                    "booking {} names hold {}, which was not confirmed into it",
                    booking.id, booking.hold_id
                );
                violation(out, two, detail);
            }
        }
    }
    for id in &state.live_bookings {
        if !index.bookings.contains_key(id.as_str()) {
            violation(
                out,
                two,
                format!("the live set lists booking {id}, which has no record"),
            );
        }
    }
    for hold in state.holds.iter().filter(|h| h.status == "confirmed") {
        let booked = index
            .bookings
            .get(hold.booking_id.as_str())
            .is_some_and(|b| b.hold_id == hold.id);
        if !booked {
            let detail = format!(
                "hold {} was confirmed into booking {:?}, which is not stored as its",
                hold.id, hold.booking_id
            );
            violation(out, two, detail);
        }
    }
}

fn holds_end_at_their_ttl(
    state: &EventState,
    index: &Index,
    slack_ms: i64,
    out: &mut Vec<Violation>,
) {
    let three = Invariant::HoldsEndAtTheirTtl;
    for lock in &state.locks {
        let seat = &lock.seat;
        if lock.value.starts_with("booked:") {
            continue;
        }
        let Some(id) = lock.value.strip_prefix("hold:") else {
            if lock.pttl_ms < 0 || lock.pttl_ms > REQUEST_LOCK_TTL_MS + slack_ms {
                let detail = format!(
                    "seat {seat} has a request lock with TTL {} ms (at most {REQUEST_LOCK_TTL_MS})",
                    lock.pttl_ms
                );
                violation(out, three, detail);
            }
            continue;
        };
        if lock.pttl_ms < 0 {
            violation(
                out,
                three,
                format!("seat {seat} is held by {id} with no TTL: the hold never ends"),
            );
        }
        let Some(hold) = index.holds.get(id) else {
            violation(
                out,
                three,
                format!("seat {seat} is held by {id}, which has no record"),
            );
            continue;
        };
        if hold.status != "held" {
            let detail = format!(
                "seat {seat} is still held by {id}, which is {}",
                hold.status
            );
            violation(out, three, detail);
        }
        if !hold.seats.contains(seat) {
            violation(
                out,
                three,
                format!("seat {seat} is held by {id}, which does not list it"),
            );
        }
        let left_ms = hold.expires_at_ms - lock.read_at_ms;
        if lock.pttl_ms > left_ms + slack_ms {
            let detail = format!(
                "seat {seat} stays held by {id} {} ms past its expiresAt",
                lock.pttl_ms - left_ms
            );
            violation(out, three, detail);
        }
    }
    for hold in &state.holds {
        if hold.pttl_ms < 0 {
            violation(
                out,
                three,
                format!("hold record {} has no TTL: it is kept forever", hold.id),
            );
        }
        let left_ms = hold.expires_at_ms - hold.read_at_ms;
        if hold.status != "held" || left_ms <= slack_ms {
            continue;
        }
        for seat in &hold.seats {
            let marker = index.lock_value(seat);
            if marker != format!("hold:{}", hold.id) {
                let detail = format!("hold {} lost seat {seat} {left_ms} ms before its end (the seat holds {marker})", hold.id);
                violation(out, three, detail);
            }
        }
    }
}

mod seat_map;
mod waiting_room;

#[cfg(test)]
mod tests;
