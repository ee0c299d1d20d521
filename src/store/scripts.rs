//! The Lua scripts, loaded at build time. Each event script is its own file
//! with the shared `event_prelude.lua` (key derivation, seat-map upkeep,
//! idempotent answers) prepended; `book_seat.lua` too, for the default event.

macro_rules! event_script {
    ($file:literal) => {
        concat!(
            include_str!("scripts/event_prelude.lua"),
            include_str!(concat!("scripts/", $file))
        )
    };
}

/// Commits `POST /api/book/{seatId}` after its `SET NX` lock.
pub const BOOK_SEAT: &str = event_script!("book_seat.lua");
/// Creates an event.
pub const CREATE_EVENT: &str = event_script!("create_event.lua");
/// Holds named seats.
pub const HOLD_SEATS: &str = event_script!("hold_seats.lua");
/// Holds the best available seats.
pub const HOLD_BEST: &str = event_script!("hold_best.lua");
/// Turns a hold into a booking.
pub const CONFIRM_HOLD: &str = event_script!("confirm_hold.lua");
/// Books named seats directly.
pub const BOOK_SEATS: &str = event_script!("book_seats.lua");
/// Releases a hold.
pub const RELEASE_HOLD: &str = event_script!("release_hold.lua");
/// Cancels a booking.
pub const CANCEL_BOOKING: &str = event_script!("cancel_booking.lua");
/// Reads the whole seat map.
pub const SEAT_MAP: &str = event_script!("seat_map.lua");
/// Reads a one-seat booking's stored answer, marking it replayed (no prelude:
/// it touches one key).
pub const REPLAY_ANSWER: &str = include_str!("scripts/replay_answer.lua");
