//! The Redis key layout. Every key of an event carries the event id as a
//! Redis Cluster hash tag (`{E}`), so each script touches one slot and
//! events spread across a cluster. The Lua scripts derive the same keys
//! from the tag of `event:{E}` (see `scripts/lib/event.lua`).
//!
//! | key | type | meaning |
//! | --- | --- | --- |
//! | `event:{E}` | hash | `name`, `rows` (JSON `[[label, seats], …]`), `seatCount`, `createdAt`; with a waiting room also `queueAdmitPerMinute`, `queueAccessMinutes` |
//! | `map:{E}` | hash | per row label, one character per seat: `a` not sold, `b` sold (kept by the scripts that sell and cancel) |
//! | `held:{E}:<row>` | sorted set | seat numbers of the row's holds, scored by expiry (ms); read with the expired ones filtered out |
//! | `lock:seat:{E}:<seat>` | string | absent: free; a request's lock token (TTL 5 s) or `hold:<holdId>` (TTL of the hold): held; `booked:<bookingId>` (no TTL): sold |
//! | `hold:{E}:<holdId>` | hash | `tokenHash`, `seats`, `expiresAt`, `status` (held, confirmed, released), `bookingId`, and `ticketId`, `accessAt` when made through a waiting room; kept a day past expiry |
//! | `booking:{E}:<bookingId>` | hash | `tokenHash`, `seats`, `createdAt`, `status` (booked, cancelled), `holdId`, and `ticketId`, `accessAt` when booked directly through a waiting room |
//! | `bookings:{E}` | set | the ids of the event's live (not cancelled) bookings |
//! | `queue:{E}` | hash | the waiting room's `arrivals` (last arrival number), `turnBase` (ms, Redis clock: first arrival of the current rush) and `sinceBase` (tickets given a turn since) |
//! | `ticket:{E}:<ticketId>` | hash | `tokenHash`, `position`, `joinedAt`, `turnAt` (ms, Redis clock: when it is admitted); expires a day after its access window closes (join_queue.lua) |
//! | `idem:{E}:<keyHash>` | hash | a POST's first success answer, for 24 h (`idempotency.rs`) |
//! | `holds:{E}` | sorted set | the ids of the event's holds, scored by expiry (ms); released and confirmed holds leave it, expired ones are trimmed when a hold is made. Its live count is part of the reads' ETag |
//! | `version:{E}` | string (counter) | bumped by every script that changes what the event's reads show; part of their ETag (`scripts/seat_map.lua`) |
//! | `events` | sorted set | every event created since the index exists, scored by `createdAt` (ms): `GET /api/events` pages through it newest first |
//!
//! `events` is the one key outside any event's slot: `create_event.lua`
//! adds to it and `list_events.lua` reads it together with the listed
//! events' keys. That is fine on one primary (the deployment's topology);
//! on Redis Cluster the list would have to read each event on its own.
//!
//! Ids embedded here are validated first (`ids.rs`), so no client text can
//! add glob or hash-tag characters to a key.

use crate::ids::{EventId, SeatId};

/// The event `POST /api/book/{seatId}` books into.
pub const DEFAULT_EVENT: &str = "default";

/// The index of events, newest first (see the table above).
pub const EVENT_INDEX: &str = "events";

/// The prefix of a lock value that marks a sold seat.
pub const BOOKED_PREFIX: &str = "booked:";

// Keys are joined with `concat`, not `format!`: every request builds some,
// and the formatting machinery costs several times more in the guest.

/// The event's record; scripts take it as `KEYS[1]` and derive the rest.
pub fn event(event: &EventId) -> String {
    ["event:{", event.as_str(), "}"].concat()
}

/// The key that owns a seat: its lock, hold or booking marker.
pub fn seat_lock(event: &EventId, seat: &SeatId) -> String {
    ["lock:seat:{", event.as_str(), "}:", seat.as_str()].concat()
}

/// The record of one booking.
pub fn booking(event: &EventId, booking_id: &str) -> String {
    ["booking:{", event.as_str(), "}:", booking_id].concat()
}

/// A stored idempotent answer.
pub fn idempotency(event: &EventId, key_hash: &str) -> String {
    ["idem:{", event.as_str(), "}:", key_hash].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_tag(key: &str) -> &str {
        let open = key.find('{').unwrap();
        let close = open + key[open..].find('}').unwrap();
        &key[open + 1..close]
    }

    #[test]
    fn keys_of_an_event_share_its_hash_tag() {
        let e = EventId::new("gala").unwrap();
        let seat = SeatId::new("A-1").unwrap();
        let keys = [
            event(&e),
            seat_lock(&e, &seat),
            booking(&e, "b1"),
            idempotency(&e, "k1"),
        ];
        for key in &keys {
            assert_eq!(hash_tag(key), "gala", "{key}");
        }
        assert_eq!(keys[0], "event:{gala}");
        assert_eq!(keys[1], "lock:seat:{gala}:A-1");
        assert_eq!(keys[2], "booking:{gala}:b1");
        assert_eq!(keys[3], "idem:{gala}:k1");
    }
}
