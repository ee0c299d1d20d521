//! The Lua scripts, loaded at build time. Each event script is its own file
//! whose first line names the pieces it uses (`-- pieces: event lock_key
//! ...`, files of `scripts/lib/`, in that order); the script sent to Redis
//! is those pieces followed by the file, so each call runs only the
//! definitions its operation needs. A test checks that every script here is
//! built from exactly the pieces its first line names and that every
//! definition it carries is used.
//!
//! Each script is a [`Script`]: its text and its SHA-1, both made at compile
//! time, so the component runs it with `EVALSHA` and sends the text only
//! when Redis has lost its script cache (see `store/eval.rs`).
//!
//! The files are commented for readers; Redis need not read the comments.
//! Comment-only lines, blank lines and indentation are dropped at compile
//! time ([`strip`]: `book_seat` goes from 6.8 KB to 3.5 KB), which keeps
//! the component's binary and the `EVAL` fallback small: that `EVAL` sends
//! the whole text, and Redis hashes and compiles all of it.

use crate::store::sha1;

/// A Lua script as the component runs it: its text and the SHA-1 Redis
/// names it by (`EVALSHA`). Only [`script!`] makes one, from the text at
/// compile time, so the two can never disagree and no request hashes
/// anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Script {
    text: &'static str,
    sha1: &'static str,
}

impl Script {
    /// The text, for `EVAL` when Redis does not have the script cached.
    pub fn text(&self) -> &'static str {
        self.text
    }

    /// The SHA-1 of the text in 40 lowercase hex digits, for `EVALSHA`.
    pub fn sha1(&self) -> &'static str {
        self.sha1
    }
}

/// `script!(text)`: the [`Script`] of the `&'static str` constant
/// expression `text`, its SHA-1 computed at compile time.
macro_rules! script {
    ($text:expr) => {{
        const TEXT: &str = $text;
        const SHA1: [u8; 40] = sha1::hex_digest(TEXT.as_bytes());
        Script {
            text: TEXT,
            sha1: match std::str::from_utf8(&SHA1) {
                Ok(hex) => hex,
                Err(_) => panic!("a SHA-1 hex digest is not UTF-8"),
            },
        }
    }};
}

/// `event_script!("file.lua": "piece" ...)`: the pieces from `scripts/lib/`,
/// then the script, as one [`Script`] made at compile time, stripped of
/// comments.
macro_rules! event_script {
    ($file:literal: $($piece:literal)*) => {
        script!(lean!(concat!(
            $(include_str!(concat!("scripts/lib/", $piece, ".lua")),)*
            include_str!(concat!("scripts/", $file))
        )))
    };
}

/// `lean!(source)`: `source` as [`strip`] leaves it, a `&'static str` built
/// at compile time.
macro_rules! lean {
    ($source:expr) => {{
        const SOURCE: &str = $source;
        const LEAN: [u8; strip(SOURCE.as_bytes(), &mut [])] = {
            let mut out = [0u8; strip(SOURCE.as_bytes(), &mut [])];
            strip(SOURCE.as_bytes(), &mut out);
            out
        };
        match std::str::from_utf8(&LEAN) {
            Ok(text) => text,
            Err(_) => panic!("a Lua script is not UTF-8"),
        }
    }};
}

/// Copies the Lua `source` into `out` without its comment-only lines, blank
/// lines and indentation, and returns the length of the result (with an
/// `out` too short, or empty, it only counts). Comments that follow code on
/// a line are kept: cutting them would need a Lua lexer (`--` may sit in a
/// string). The scripts use no long strings (`[[ ... ]]`), in which a line
/// starting with `--` would be text; a test checks that.
pub const fn strip(source: &[u8], out: &mut [u8]) -> usize {
    let (mut line, mut len) = (0, 0);
    while line < source.len() {
        let mut end = line;
        while end < source.len() && source[end] != b'\n' {
            end += 1;
        }
        let mut start = line;
        while start < end && (source[start] == b' ' || source[start] == b'\t') {
            start += 1;
        }
        let comment = end - start >= 2 && source[start] == b'-' && source[start + 1] == b'-';
        if start < end && !comment {
            while start <= end {
                if len < out.len() {
                    out[len] = if start == end { b'\n' } else { source[start] };
                }
                len += 1;
                start += 1;
            }
        }
        line = end + 1;
    }
    len
}

/// Commits `POST /api/book/{seatId}` after its `SET NX` lock, for a request
/// without an Idempotency-Key.
pub const BOOK_SEAT: Script = event_script!("book_seat.lua": "event");
/// Commits it with an Idempotency-Key, or when the default event has a map.
pub const BOOK_SEAT_FULL: Script = event_script!("book_seat_full.lua":
    "event" "version_key" "lock_key" "booking_keys" "map_key" "seat_parts" "unknown_seats"
    "mark_seats" "answer" "create_booking");
/// Creates an event.
pub const CREATE_EVENT: Script =
    event_script!("create_event.lua": "event" "version_key" "map_key" "answer");
/// Holds named seats.
pub const HOLD_SEATS: Script = event_script!("hold_seats.lua":
    "event" "version_key" "lock_key" "hold_key" "map_key" "held_key" "now" "seat_parts" "unknown_seats"
    "taken_seats" "answer" "split" "create_hold" "queue_access");
/// Holds the best available seats.
pub const HOLD_BEST: Script = event_script!("hold_best.lua":
    "event" "version_key" "lock_key" "hold_key" "map_key" "held_key" "now" "load_rows" "seat_parts" "answer"
    "create_hold" "best_block" "queue_access");
/// Turns a hold into a booking.
pub const CONFIRM_HOLD: Script = event_script!("confirm_hold.lua":
    "event" "version_key" "lock_key" "hold_key" "booking_keys" "map_key" "held_key" "timestamp"
    "seat_parts" "answer" "split" "mark_seats" "unindex_holds" "create_booking");
/// Books named seats directly.
pub const BOOK_SEATS: Script = event_script!("book_seats.lua":
    "event" "version_key" "lock_key" "booking_keys" "map_key" "now" "timestamp" "seat_parts"
    "unknown_seats" "taken_seats" "answer" "split" "mark_seats" "create_booking" "queue_access");
/// Releases a hold.
pub const RELEASE_HOLD: Script = event_script!("release_hold.lua":
    "event" "version_key" "lock_key" "hold_key" "held_key" "seat_parts" "split" "free_locks"
    "unindex_holds");
/// Cancels a booking.
pub const CANCEL_BOOKING: Script = event_script!("cancel_booking.lua":
    "event" "version_key" "lock_key" "booking_keys" "map_key" "timestamp" "seat_parts" "split"
    "mark_seats" "free_locks");
/// Reads the whole seat map.
pub const SEAT_MAP: Script =
    event_script!("seat_map.lua": "event" "version_key" "map_key" "held_key" "now");
/// Joins an event's waiting room.
pub const JOIN_QUEUE: Script = event_script!("join_queue.lua": "event" "answer" "now" "ticket_key");
/// Reads a waiting-room ticket's place and turn.
pub const QUEUE_STATUS: Script = event_script!("queue_status.lua": "event" "now" "ticket_key");
/// Lists events newest first with their counts (no pieces: it reads the
/// index and several events, not one event's keys).
pub const LIST_EVENTS: Script = script!(lean!(include_str!("scripts/list_events.lua")));
/// Reads a one-seat booking's stored answer, marking it replayed (no
/// pieces: it touches one key).
pub const REPLAY_ANSWER: Script = script!(lean!(include_str!("scripts/replay_answer.lua")));

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const EVENT_SCRIPTS: &[(&str, Script)] = &[
        ("book_seat.lua", BOOK_SEAT),
        ("book_seat_full.lua", BOOK_SEAT_FULL),
        ("create_event.lua", CREATE_EVENT),
        ("hold_seats.lua", HOLD_SEATS),
        ("hold_best.lua", HOLD_BEST),
        ("confirm_hold.lua", CONFIRM_HOLD),
        ("book_seats.lua", BOOK_SEATS),
        ("release_hold.lua", RELEASE_HOLD),
        ("cancel_booking.lua", CANCEL_BOOKING),
        ("seat_map.lua", SEAT_MAP),
        ("join_queue.lua", JOIN_QUEUE),
        ("queue_status.lua", QUEUE_STATUS),
    ];

    /// Every script the component runs, with its file.
    fn all_scripts() -> impl Iterator<Item = (&'static str, Script)> {
        EVENT_SCRIPTS.iter().copied().chain([
            ("list_events.lua", LIST_EVENTS),
            ("replay_answer.lua", REPLAY_ANSWER),
        ])
    }

    /// The compile-time SHA-1 is the one an independent implementation
    /// (the `sha1` crate) computes from the text at run time.
    #[test]
    fn every_script_carries_the_sha1_of_its_text() {
        use ::sha1::{Digest, Sha1};
        for (file, script) in all_scripts() {
            let digest = Sha1::digest(script.text().as_bytes());
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(script.sha1(), hex, "{file}");
        }
    }

    /// Every script file is one of [`all_scripts`], so the test above
    /// covers them all.
    #[test]
    fn every_script_file_is_listed() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/scripts");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".lua"))
            .collect();
        files.sort();
        let mut listed: Vec<String> = all_scripts().map(|(f, _)| f.to_owned()).collect();
        listed.sort();
        assert_eq!(files, listed);
    }

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// What a script's first line says it is made of, assembled from the files.
    fn assembled(file: &str) -> (String, Vec<String>) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/scripts");
        let script = read(&dir.join(file));
        let pieces: Vec<String> = script
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("-- pieces:"))
            .unwrap_or_else(|| panic!("{file} does not start with `-- pieces:`"))
            .split_whitespace()
            .map(|p| read(&dir.join("lib").join(format!("{p}.lua"))))
            .collect();
        (pieces.concat() + script.as_str(), pieces)
    }

    /// `source` as the scripts are sent: through [`strip`].
    fn lean(source: &str) -> String {
        let mut out = vec![0; strip(source.as_bytes(), &mut [])];
        strip(source.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn each_script_is_built_from_the_pieces_its_first_line_names() {
        for (file, text) in EVENT_SCRIPTS {
            assert_eq!(
                lean(&assembled(file).0),
                text.text(),
                "{file}: the macro and its first line differ"
            );
        }
    }

    #[test]
    fn stripping_drops_comment_lines_blank_lines_and_indentation_only() {
        let source =
            "-- pieces: a\nlocal x = 1 -- kept\n\n  --[ no\n\tif x then\n    return '--'\n  end";
        assert_eq!(
            lean(source),
            "local x = 1 -- kept\nif x then\nreturn '--'\nend\n"
        );
        assert_eq!(lean(""), "");
        assert_eq!(lean("-- only a comment\n"), "");
    }

    /// A long string or long comment (`[[`, `[=[`) could hold lines that
    /// start with `--` as text, which [`strip`] would cut.
    #[test]
    fn no_script_uses_long_strings() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/scripts");
        let files = std::fs::read_dir(&dir)
            .unwrap()
            .chain(std::fs::read_dir(dir.join("lib")).unwrap())
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "lua"));
        for path in files {
            for line in read(&path).lines() {
                let code = line.trim_start();
                if code.starts_with("--") && !code.starts_with("--[") {
                    continue;
                }
                assert!(
                    !code.contains("[[") && !code.contains("[=") && !code.contains("]]"),
                    "{}: long string or comment in {line:?}",
                    path.display()
                );
            }
        }
    }

    #[test]
    fn the_scripts_sent_carry_no_comment_lines() {
        for (file, script) in all_scripts() {
            assert!(
                !script
                    .text()
                    .lines()
                    .any(|l| l.trim_start().starts_with("--") || l.trim().is_empty()),
                "{file} still carries comment or blank lines"
            );
        }
    }

    /// No unused prelude: every name a piece defines is used elsewhere in
    /// the script it is part of.
    #[test]
    fn every_definition_a_script_carries_is_used() {
        for (file, script) in EVENT_SCRIPTS {
            let text = script.text();
            for piece in assembled(file).1 {
                for line in piece.lines() {
                    let Some(rest) = line
                        .strip_prefix("local function ")
                        .or_else(|| line.strip_prefix("local "))
                    else {
                        continue;
                    };
                    let names = rest.split(['(', '=']).next().unwrap_or_default();
                    for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                        let uses = text
                            .match_indices(name)
                            .filter(|(i, _)| {
                                let before = text[..*i].chars().last();
                                let after = text[i + name.len()..].chars().next();
                                let ident = |c: Option<char>| {
                                    c.is_some_and(|c| c.is_alphanumeric() || c == '_')
                                };
                                !ident(before) && !ident(after)
                            })
                            .count();
                        assert!(uses > 1, "{file}: {name} is defined but never used");
                    }
                }
            }
        }
    }
}
