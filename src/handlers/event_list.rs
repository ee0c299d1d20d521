//! `GET /api/events?limit=N&cursor=C`: the events, newest first, a page at
//! a time, each with its name, seat count and live counts and links to its
//! reads and its seat map page, so a buyer can pick one. One Redis round
//! trip. Caches may keep a page for as long as the event reads
//! (`conditional::CACHE_CONTROL`): counts a second or so old are fine for
//! picking an event.

use percent_encoding::percent_decode_str;
use serde::Serialize;

use super::conditional::{uncacheable, CACHE_CONTROL};
use super::with_store;
use crate::http::response::json;
use crate::http::{Kind, Problem, Request, Response};
use crate::store::event_list::{Cursor, EventPage};
use crate::time::rfc3339;

/// The page size when the request names none.
pub const DEFAULT_LIMIT: u32 = 20;

/// The largest page: each listed event costs Redis a read of its map.
pub const MAX_LIMIT: u32 = 100;

/// What the query asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Page size, 1 to [`MAX_LIMIT`].
    pub limit: u32,
    /// Where the page starts; `None` for the newest events.
    pub cursor: Option<Cursor>,
}

/// The list as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ListView {
    events: Vec<SummaryView>,
    next: Option<String>,
}

/// One event of the list.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SummaryView {
    event_id: String,
    name: String,
    created_at: String,
    seat_count: u64,
    available: u64,
    held: u64,
    booked: u64,
    links: Links,
}

/// Where to go from an event of the list.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Links {
    event: String,
    seats: String,
    page: String,
}

/// Answers `GET /api/events`.
pub fn list(req: &Request) -> Response {
    match parse_query(req.query())
        .and_then(|q| with_store(|store| store.list_events(q.limit, q.cursor.as_ref())))
    {
        Ok(page) => {
            let mut res = json(200, &view(page));
            res.set_header("cache-control", CACHE_CONTROL);
            res
        }
        Err(problem) => uncacheable(problem),
    }
}

/// Reads `limit` and `cursor` from the query string; other parameters are
/// ignored (caches and links add their own), a repeated one is refused.
pub fn parse_query(query: &str) -> Result<ListQuery, Problem> {
    let mut limit = None;
    let mut cursor = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode_str(value).decode_utf8().ok();
        let slot = match name {
            "limit" => &mut limit,
            "cursor" => &mut cursor,
            _ => continue,
        };
        if slot.is_some() {
            return Err(Problem::new(
                Kind::InvalidQuery,
                format!("{name} is given more than once"),
            ));
        }
        *slot = Some(value.map(|v| v.into_owned()).unwrap_or_default());
    }
    let limit = match limit {
        None => DEFAULT_LIMIT,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n) && !text.starts_with('+'))
            .ok_or_else(|| {
                Problem::new(
                    Kind::InvalidLimit,
                    format!("limit must be a whole number from 1 to {MAX_LIMIT}"),
                )
            })?,
    };
    let cursor = match cursor {
        None => None,
        Some(text) => Some(Cursor::parse(&text).ok_or_else(|| {
            Problem::new(
                Kind::InvalidCursor,
                "cursor must be the `next` value of a previous page, unchanged",
            )
        })?),
    };
    Ok(ListQuery { limit, cursor })
}

fn view(page: EventPage) -> ListView {
    let events = page
        .events
        .into_iter()
        .map(|e| SummaryView {
            links: Links {
                event: format!("/api/events/{}", e.event),
                seats: format!("/api/events/{}/seats", e.event),
                page: format!("/events/{}", e.event),
            },
            created_at: rfc3339(e.created_at_ms),
            seat_count: e.available + e.held + e.booked,
            event_id: e.event,
            name: e.name,
            available: e.available,
            held: e.held,
            booked: e.booked,
        })
        .collect();
    ListView {
        events,
        next: page.next.map(|c| c.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_default_and_are_bounded() {
        assert_eq!(parse_query("").unwrap().limit, DEFAULT_LIMIT);
        assert_eq!(parse_query("limit=1").unwrap().limit, 1);
        assert_eq!(parse_query("limit=100&x=1").unwrap().limit, 100);
        for bad in [
            "limit=0",
            "limit=101",
            "limit=",
            "limit",
            "limit=-1",
            "limit=+5",
            "limit=1.5",
            "limit=ten",
            "limit=1&limit=2",
        ] {
            assert!(parse_query(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_query("limit=0").unwrap_err().kind.code(),
            "invalid_limit"
        );
    }

    #[test]
    fn cursors_are_checked() {
        let q = parse_query("cursor=1700.gala&limit=5").unwrap();
        assert_eq!(q.cursor.unwrap().to_string(), "1700.gala");
        assert_eq!(parse_query("cursor=1700%2Egala").unwrap().limit, 20);
        for bad in ["cursor=", "cursor=gala", "cursor=1.%7Bx%7D", "cursor=%FF"] {
            assert_eq!(
                parse_query(bad).unwrap_err().kind.code(),
                "invalid_cursor",
                "{bad}"
            );
        }
    }
}
