//! The list of events, newest first, a page at a time with each event's
//! live counts, read in one round trip (`scripts/list_events.lua`).

use std::fmt;

use anyhow::anyhow;
use spin_sdk::redis::RedisParameter;

use super::{arg, keys, scripts, Store, StoreError};
use crate::ids::EventId;

/// Where a page of the list starts: just after this event (the last one of
/// the previous page), by its place in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The event's creation time (Unix ms), its score in the index.
    pub created_at_ms: u64,
    /// The event.
    pub event: EventId,
}

impl Cursor {
    /// The most digits a creation time in a cursor may have (Unix ms fit in 16).
    const MAX_DIGITS: usize = 16;

    /// Reads a cursor as [`Cursor`]'s `Display` writes it
    /// (`<createdAt>.<eventId>`); anything else is `None`. Clients treat
    /// the text as opaque.
    pub fn parse(text: &str) -> Option<Cursor> {
        let (millis, event) = text.split_once('.')?;
        if millis.is_empty()
            || millis.len() > Cursor::MAX_DIGITS
            || !millis.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        Some(Cursor {
            created_at_ms: millis.parse().ok()?,
            event: EventId::new(event).ok()?,
        })
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.created_at_ms, self.event)
    }
}

/// One event of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSummary {
    /// Its id.
    pub event: String,
    /// Its display name.
    pub name: String,
    /// When it was created (Unix ms).
    pub created_at_ms: u64,
    /// Seats available now.
    pub available: u64,
    /// Seats held now.
    pub held: u64,
    /// Seats sold.
    pub booked: u64,
}

/// One page of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPage {
    /// The events, newest first.
    pub events: Vec<EventSummary>,
    /// Where the next page starts, or `None` on the last page.
    pub next: Option<Cursor>,
}

impl EventPage {
    /// Reads the script's reply: the next cursor's two parts (empty on the
    /// last page), then six items per event.
    pub fn parse(reply: Vec<String>) -> Option<EventPage> {
        let mut items = reply.into_iter();
        let (next_millis, next_event) = (items.next()?, items.next()?);
        let next = if next_event.is_empty() {
            None
        } else {
            Some(Cursor {
                created_at_ms: next_millis.parse().ok()?,
                event: EventId::new(&next_event).ok()?,
            })
        };
        let rest: Vec<String> = items.collect();
        if !rest.len().is_multiple_of(6) {
            return None;
        }
        let events = rest
            .chunks(6)
            .map(|e| {
                Some(EventSummary {
                    event: e[0].clone(),
                    name: e[1].clone(),
                    created_at_ms: e[2].parse().ok()?,
                    available: e[3].parse().ok()?,
                    held: e[4].parse().ok()?,
                    booked: e[5].parse().ok()?,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(EventPage { events, next })
    }
}

impl Store {
    /// Up to `limit` events, newest first, starting after `after` (or at
    /// the newest).
    pub fn list_events(&self, limit: u32, after: Option<&Cursor>) -> Result<EventPage, StoreError> {
        let (millis, event) = match after {
            Some(c) => (c.created_at_ms.to_string(), c.event.to_string()),
            None => (String::new(), String::new()),
        };
        let reply = self.eval(
            &scripts::LIST_EVENTS,
            vec![
                RedisParameter::Int64(1),
                arg(keys::EVENT_INDEX),
                arg(limit.to_string()),
                arg(millis),
                arg(event),
            ],
        )?;
        let items: Vec<String> = reply.into_iter().map(super::text).collect();
        let count = items.len();
        EventPage::parse(items).ok_or_else(|| {
            StoreError::Unavailable(anyhow!("unexpected list reply ({count} items)"))
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
    fn cursors_round_trip_and_refuse_anything_else() {
        let c = Cursor::parse("1700000000000.gala-2").unwrap();
        assert_eq!(c.created_at_ms, 1_700_000_000_000);
        assert_eq!(c.event.as_str(), "gala-2");
        assert_eq!(c.to_string(), "1700000000000.gala-2");
        for bad in [
            "",
            ".",
            "gala",
            "17.",
            ".gala",
            "-1.gala",
            "1x.gala",
            "12345678901234567.gala",
            "1.ga.la",
            "1.{gala}",
            "1.ga*",
        ] {
            assert_eq!(Cursor::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn pages_are_read_with_their_next_cursor() {
        let page = EventPage::parse(reply(&[
            "17", "b", "c", "C", "19", "1", "2", "3", "b", "B", "17", "4", "0", "0",
        ]))
        .unwrap();
        assert_eq!(page.events.len(), 2);
        assert_eq!(page.events[0].name, "C");
        assert_eq!(
            (
                page.events[0].available,
                page.events[0].held,
                page.events[0].booked
            ),
            (1, 2, 3)
        );
        assert_eq!(page.next.unwrap().to_string(), "17.b");
        let last = EventPage::parse(reply(&["", ""])).unwrap();
        assert_eq!(
            last,
            EventPage {
                events: vec![],
                next: None
            }
        );
        assert_eq!(EventPage::parse(reply(&["", "", "a", "A"])), None);
    }
}
