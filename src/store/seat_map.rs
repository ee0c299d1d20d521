//! Reading an event's seat map and counts in one round trip, touching one
//! string and one small sorted set per row rather than one key per seat.
//! The read comes with a validator (the ETag's core) and skips building the
//! map when the client already has the current one.

use std::collections::HashMap;

use super::queue::WaitingRoom;
use super::{arg, scripts, Store, StoreError};
use crate::ids::EventId;

/// An event as the seat-map script reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMap {
    /// What identifies this picture of the event (`createdAt.version.liveHolds`,
    /// see `scripts/seat_map.lua`): equal validators, equal maps.
    pub validator: String,
    /// The event's name.
    pub name: String,
    /// When it was created (Unix ms).
    pub created_at_ms: u64,
    /// Seats available now.
    pub available: u64,
    /// Seats held now.
    pub held: u64,
    /// Seats sold.
    pub booked: u64,
    /// Per row: its label and one state character per seat (`a`, `h`, `b`).
    pub rows: Vec<(String, String)>,
    /// Its waiting room, if it has one.
    pub waiting_room: Option<WaitingRoom>,
}

impl EventMap {
    /// Reads the script's reply (`ok, validator, name, createdAt, rowCount,
    /// heldCount, labels…, sold states…, held seats…, admitPerMinute,
    /// accessMinutes`) and lays the live holds over the rows' sold states.
    pub fn parse(reply: Vec<String>) -> Option<EventMap> {
        let mut items = reply.into_iter();
        if items.next()? != "ok" {
            return None;
        }
        let validator = items.next()?;
        let name = items.next()?;
        let created_at_ms = items.next()?.parse().ok()?;
        let row_count: usize = items.next()?.parse().ok()?;
        let held_count: usize = items.next()?.parse().ok()?;
        let labels: Vec<String> = items.by_ref().take(row_count).collect();
        let mut states: Vec<Vec<u8>> = items
            .by_ref()
            .take(row_count)
            .map(String::into_bytes)
            .collect();
        if labels.len() != row_count || states.len() != row_count {
            return None;
        }
        let index: HashMap<&str, usize> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.as_str(), i))
            .collect();
        for seat in items.by_ref().take(held_count) {
            let Some((label, n)) = seat.rsplit_once('-') else {
                continue;
            };
            let (Some(&row), Ok(n)) = (index.get(label), n.parse::<usize>()) else {
                continue;
            };
            if let Some(state) = states[row].get_mut(n.wrapping_sub(1)) {
                if *state == b'a' {
                    *state = b'h';
                }
            }
        }
        let count = |c: u8| -> u64 {
            states
                .iter()
                .map(|s| s.iter().filter(|&&b| b == c).count() as u64)
                .sum()
        };
        let (available, held, booked) = (count(b'a'), count(b'h'), count(b'b'));
        let waiting_room = match (items.next(), items.next()) {
            (Some(rate), Some(minutes)) => WaitingRoom::from_record(&rate, &minutes),
            _ => None,
        };
        let rows = labels
            .into_iter()
            .zip(states)
            .map(|(label, s)| (label, String::from_utf8_lossy(&s).into_owned()))
            .collect();
        Some(EventMap {
            validator,
            name,
            created_at_ms,
            available,
            held,
            booked,
            rows,
            waiting_room,
        })
    }
}

/// What reading the map found, for an event that exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapRead {
    /// The map is the one whose validator the client named (given here).
    NotModified(String),
    /// The current map (the client's validators, if any, are stale).
    Current(EventMap),
}

impl Store {
    /// The event's map and counts, or `None` when there is no such event.
    /// `known` are validators the client already has (from its
    /// `If-None-Match`): when the current one is among them the script
    /// answers at once, without reading or sending the map.
    pub fn event_map(
        &self,
        event: &EventId,
        known: &[String],
    ) -> Result<Option<MapRead>, StoreError> {
        let args = known.iter().map(|v| arg(v.as_str())).collect();
        let reply = self.run_script(&scripts::SEAT_MAP, event, args)?;
        Ok(match reply.first().map(String::as_str) {
            Some("not_modified") => reply.into_iter().nth(1).map(MapRead::NotModified),
            _ => EventMap::parse(reply).map(MapRead::Current),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn lays_live_holds_over_the_sold_states() {
        let map = EventMap::parse(reply(&[
            "ok", "1700.4.3", "Gala", "1700", "2", "3", "A", "B", "aab", "ba", "A-1", "A-3", "B-2",
        ]))
        .unwrap();
        assert_eq!(map.name, "Gala");
        assert_eq!(map.validator, "1700.4.3");
        assert_eq!(
            map.rows,
            vec![("A".into(), "hab".into()), ("B".into(), "bh".into())]
        );
        assert_eq!((map.available, map.held, map.booked), (1, 2, 2));
        assert_eq!(map.waiting_room, None);
    }

    #[test]
    fn reads_the_waiting_room_after_the_held_seats() {
        let map = EventMap::parse(reply(&[
            "ok", "1.2.1", "G", "1", "1", "1", "A", "aa", "A-1", "600", "5",
        ]))
        .unwrap();
        assert_eq!(map.held, 1);
        assert_eq!(
            map.waiting_room,
            Some(WaitingRoom {
                admit_per_minute: 600,
                access_minutes: 5
            })
        );
        let without = EventMap::parse(reply(&[
            "ok", "1.2.0", "G", "1", "1", "0", "A", "aa", "", "",
        ]));
        assert_eq!(without.unwrap().waiting_room, None);
    }

    #[test]
    fn ignores_held_seats_off_the_map_and_refuses_short_replies() {
        let map = EventMap::parse(reply(&[
            "ok", "1.1.3", "G", "1", "1", "3", "A", "aa", "A-9", "Z-1", "A-0",
        ]))
        .unwrap();
        assert_eq!(map.rows, vec![("A".into(), "aa".into())]);
        assert_eq!(EventMap::parse(reply(&["no_event"])), None);
        assert_eq!(
            EventMap::parse(reply(&["ok", "1.1.0", "G", "1", "2", "0", "A"])),
            None
        );
    }
}
