//! What the scripts answer, as types: every reply is parsed once, here,
//! into the outcome of its operation, and handlers match those exhaustively.
//!
//! A reply begins with a word (`scripts/lib/answer.lua` and each script's
//! header list them): `ok`, `replay` or `idempotency_mismatch` for the
//! scripts that store their answer, or a refusal word with its details
//! (the seats concerned). A word no variant here knows is a bug between
//! the Lua and the Rust, reported as [`StoreError::Unexpected`]; the test
//! at the end of this file reads every word each script can return and
//! fails on one its operation's type does not parse.

use anyhow::anyhow;

use super::StoreError;

/// The refusals of one operation, read from a script's word and details.
pub(crate) trait Refusal: Sized {
    /// The refusal for `word`, or `None` for a word this operation's
    /// scripts never return.
    fn parse(word: &str, details: Vec<String>) -> Option<Self>;
}

/// What a script that stores its answer (for an `Idempotency-Key`) replied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer<R> {
    /// The change happened; the answer's body.
    Done(String),
    /// The key was used before for this same request: its stored answer.
    Replay {
        /// Stored status.
        status: u16,
        /// Stored `Location`, or empty.
        location: String,
        /// Stored body.
        body: String,
    },
    /// The key was used before for a different request.
    IdempotencyMismatch,
    /// Nothing changed, for this reason.
    Refused(R),
}

impl<R: Refusal> Answer<R> {
    /// Reads a reply: its word, then what that word carries.
    pub(crate) fn parse(mut items: Vec<String>) -> Result<Answer<R>, StoreError> {
        let unexpected = |items: &[String]| StoreError::Unexpected(anyhow!("reply {items:?}"));
        if items.is_empty() {
            return Err(unexpected(&items));
        }
        let word = items.remove(0);
        match (word.as_str(), items.as_mut_slice()) {
            ("ok", [body]) => Ok(Answer::Done(std::mem::take(body))),
            ("replay", [status, location, body]) => Ok(Answer::Replay {
                status: status
                    .parse()
                    .map_err(|_| unexpected(std::slice::from_ref(&word)))?,
                location: std::mem::take(location),
                body: std::mem::take(body),
            }),
            ("idempotency_mismatch", []) => Ok(Answer::IdempotencyMismatch),
            ("ok" | "replay" | "idempotency_mismatch", _) => Err(unexpected(&items)),
            _ => R::parse(&word, items)
                .map(Answer::Refused)
                .ok_or_else(|| StoreError::Unexpected(anyhow!("refusal {word:?}"))),
        }
    }
}

/// What a script that stores no answer replied: `ok`, or a refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change<R> {
    /// The change happened.
    Done,
    /// Nothing changed, for this reason.
    Refused(R),
}

impl<R: Refusal> Change<R> {
    /// Reads a reply: `ok`, or a refusal word with its details.
    pub(crate) fn parse(mut items: Vec<String>) -> Result<Change<R>, StoreError> {
        if items.is_empty() {
            return Err(StoreError::Unexpected(anyhow!("an empty reply")));
        }
        let word = items.remove(0);
        if word == "ok" {
            return Ok(Change::Done);
        }
        R::parse(&word, items)
            .map(Change::Refused)
            .ok_or_else(|| StoreError::Unexpected(anyhow!("refusal {word:?}")))
    }
}

/// Why named seats could not be held or booked (`hold_seats.lua`,
/// `book_seats.lua`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SeatRefusal {
    /// `no_event`.
    NoEvent,
    /// `queue_required`: a waiting-room event, and no admitted ticket came.
    QueueRequired,
    /// `unknown_seats`: these are not on the event's map.
    UnknownSeats(Vec<String>),
    /// `taken`: these are held or booked.
    Taken(Vec<String>),
}

impl Refusal for SeatRefusal {
    fn parse(word: &str, details: Vec<String>) -> Option<SeatRefusal> {
        Some(match word {
            "no_event" => SeatRefusal::NoEvent,
            "queue_required" => SeatRefusal::QueueRequired,
            "unknown_seats" => SeatRefusal::UnknownSeats(details),
            "taken" => SeatRefusal::Taken(details),
            _ => return None,
        })
    }
}

/// Why a hold was refused: as for named seats, or (`hold_best.lua`) no
/// block of the size asked is free.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HoldRefusal {
    /// A refusal named seats share with bookings.
    Seats(SeatRefusal),
    /// `sold_out`.
    SoldOut,
}

impl Refusal for HoldRefusal {
    fn parse(word: &str, details: Vec<String>) -> Option<HoldRefusal> {
        match word {
            "sold_out" => Some(HoldRefusal::SoldOut),
            _ => SeatRefusal::parse(word, details).map(HoldRefusal::Seats),
        }
    }
}

/// Why the seed's one-seat commit (`book_seat_full.lua`) wrote nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SeatCommitRefusal {
    /// `lost_lock`: the lock expired and another caller has the seat.
    LostLock,
    /// `unknown_seats`: the default event has a map without this seat.
    UnknownSeat(Vec<String>),
}

impl Refusal for SeatCommitRefusal {
    fn parse(word: &str, details: Vec<String>) -> Option<SeatCommitRefusal> {
        match word {
            "lost_lock" => Some(SeatCommitRefusal::LostLock),
            "unknown_seats" => Some(SeatCommitRefusal::UnknownSeat(details)),
            _ => None,
        }
    }
}

/// Why a hold could not be confirmed (`confirm_hold.lua`) or released
/// (`release_hold.lua`, which never answers `expired` or `released`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HoldStateRefusal {
    /// `no_event`.
    NoEvent,
    /// `not_found`: no such hold (or it is over a day past its expiry).
    NotFound,
    /// `forbidden`: the token is not the hold's.
    Forbidden,
    /// `expired`: its seats were freed.
    Expired,
    /// `confirmed`: it is a booking already.
    Confirmed,
    /// `released`: its holder let it go.
    Released,
}

impl Refusal for HoldStateRefusal {
    fn parse(word: &str, _: Vec<String>) -> Option<HoldStateRefusal> {
        Some(match word {
            "no_event" => HoldStateRefusal::NoEvent,
            "not_found" => HoldStateRefusal::NotFound,
            "forbidden" => HoldStateRefusal::Forbidden,
            "expired" => HoldStateRefusal::Expired,
            "confirmed" => HoldStateRefusal::Confirmed,
            "released" => HoldStateRefusal::Released,
            _ => return None,
        })
    }
}

/// Why a booking could not be cancelled (`cancel_booking.lua`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CancelRefusal {
    /// `not_found`.
    NotFound,
    /// `forbidden`: the token is not the booking's.
    Forbidden,
}

impl Refusal for CancelRefusal {
    fn parse(word: &str, _: Vec<String>) -> Option<CancelRefusal> {
        match word {
            "not_found" => Some(CancelRefusal::NotFound),
            "forbidden" => Some(CancelRefusal::Forbidden),
            _ => None,
        }
    }
}

/// Why an event was not created (`create_event.lua`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CreateEventRefusal {
    /// `exists`: an event has that id.
    Exists,
}

impl Refusal for CreateEventRefusal {
    fn parse(word: &str, _: Vec<String>) -> Option<CreateEventRefusal> {
        (word == "exists").then_some(CreateEventRefusal::Exists)
    }
}

/// Why a waiting room could not be joined (`join_queue.lua`) or a ticket
/// read (`queue_status.lua`, the only one to answer `not_found` and
/// `forbidden`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueueRefusal {
    /// `no_event`.
    NoEvent,
    /// `no_waiting_room`: the event sells without one.
    NoWaitingRoom,
    /// `not_found`: no such ticket.
    NotFound,
    /// `forbidden`: the token is not the ticket's.
    Forbidden,
}

impl Refusal for QueueRefusal {
    fn parse(word: &str, _: Vec<String>) -> Option<QueueRefusal> {
        Some(match word {
            "no_event" => QueueRefusal::NoEvent,
            "no_waiting_room" => QueueRefusal::NoWaitingRoom,
            "not_found" => QueueRefusal::NotFound,
            "forbidden" => QueueRefusal::Forbidden,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::scripts::ALL;

    /// The words a script's text can answer with: the first item of every
    /// table it returns (`return {'word', ...}`), and its bare returns
    /// (`return 'ok'`).
    fn words(text: &str) -> Vec<String> {
        let mut found = Vec::new();
        for start in ["return {'", "return '"] {
            for (i, _) in text.match_indices(start) {
                let rest = &text[i + start.len()..];
                let Some(end) = rest.find('\'') else { continue };
                let after = &rest[end + 1..];
                // A bare string returned is a word only when it is the whole
                // reply (`return 'booking:' .. id` builds a key).
                let whole =
                    start == "return {'" || after.starts_with('\n') || after.starts_with(" end");
                if whole {
                    found.push(rest[..end].to_owned());
                }
            }
        }
        found.sort();
        found.dedup();
        found
    }

    /// Whether the reply parser of `script`'s operation knows `word`.
    fn parses(script: &str, word: &str) -> bool {
        let details = || vec!["A-1".to_owned()];
        fn answer<R: Refusal>(word: &str, items: Vec<String>) -> bool {
            let mut reply = vec![word.to_owned()];
            reply.extend(match word {
                "ok" => vec!["{}".to_owned()],
                "replay" => vec!["201".to_owned(), String::new(), "{}".to_owned()],
                _ => items,
            });
            if word == "idempotency_mismatch" {
                reply.truncate(1);
            }
            Answer::<R>::parse(reply).is_ok()
        }
        fn change<R: Refusal>(word: &str, items: Vec<String>) -> bool {
            let mut reply = vec![word.to_owned()];
            reply.extend(items);
            Change::<R>::parse(reply).is_ok()
        }
        match script {
            "hold_seats.lua" | "hold_best.lua" => answer::<HoldRefusal>(word, details()),
            "book_seats.lua" => answer::<SeatRefusal>(word, details()),
            "book_seat_full.lua" => answer::<SeatCommitRefusal>(word, details()),
            "confirm_hold.lua" => answer::<HoldStateRefusal>(word, vec![]),
            "create_event.lua" => answer::<CreateEventRefusal>(word, vec![]),
            "join_queue.lua" => answer::<QueueRefusal>(word, vec![]),
            "release_hold.lua" => change::<HoldStateRefusal>(word, vec![]),
            "cancel_booking.lua" => change::<CancelRefusal>(word, vec![]),
            "queue_status.lua" => word == "ok" || QueueRefusal::parse(word, vec![]).is_some(),
            "book_seat.lua" => super::super::seat_lock::lean_commit_word(word),
            "seat_map.lua" => matches!(word, "ok" | "not_modified" | "no_event"),
            other => panic!("{other}: no reply type; add its operation here"),
        }
    }

    #[test]
    fn every_word_a_script_returns_has_a_variant() {
        for (file, script) in ALL {
            // These two return data, not words (their replies are read in
            // event_list.rs and mod.rs's stored_answer).
            if matches!(*file, "list_events.lua" | "replay_answer.lua") {
                continue;
            }
            let found = words(&script.text());
            assert!(!found.is_empty(), "{file}: no reply words found");
            for word in found {
                assert!(
                    parses(file, &word),
                    "{file} returns {word:?}, which Rust does not know"
                );
            }
        }
    }

    #[test]
    fn an_unknown_word_is_an_error_not_a_refusal() {
        let reply = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(matches!(
            Answer::<SeatRefusal>::parse(reply(&["taken", "A-1", "A-2"])),
            Ok(Answer::Refused(SeatRefusal::Taken(seats))) if seats == ["A-1", "A-2"]
        ));
        assert!(Answer::<SeatRefusal>::parse(reply(&["sold_out"])).is_err());
        assert!(Answer::<SeatRefusal>::parse(reply(&["ok"])).is_err());
        assert!(Answer::<SeatRefusal>::parse(reply(&[])).is_err());
        assert!(Answer::<SeatRefusal>::parse(reply(&["replay", "x", "", "{}"])).is_err());
        assert_eq!(
            Change::<CancelRefusal>::parse(reply(&["ok"])).unwrap(),
            Change::Done
        );
        assert!(Change::<CancelRefusal>::parse(reply(&["expired"])).is_err());
    }
}
