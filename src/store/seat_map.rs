//! Reading an event's seat map and counts in one round trip.

use super::{scripts, Store, StoreError};
use crate::ids::EventId;

/// An event as the seat-map script reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMap {
    /// The event's name.
    pub name: String,
    /// When it was created (Unix ms).
    pub created_at_ms: u64,
    /// Seats available now.
    pub available: u64,
    /// Seats held or locked now.
    pub held: u64,
    /// Seats sold.
    pub booked: u64,
    /// Per row: its label and one state character per seat (`a`, `h`, `b`).
    pub rows: Vec<(String, String)>,
}

impl EventMap {
    /// Reads the script's reply: `ok, name, createdAt, a, h, b, label, states, …`.
    pub fn parse(reply: Vec<String>) -> Option<EventMap> {
        let mut items = reply.into_iter();
        if items.next()? != "ok" {
            return None;
        }
        let name = items.next()?;
        let created_at_ms = items.next()?.parse().ok()?;
        let available = items.next()?.parse().ok()?;
        let held = items.next()?.parse().ok()?;
        let booked = items.next()?.parse().ok()?;
        let mut rows = Vec::new();
        while let (Some(label), Some(states)) = (items.next(), items.next()) {
            rows.push((label, states));
        }
        Some(EventMap {
            name,
            created_at_ms,
            available,
            held,
            booked,
            rows,
        })
    }
}

impl Store {
    /// The event's map and counts, or `None` when there is no such event.
    pub fn event_map(&self, event: &EventId) -> Result<Option<EventMap>, StoreError> {
        let reply = self.run_script(scripts::SEAT_MAP, event, Vec::new())?;
        Ok(EventMap::parse(reply))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_script_reply() {
        let reply = ["ok", "Gala", "1700", "3", "1", "1", "A", "aah", "B", "ba"]
            .map(String::from)
            .to_vec();
        let map = EventMap::parse(reply).unwrap();
        assert_eq!(map.name, "Gala");
        assert_eq!((map.available, map.held, map.booked), (3, 1, 1));
        assert_eq!(
            map.rows,
            vec![("A".into(), "aah".into()), ("B".into(), "ba".into())]
        );
        assert_eq!(EventMap::parse(vec!["no_event".into()]), None);
    }
}
