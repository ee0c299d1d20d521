//! The state of one event as Redis holds it (the key layout of README.md),
//! read after the load stopped: every seat lock with its TTL, every booking
//! and hold record, the set of live bookings, the seat map's derived
//! state (sold rows and the index of live holds), and the event's waiting
//! room, if it has one (its settings, every ticket, and which holds and
//! bookings came in through it).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{bail, Context, Result};
use redis::{Connection, Value};

/// Keys read per round trip.
const BATCH: usize = 500;

/// One `lock:seat:{E}:<seat>` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatLock {
    /// The seat id.
    pub seat: String,
    /// `booked:<id>`, `hold:<id>`, or a request's lock token.
    pub value: String,
    /// Remaining TTL in ms; -1 when the key never expires.
    pub pttl_ms: i64,
    /// Redis's clock (ms) when the key was read.
    pub read_at_ms: i64,
}

/// One `booking:{E}:<id>` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    /// The booking id.
    pub id: String,
    /// The seats it sold.
    pub seats: Vec<String>,
    /// `booked` or `cancelled`.
    pub status: String,
    /// The hold it confirmed, empty for a direct booking.
    pub hold_id: String,
}

/// One `hold:{E}:<id>` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// The hold id.
    pub id: String,
    /// The seats it holds.
    pub seats: Vec<String>,
    /// `held`, `confirmed` or `released`.
    pub status: String,
    /// When the hold ends, ms since the epoch.
    pub expires_at_ms: i64,
    /// The booking a confirmed hold became, else empty.
    pub booking_id: String,
    /// Remaining TTL of the record in ms; -1 when it never expires.
    pub pttl_ms: i64,
    /// Redis's clock (ms) when the record was read.
    pub read_at_ms: i64,
}

/// One `ticket:{E}:<id>` record of a waiting room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// The ticket id.
    pub id: String,
    /// Its arrival number (1 for the first).
    pub position: u64,
    /// When it joined (ms, Redis clock).
    pub joined_at_ms: i64,
    /// When its turn came or comes (ms, Redis clock).
    pub turn_at_ms: i64,
}

/// A hold or direct booking made on a waiting room's access: the record
/// names the ticket and when the access was used (ms, Redis clock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// `hold:<id>` or `booking:<id>`.
    pub record: String,
    /// The ticket whose access made it.
    pub ticket_id: String,
    /// When it was made (ms, Redis clock).
    pub at_ms: i64,
}

/// An event's waiting room as Redis holds it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WaitingRoomState {
    /// `queueAdmitPerMinute` and `queueAccessMinutes` of the event record;
    /// `None` for an event without a waiting room.
    pub settings: Option<(u64, u64)>,
    /// The `arrivals` counter of `queue:{E}`.
    pub arrivals: u64,
    /// Every ticket.
    pub tickets: Vec<Ticket>,
    /// Holds and direct bookings that name a ticket.
    pub accesses: Vec<Access>,
    /// Holds and direct bookings that name none (made without access).
    pub without_access: Vec<String>,
}

/// Everything Redis holds for one event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventState {
    /// The event id.
    pub event: String,
    /// Seat locks: sold, held or mid-booking seats.
    pub locks: Vec<SeatLock>,
    /// Booking records, live and cancelled.
    pub bookings: Vec<Booking>,
    /// Members of `bookings:{E}`.
    pub live_bookings: BTreeSet<String>,
    /// Hold records.
    pub holds: Vec<Hold>,
    /// The seat map's sold state (`map:{E}`): row label -> one character
    /// per seat, `a` unsold, `b` sold. Empty for an event without a map.
    pub map_rows: BTreeMap<String, String>,
    /// The index of held seats (`held:{E}:<row>`): seat id -> its hold's
    /// expiry (ms, Redis clock), expired entries included.
    pub held_index: BTreeMap<String, i64>,
    /// Redis's clock (ms) when the held index was read.
    pub held_index_read_at_ms: i64,
    /// The event's waiting room (empty settings without one).
    pub waiting_room: WaitingRoomState,
}

impl EventState {
    /// Reads `event`'s keys through `conn`. Run it after the load stopped:
    /// keys are read in batches, each batch at one instant (MULTI/EXEC).
    pub fn read(conn: &mut Connection, event: &str) -> Result<EventState> {
        check_event_id(event)?;
        let tag = format!("{{{event}}}");
        let lock_prefix = format!("lock:seat:{tag}:");
        let mut locks = Vec::new();
        for batch in scan(conn, &format!("{lock_prefix}*"))?.chunks(BATCH) {
            let mut pipe = redis::pipe();
            pipe.atomic().cmd("TIME");
            for key in batch {
                pipe.cmd("GET").arg(key).cmd("PTTL").arg(key);
            }
            let (read_at_ms, replies) = timed(pipe.query(conn).context("read seat locks")?)?;
            for (key, pair) in batch.iter().zip(replies.chunks(2)) {
                let Some(value) = optional_text(&pair[0])? else {
                    continue; // expired since the scan
                };
                locks.push(SeatLock {
                    seat: key[lock_prefix.len()..].to_owned(),
                    value,
                    pttl_ms: integer(&pair[1])?,
                    read_at_ms,
                });
            }
        }

        let mut bookings = Vec::new();
        let mut accesses = Vec::new();
        let mut without_access = Vec::new();
        for (key, fields, _, _) in records(conn, &format!("booking:{tag}:*"))? {
            // A booking confirmed from a hold came in through the hold.
            if field(&fields, "holdId").is_empty() {
                note_access(&key, &fields, &mut accesses, &mut without_access)?;
            }
            bookings.push(Booking {
                id: last_segment(&key),
                seats: split(field(&fields, "seats")),
                status: field(&fields, "status").to_owned(),
                hold_id: field(&fields, "holdId").to_owned(),
            });
        }

        let mut holds = Vec::new();
        for (key, fields, pttl_ms, read_at_ms) in records(conn, &format!("hold:{tag}:*"))? {
            note_access(&key, &fields, &mut accesses, &mut without_access)?;
            let expires = field(&fields, "expiresAt");
            holds.push(Hold {
                id: last_segment(&key),
                seats: split(field(&fields, "seats")),
                status: field(&fields, "status").to_owned(),
                expires_at_ms: expires
                    .parse()
                    .with_context(|| format!("{key}: expiresAt {expires:?} is not a number"))?,
                booking_id: field(&fields, "bookingId").to_owned(),
                pttl_ms,
                read_at_ms,
            });
        }

        let live_bookings = redis::cmd("SMEMBERS")
            .arg(format!("bookings:{tag}"))
            .query(conn)
            .with_context(|| format!("read bookings:{tag}"))?;
        let map_rows: BTreeMap<String, String> = redis::cmd("HGETALL")
            .arg(format!("map:{tag}"))
            .query(conn)
            .with_context(|| format!("read map:{tag}"))?;
        let (held_index, held_index_read_at_ms) = held_index(conn, &tag, map_rows.keys())?;
        let mut waiting_room = waiting_room(conn, &tag)?;
        waiting_room.accesses = accesses;
        waiting_room.without_access = without_access;
        Ok(EventState {
            event: event.to_owned(),
            locks,
            bookings,
            live_bookings,
            holds,
            map_rows,
            held_index,
            held_index_read_at_ms,
            waiting_room,
        })
    }
}

/// The waiting room's settings, arrival counter and tickets.
fn waiting_room(conn: &mut Connection, tag: &str) -> Result<WaitingRoomState> {
    let (rate, minutes): (Option<u64>, Option<u64>) = redis::cmd("HMGET")
        .arg(format!("event:{tag}"))
        .arg("queueAdmitPerMinute")
        .arg("queueAccessMinutes")
        .query(conn)
        .with_context(|| format!("read event:{tag}"))?;
    let arrivals: Option<u64> = redis::cmd("HGET")
        .arg(format!("queue:{tag}"))
        .arg("arrivals")
        .query(conn)
        .with_context(|| format!("read queue:{tag}"))?;
    let mut tickets = Vec::new();
    for (key, fields, _, _) in records(conn, &format!("ticket:{tag}:*"))? {
        let number = |name: &str| -> Result<i64> {
            let text = field(&fields, name);
            text.parse()
                .with_context(|| format!("{key}: {name} {text:?} is not a number"))
        };
        tickets.push(Ticket {
            id: last_segment(&key),
            position: number("position")? as u64,
            joined_at_ms: number("joinedAt")?,
            turn_at_ms: number("turnAt")?,
        });
    }
    tickets.sort_by_key(|t| t.position);
    Ok(WaitingRoomState {
        settings: rate.zip(minutes),
        arrivals: arrivals.unwrap_or(0),
        tickets,
        ..WaitingRoomState::default()
    })
}

/// Files a hold or direct booking record under the access that made it, or
/// under those made without one.
fn note_access(
    key: &str,
    fields: &HashMap<String, String>,
    accesses: &mut Vec<Access>,
    without_access: &mut Vec<String>,
) -> Result<()> {
    let record = format!(
        "{}:{}",
        key.split(':').next().unwrap_or(""),
        last_segment(key)
    );
    let ticket_id = field(fields, "ticketId");
    if ticket_id.is_empty() {
        without_access.push(record);
        return Ok(());
    }
    let at = field(fields, "accessAt");
    accesses.push(Access {
        record,
        ticket_id: ticket_id.to_owned(),
        at_ms: at
            .parse()
            .with_context(|| format!("{key}: accessAt {at:?} is not a number"))?,
    });
    Ok(())
}

/// Every entry of the rows' `held:{E}:<row>` sorted sets, as seat id ->
/// score, with the time it was read (one MULTI/EXEC).
fn held_index<'a>(
    conn: &mut Connection,
    tag: &str,
    labels: impl Iterator<Item = &'a String>,
) -> Result<(BTreeMap<String, i64>, i64)> {
    let labels: Vec<&String> = labels.collect();
    let mut pipe = redis::pipe();
    pipe.atomic().cmd("TIME");
    for label in &labels {
        pipe.cmd("ZRANGE")
            .arg(format!("held:{tag}:{label}"))
            .arg(0)
            .arg(-1)
            .arg("WITHSCORES");
    }
    let (read_at_ms, replies) = timed(pipe.query(conn).context("read the held index")?)?;
    let mut index = BTreeMap::new();
    for (label, reply) in labels.iter().zip(&replies) {
        let entries: Vec<(String, f64)> =
            redis::from_redis_value(reply).with_context(|| format!("ZRANGE held:{tag}:{label}"))?;
        for (number, score) in entries {
            index.insert(format!("{label}-{number}"), score as i64);
        }
    }
    Ok((index, read_at_ms))
}

/// Event ids are what the API accepts (1 to 64 of `A-Z a-z 0-9 - _`), so
/// no glob or hash-tag character reaches a SCAN pattern.
fn check_event_id(event: &str) -> Result<()> {
    let valid = (1..=64).contains(&event.len())
        && event
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        bail!("{event:?} is not an event id (1 to 64 of A-Z a-z 0-9 - _)");
    }
    Ok(())
}

/// Every key matching `pattern`.
fn scan(conn: &mut Connection, pattern: &str) -> Result<Vec<String>> {
    let mut keys = Vec::new();
    let mut cursor = 0u64;
    loop {
        let (next, mut page): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000)
            .query(conn)
            .with_context(|| format!("SCAN {pattern}"))?;
        keys.append(&mut page);
        if next == 0 {
            keys.sort();
            keys.dedup();
            return Ok(keys);
        }
        cursor = next;
    }
}

/// Hash records matching `pattern`: key, fields, PTTL, read time.
type Record = (String, HashMap<String, String>, i64, i64);

fn records(conn: &mut Connection, pattern: &str) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    for batch in scan(conn, pattern)?.chunks(BATCH) {
        let mut pipe = redis::pipe();
        pipe.atomic().cmd("TIME");
        for key in batch {
            pipe.cmd("HGETALL").arg(key).cmd("PTTL").arg(key);
        }
        let (read_at_ms, replies) = timed(
            pipe.query(conn)
                .with_context(|| format!("read {pattern}"))?,
        )?;
        for (key, pair) in batch.iter().zip(replies.chunks(2)) {
            let fields: HashMap<String, String> =
                redis::from_redis_value(&pair[0]).with_context(|| format!("HGETALL {key}"))?;
            if !fields.is_empty() {
                out.push((key.clone(), fields, integer(&pair[1])?, read_at_ms));
            }
        }
    }
    Ok(out)
}

/// Splits an atomic pipeline's replies into the leading TIME (as ms) and the rest.
fn timed(mut replies: Vec<Value>) -> Result<(i64, Vec<Value>)> {
    if replies.is_empty() {
        bail!("an empty reply to MULTI/EXEC");
    }
    let time: Vec<i64> = redis::from_redis_value(&replies.remove(0)).context("TIME")?;
    let [seconds, micros] = time[..] else {
        bail!("TIME answered {time:?}");
    };
    Ok((seconds * 1000 + micros / 1000, replies))
}

fn optional_text(value: &Value) -> Result<Option<String>> {
    redis::from_redis_value(value).context("a string reply")
}

fn integer(value: &Value) -> Result<i64> {
    redis::from_redis_value(value).context("an integer reply")
}

fn field<'a>(fields: &'a HashMap<String, String>, name: &str) -> &'a str {
    fields.get(name).map(String::as_str).unwrap_or("")
}

fn split(list: &str) -> Vec<String> {
    list.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The id at the end of `booking:{E}:<id>` or `hold:{E}:<id>`.
fn last_segment(key: &str) -> String {
    key.rsplit(':').next().unwrap_or(key).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_checked_before_they_reach_a_pattern() {
        assert!(check_event_id("lt-abc_1").is_ok());
        for bad in ["", "a*", "a{b}", "a:b", "a?", &"x".repeat(65)] {
            assert!(check_event_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn splits_seat_lists_and_keys() {
        assert_eq!(split("A-1,A-2"), ["A-1", "A-2"]);
        assert!(split("").is_empty());
        assert_eq!(last_segment("booking:{gala}:0b1d"), "0b1d");
    }

    #[test]
    fn reads_the_time_of_an_atomic_batch() {
        let time = Value::Array(vec![
            Value::BulkString(b"1700000000".to_vec()),
            Value::BulkString(b"123456".to_vec()),
        ]);
        let (ms, rest) = timed(vec![time, Value::Int(5)]).unwrap();
        assert_eq!(ms, 1_700_000_000_123);
        assert_eq!(rest, [Value::Int(5)]);
        assert!(timed(vec![]).is_err());
    }
}
