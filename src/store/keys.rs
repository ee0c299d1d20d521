//! The Redis key layout. Every key of an event carries the event id as a
//! Redis Cluster hash tag (`{event}`), so each script touches one slot and
//! events spread across a cluster.
//!
//! | key | type | meaning |
//! | --- | --- | --- |
//! | `lock:seat:{E}:<seat>` | string | absent: free; a lock token with a TTL: locked; `booked:<bookingId>` without TTL: sold |
//! | `booking:{E}:<bookingId>` | hash | `seats`, `createdAt` (unix ms) |
//! | `bookings:{E}` | set | every booking id of the event |
//!
//! Ids embedded here are validated first (`SeatId`), so no client text can
//! add glob or hash-tag characters to a key.

use crate::seat_id::SeatId;

/// The event `POST /api/book/{seatId}` books into.
pub const DEFAULT_EVENT: &str = "default";

/// The prefix of a lock value that marks a sold seat.
pub const BOOKED_PREFIX: &str = "booked:";

/// The key that owns a seat: its lock, hold or booking marker.
pub fn seat_lock(event: &str, seat: &SeatId) -> String {
    format!("lock:seat:{{{event}}}:{seat}")
}

/// The record of one booking.
pub fn booking(event: &str, booking_id: &str) -> String {
    format!("booking:{{{event}}}:{booking_id}")
}

/// The set of an event's booking ids.
pub fn bookings(event: &str) -> String {
    format!("bookings:{{{event}}}")
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
        let seat = SeatId::parse("A-1").unwrap();
        let keys = [
            seat_lock("gala", &seat),
            booking("gala", "b1"),
            bookings("gala"),
        ];
        for key in &keys {
            assert_eq!(hash_tag(key), "gala", "{key}");
        }
        assert_eq!(keys[0], "lock:seat:{gala}:A-1");
        assert_eq!(keys[1], "booking:{gala}:b1");
        assert_eq!(keys[2], "bookings:{gala}");
    }
}
