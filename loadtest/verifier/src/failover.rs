//! The failover run's checks (`scripts/load-test.sh --failover`,
//! docs/design.md invariant 6): what the clients were told, recorded by
//! `loadtest/failover.js`, held by id against the new primary.
//!
//! - every booking answered 201 and not cancelled is stored with status
//!   `booked`, and each of its seats' lock says `booked:<id>`; one that
//!   isn't is an acknowledged booking **lost**;
//! - every cancellation answered 204 is stored as `cancelled`;
//! - no seat is **sold twice**: among the live bookings Redis stores and
//!   the acknowledged bookings not cancelled, each seat has one owner (a
//!   lost booking whose seat was sold again counts here too);
//! - every answer came within 2 s, with 201, 204, 409 or 503 (200 for a
//!   read), and no request was still 503 when its buyer gave up;
//! - the **writes-unavailable window**: from the last 201 before the first
//!   503 to the first 201 after the last 503.
//!
//! Pure: the files are parsed from text and the states are read by the
//! caller, so every rule is unit-tested here.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::state::EventState;

/// The longest an answer may take (docs/design.md invariant 6).
pub const ANSWER_LIMIT_MS: i64 = 2_000;
/// Problems listed per kind before "… and N more".
const SHOWN: usize = 8;

/// A booking answered 201.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledged {
    /// Its event.
    pub event: String,
    /// Its id.
    pub booking_id: String,
    /// The seats the answer named.
    pub seats: Vec<String>,
}

/// What the clients were told about bookings (`failover-acknowledged.jsonl`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ledger {
    /// Bookings answered 201, in the order recorded.
    pub booked: Vec<Acknowledged>,
    /// (event, booking id) of cancellations answered 204.
    pub cancelled: BTreeSet<(String, String)>,
    /// (event, booking id) of cancellations sent (answered or not).
    pub cancelling: BTreeSet<(String, String)>,
}

impl Ledger {
    /// Parses the JSON lines the processor wrote: `{"kind":"booked",
    /// "event","bookingId","seats"}`, `{"kind":"cancelled"|"cancelling",
    /// "event","bookingId"}`.
    pub fn parse(text: &str) -> Result<Ledger> {
        let mut ledger = Ledger::default();
        for (n, line) in lines(text) {
            let entry: Value = serde_json::from_str(line).with_context(|| format!("line {n}"))?;
            let text_field = |name: &str| -> Result<String> {
                entry
                    .get(name)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .with_context(|| format!("line {n}: no {name:?} string"))
            };
            let key = (text_field("event")?, text_field("bookingId")?);
            match text_field("kind")?.as_str() {
                "booked" => {
                    let seats = entry
                        .get("seats")
                        .and_then(Value::as_array)
                        .with_context(|| format!("line {n}: no seats list"))?
                        .iter()
                        .map(|s| s.as_str().map(str::to_owned))
                        .collect::<Option<Vec<String>>>()
                        .with_context(|| format!("line {n}: a seat that is not a string"))?;
                    ledger.booked.push(Acknowledged {
                        event: key.0,
                        booking_id: key.1,
                        seats,
                    });
                }
                "cancelled" => {
                    ledger.cancelled.insert(key);
                }
                "cancelling" => {
                    ledger.cancelling.insert(key);
                }
                other => bail!("line {n}: unknown kind {other:?}"),
            }
        }
        Ok(ledger)
    }

    /// The events the acknowledged bookings belong to.
    pub fn events(&self) -> BTreeSet<String> {
        self.booked.iter().map(|b| b.event.clone()).collect()
    }
}

/// One answer a client got (`failover-writes.jsonl`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// When the request was sent, ms since the epoch.
    pub sent_ms: i64,
    /// How long the answer took, ms.
    pub took_ms: i64,
    /// Its HTTP status.
    pub status: u16,
    /// The request's name.
    pub name: String,
    /// False for a read (GET).
    pub write: bool,
}

/// Every answer of the run, and the requests given up on while still 503.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Writes {
    /// Every answer, in the order recorded.
    pub answers: Vec<Answer>,
    /// Names of requests the buyer gave up on (still 503 at the retry cap).
    pub gave_up: Vec<String>,
}

impl Writes {
    /// Parses `{"t","took","status","name","write"}` lines and
    /// `{"gaveUp":true,"name"}` lines.
    pub fn parse(text: &str) -> Result<Writes> {
        let mut writes = Writes::default();
        for (n, line) in lines(text) {
            let entry: Value = serde_json::from_str(line).with_context(|| format!("line {n}"))?;
            let name = entry
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned();
            if entry.get("gaveUp").and_then(Value::as_bool) == Some(true) {
                writes.gave_up.push(name);
                continue;
            }
            let int = |field: &str| -> Result<i64> {
                entry
                    .get(field)
                    .and_then(Value::as_i64)
                    .with_context(|| format!("line {n}: no {field:?} integer"))
            };
            writes.answers.push(Answer {
                sent_ms: int("t")?,
                took_ms: int("took")?,
                status: u16::try_from(int("status")?)
                    .with_context(|| format!("line {n}: status out of range"))?,
                name,
                write: entry.get("write").and_then(Value::as_bool).unwrap_or(true),
            });
        }
        Ok(writes)
    }

    /// When the run's first request was sent (ms since the epoch).
    pub fn started_ms(&self) -> i64 {
        self.answers.iter().map(|a| a.sent_ms).min().unwrap_or(0)
    }

    /// When the run's last answer came (ms since the epoch).
    pub fn ended_ms(&self) -> i64 {
        self.answers
            .iter()
            .map(|a| a.sent_ms + a.took_ms)
            .max()
            .unwrap_or(0)
    }

    /// The writes-unavailable window (see [`Window`]); `None` without 503s.
    pub fn window(&self) -> Option<Window> {
        let writes = || self.answers.iter().filter(|a| a.write);
        let unavailable = || writes().filter(|a| a.status == 503).map(|a| a.sent_ms);
        let first_503 = unavailable().min()?;
        let last_503 = unavailable().max()?;
        let created = || writes().filter(|a| a.status == 201);
        let before = created()
            .map(|a| a.sent_ms)
            .filter(|&t| t < first_503)
            .max();
        let after = created()
            .map(|a| a.sent_ms + a.took_ms)
            .filter(|&t| t > last_503)
            .min();
        Some(Window {
            from_ms: before.unwrap_or(first_503),
            to_ms: after,
            first_503_ms: first_503,
            last_503_ms: last_503,
            answers_503: unavailable().count(),
        })
    }
}

/// When writes were unavailable: from the last 201 sent before the first
/// 503 to the first 201 answered after the last 503.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The last 201 sent before the first 503 (the first 503 if none).
    pub from_ms: i64,
    /// The first 201 answered after the last 503; `None` if writes never came back.
    pub to_ms: Option<i64>,
    /// When the first 503 was sent.
    pub first_503_ms: i64,
    /// When the last 503 was sent.
    pub last_503_ms: i64,
    /// How many answers were 503.
    pub answers_503: usize,
}

impl Window {
    /// Its length in seconds (`None` when writes never came back).
    pub fn seconds(&self) -> Option<f64> {
        self.to_ms.map(|to| (to - self.from_ms) as f64 / 1000.0)
    }
}

/// An acknowledged booking or cancellation the new primary does not show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lost {
    /// Its event.
    pub event: String,
    /// Its booking id.
    pub booking_id: String,
    /// What the new primary shows instead.
    pub detail: String,
}

/// A seat with more than one owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoldTwice {
    /// Its event.
    pub event: String,
    /// The seat.
    pub seat: String,
    /// The bookings that own it (stored live ones and acknowledged ones).
    pub owners: Vec<String>,
}

/// The verdict of the failover checks.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// Acknowledged bookings, not cancelled, that are not stored as sold.
    pub lost: Vec<Lost>,
    /// Cancellations answered 204 that the new primary does not show.
    pub cancellations_lost: Vec<Lost>,
    /// Seats sold to more than one booking.
    pub sold_twice: Vec<SoldTwice>,
    /// Stored bookings no 201 announced (allowed; see [`crate::invariants::Counting::AtLeast`]).
    pub unacknowledged_stored: usize,
    /// Answers that took 2 s or more.
    pub slow: Vec<Answer>,
    /// Answers with a status a failover run must never give (a 500 above all).
    pub unexpected: Vec<Answer>,
    /// Requests given up on while still 503.
    pub gave_up: usize,
    /// The writes-unavailable window, if there were 503s.
    pub window: Option<Window>,
}

impl Outcome {
    /// True when nothing was lost or sold twice, every answer was on time
    /// and expected, and writes came back.
    pub fn passed(&self) -> bool {
        self.lost.is_empty()
            && self.cancellations_lost.is_empty()
            && self.sold_twice.is_empty()
            && self.slow.is_empty()
            && self.unexpected.is_empty()
            && self.gave_up == 0
            && self.window.is_none_or(|w| w.to_ms.is_some())
    }
}

/// Holds the ledger and the answers against the states of the run's events
/// read from the new primary.
pub fn check(ledger: &Ledger, writes: &Writes, states: &[EventState]) -> Outcome {
    let by_event: BTreeMap<&str, &EventState> =
        states.iter().map(|s| (s.event.as_str(), s)).collect();
    let mut outcome = Outcome::default();
    let mut owners: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
    let mut acknowledged: BTreeSet<(&str, &str)> = BTreeSet::new();

    for booking in &ledger.booked {
        let key = (booking.event.clone(), booking.booking_id.clone());
        acknowledged.insert((&booking.event, &booking.booking_id));
        let state = by_event.get(booking.event.as_str());
        let stored = state.and_then(|s| s.bookings.iter().find(|b| b.id == booking.booking_id));
        let lost = |detail: String| Lost {
            event: booking.event.clone(),
            booking_id: booking.booking_id.clone(),
            detail,
        };
        if ledger.cancelled.contains(&key) {
            match stored.map(|b| b.status.as_str()) {
                Some("cancelled") => {}
                Some(status) => outcome
                    .cancellations_lost
                    .push(lost(format!("cancelled (204) but stored as {status}"))),
                None => outcome
                    .cancellations_lost
                    .push(lost("cancelled (204) but not stored at all".into())),
            }
            continue;
        }
        let cancelling = ledger.cancelling.contains(&key);
        if !cancelling {
            // The buyer holds a confirmation for these seats.
            for seat in &booking.seats {
                owners
                    .entry((&booking.event, seat))
                    .or_default()
                    .insert(&booking.booking_id);
            }
        }
        let Some(stored) = stored else {
            outcome.lost.push(lost("not stored".into()));
            continue;
        };
        if cancelling {
            continue; // its cancellation may or may not have happened
        }
        if stored.status != "booked" {
            outcome
                .lost
                .push(lost(format!("stored as {}", stored.status)));
            continue;
        }
        let marker = format!("booked:{}", booking.booking_id);
        let wrong: Vec<String> = booking
            .seats
            .iter()
            .filter_map(|seat| {
                let value = state?
                    .locks
                    .iter()
                    .find(|l| &l.seat == seat)
                    .map_or("nothing", |l| l.value.as_str());
                (value != marker).then(|| format!("seat {seat} holds {value}"))
            })
            .collect();
        if !wrong.is_empty() {
            outcome.lost.push(lost(wrong.join(", ")));
        }
    }

    for state in states {
        for booking in &state.bookings {
            if !acknowledged.contains(&(state.event.as_str(), booking.id.as_str())) {
                outcome.unacknowledged_stored += 1;
            }
            if booking.status != "booked" {
                continue;
            }
            for seat in &booking.seats {
                owners
                    .entry((&state.event, seat))
                    .or_default()
                    .insert(&booking.id);
            }
        }
    }
    for ((event, seat), ids) in owners {
        if ids.len() > 1 {
            outcome.sold_twice.push(SoldTwice {
                event: event.to_owned(),
                seat: seat.to_owned(),
                owners: ids.into_iter().map(str::to_owned).collect(),
            });
        }
    }

    for answer in &writes.answers {
        if answer.took_ms >= ANSWER_LIMIT_MS {
            outcome.slow.push(answer.clone());
        }
        let expected = if answer.write {
            matches!(answer.status, 201 | 204 | 409 | 503)
        } else {
            matches!(answer.status, 200 | 503)
        };
        if !expected {
            outcome.unexpected.push(answer.clone());
        }
    }
    outcome.gave_up = writes.gave_up.len();
    outcome.window = writes.window();
    outcome
}

/// The failover section of the summary, ending with the three closing
/// lines: `acknowledged bookings lost: N`, `seats sold twice: N`,
/// `writes unavailable: X s`.
pub fn render(ledger: &Ledger, writes: &Writes, outcome: &Outcome) -> String {
    let mut out = String::new();
    let start = writes.started_ms();
    let at = |ms: i64| format!("+{:.2} s", (ms - start) as f64 / 1000.0);
    let _ = writeln!(
        out,
        "\nfailover (what the clients were told, held by id against the new primary):"
    );
    let seats: usize = ledger.booked.iter().map(|b| b.seats.len()).sum();
    let _ = writeln!(
        out,
        "  acknowledged: {} bookings ({seats} seats) in {} events, {} cancellations answered 204, {} sent but unanswered",
        ledger.booked.len(),
        ledger.events().len(),
        ledger.cancelled.len(),
        ledger.cancelling.difference(&ledger.cancelled).count()
    );
    let mut codes: BTreeMap<u16, usize> = BTreeMap::new();
    for a in &writes.answers {
        *codes.entry(a.status).or_default() += 1;
    }
    let codes: Vec<String> = codes.iter().map(|(c, n)| format!("{c} x{n}")).collect();
    let slowest = writes.answers.iter().map(|a| a.took_ms).max().unwrap_or(0);
    let _ = writeln!(
        out,
        "  answers: {} ({}), slowest {slowest} ms, {} took 2 s or more, {} unexpected, {} requests given up while 503",
        writes.answers.len(),
        codes.join(", "),
        outcome.slow.len(),
        outcome.unexpected.len(),
        outcome.gave_up
    );
    match outcome.window {
        None => {
            let _ = writeln!(out, "  no answer was 503: writes never became unavailable");
        }
        Some(w) => {
            let to = w
                .to_ms
                .map_or("never (writes did not come back)".to_owned(), at);
            let _ = writeln!(
                out,
                "  503 answers: {} sent from {} to {}; last 201 sent before them {}, first 201 answered after them {to}",
                w.answers_503,
                at(w.first_503_ms),
                at(w.last_503_ms),
                at(w.from_ms)
            );
        }
    }
    let _ = writeln!(
        out,
        "  stored bookings no 201 announced: {} (allowed here: a change answered 503 may still have been \
         replicated and survive the failover, so \"201s = stored\" becomes \"every 201 is stored\")",
        outcome.unacknowledged_stored
    );
    let problems = outcome
        .lost
        .iter()
        .map(|l| format!("lost: {} booking {}: {}", l.event, l.booking_id, l.detail))
        .chain(outcome.cancellations_lost.iter().map(|l| {
            format!(
                "cancellation lost: {} booking {}: {}",
                l.event, l.booking_id, l.detail
            )
        }))
        .chain(outcome.sold_twice.iter().map(|s| {
            format!(
                "sold twice: {} seat {} to {}",
                s.event,
                s.seat,
                s.owners.join(", ")
            )
        }))
        .chain(outcome.slow.iter().map(|a| {
            format!(
                "slow: {} answered {} after {} ms (sent {})",
                a.name,
                a.status,
                a.took_ms,
                at(a.sent_ms)
            )
        }))
        .chain(outcome.unexpected.iter().map(|a| {
            format!(
                "unexpected: {} answered {} (sent {})",
                a.name,
                a.status,
                at(a.sent_ms)
            )
        }))
        .chain(
            writes
                .gave_up
                .iter()
                .map(|name| format!("given up: {name} still 503 at the retry cap")),
        );
    let problems: Vec<String> = problems.collect();
    for line in problems.iter().take(SHOWN) {
        let _ = writeln!(out, "  FAIL {line}");
    }
    if problems.len() > SHOWN {
        let _ = writeln!(out, "  … and {} more", problems.len() - SHOWN);
    }
    let verdict = if outcome.passed() { "PASS" } else { "FAIL" };
    let _ = writeln!(out, "failover verdict: {verdict}");
    let _ = writeln!(out, "acknowledged bookings lost: {}", outcome.lost.len());
    let _ = writeln!(out, "seats sold twice: {}", outcome.sold_twice.len());
    let window = match outcome.window {
        None => "0.00".to_owned(),
        Some(w) => match w.seconds() {
            Some(s) => format!("{s:.2}"),
            // Writes never came back: at least until the last answer.
            None => format!(">{:.2}", (writes.ended_ms() - w.from_ms) as f64 / 1000.0),
        },
    };
    let _ = writeln!(out, "writes unavailable: {window} s");
    out
}

/// Non-empty lines with their 1-based numbers.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty())
}

#[cfg(test)]
mod tests;
