//! Ids from the client: the pieces of input that become parts of Redis keys.
//!
//! Event and seat ids are 1 to 64 characters from `A-Z a-z 0-9 - _`, after
//! percent-decoding; row labels are 1 to 16 characters from `A-Z a-z 0-9 _`
//! (no `-`, which separates a row from a seat number in `A-12`). Hold and
//! booking ids are UUIDs. Anything else (glob characters, hash-tag braces,
//! spaces, slashes, non-UTF-8 escapes) is refused before it can touch a key.

use std::borrow::Cow;
use std::fmt;

use percent_encoding::percent_decode_str;
use uuid::Uuid;

/// The longest event or seat id accepted, in bytes.
pub const MAX_ID_LEN: usize = 64;

/// The longest row label accepted, in bytes.
pub const MAX_ROW_LABEL_LEN: usize = 16;

/// Why an id was refused; the text is shown to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidId {
    /// No characters at all.
    Empty,
    /// Longer than allowed.
    TooLong(usize),
    /// A `%` escape that is malformed or decodes to something other than UTF-8.
    BadEscape,
    /// A character outside the allowed set.
    BadCharacter(&'static str),
}

impl fmt::Display for InvalidId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidId::Empty => write!(f, "it is empty"),
            InvalidId::TooLong(max) => write!(f, "it is longer than {max} characters"),
            InvalidId::BadEscape => write!(f, "it has a malformed or non-UTF-8 percent-escape"),
            InvalidId::BadCharacter(allowed) => write!(f, "it may only contain {allowed}"),
        }
    }
}

const ID_CHARS: &str = "the letters A-Z and a-z, digits, '-' and '_'";
const LABEL_CHARS: &str = "the letters A-Z and a-z, digits and '_'";

fn check(text: &str, max: usize, allow_dash: bool) -> Result<(), InvalidId> {
    if text.is_empty() {
        return Err(InvalidId::Empty);
    }
    if text.len() > max {
        return Err(InvalidId::TooLong(max));
    }
    let ok = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || (allow_dash && b == b'-');
    if !text.bytes().all(ok) {
        let allowed = if allow_dash { ID_CHARS } else { LABEL_CHARS };
        return Err(InvalidId::BadCharacter(allowed));
    }
    Ok(())
}

macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Parses a raw, still percent-encoded path segment.
            pub fn from_path(raw: &str) -> Result<$name, InvalidId> {
                $name::new(&percent_decode(raw)?)
            }

            /// Checks an id that arrived decoded (in a JSON body).
            pub fn new(text: &str) -> Result<$name, InvalidId> {
                check(text, MAX_ID_LEN, true)?;
                Ok($name(text.to_owned()))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_id!(
    /// A validated seat id, safe to embed in a Redis key.
    SeatId
);
text_id!(
    /// A validated event id, safe to embed in a Redis key (as its hash tag).
    EventId
);

/// Checks a row label of a seat map.
pub fn check_row_label(label: &str) -> Result<(), InvalidId> {
    check(label, MAX_ROW_LABEL_LEN, false)
}

/// Parses a hold or booking id: a UUID, returned in its canonical form so
/// that one resource has one key. `None` for anything else.
pub fn parse_uuid(raw: &str) -> Option<String> {
    Uuid::parse_str(raw)
        .ok()
        .map(|u| u.hyphenated().to_string())
        .filter(|canonical| canonical == raw)
}

/// Decodes `%XX` escapes; the result must be UTF-8. `percent_decode_str`
/// passes a malformed escape through as text, so every `%` is first checked
/// to start one: a broken escape is refused as such.
fn percent_decode(raw: &str) -> Result<String, InvalidId> {
    let well_formed = raw
        .split('%')
        .skip(1)
        .all(|after| after.len() >= 2 && after.as_bytes()[..2].iter().all(u8::is_ascii_hexdigit));
    if !well_formed {
        return Err(InvalidId::BadEscape);
    }
    percent_decode_str(raw)
        .decode_utf8()
        .map(Cow::into_owned)
        .map_err(|_| InvalidId::BadEscape)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_ids() {
        for id in ["1", "A-12", "row_7-seat_3", &"x".repeat(MAX_ID_LEN)] {
            assert_eq!(SeatId::from_path(id).unwrap().as_str(), id);
            assert_eq!(EventId::new(id).unwrap().as_str(), id);
        }
    }

    #[test]
    fn decodes_escapes_before_checking() {
        assert_eq!(SeatId::from_path("A%2D1").unwrap().as_str(), "A-1");
        assert_eq!(SeatId::from_path("%41%2d%31").unwrap().as_str(), "A-1");
        assert_eq!(SeatId::from_path("%5F").unwrap().as_str(), "_");
        assert_eq!(
            EventId::from_path(&"%41".repeat(MAX_ID_LEN))
                .unwrap()
                .as_str(),
            "A".repeat(MAX_ID_LEN)
        );
        assert!(matches!(
            SeatId::from_path("..%2Fx"),
            Err(InvalidId::BadCharacter(_))
        ));
    }

    #[test]
    fn refuses_bad_ids() {
        let bad_char = InvalidId::BadCharacter(ID_CHARS);
        let cases = [
            ("", InvalidId::Empty),
            (&"x".repeat(MAX_ID_LEN + 1), InvalidId::TooLong(MAX_ID_LEN)),
            (&"7".repeat(200), InvalidId::TooLong(MAX_ID_LEN)),
            ("*", bad_char.clone()),
            ("a b", bad_char.clone()),
            ("a%20b", bad_char.clone()),
            ("../x", bad_char.clone()),
            ("{e}1", bad_char.clone()),
            ("a}", bad_char.clone()),
            ("a?", bad_char.clone()),
            ("a,b", bad_char.clone()),
            ("é", bad_char.clone()),
            ("%FF", InvalidId::BadEscape),
            ("%C3%28", InvalidId::BadEscape),
            ("%", InvalidId::BadEscape),
            ("%4", InvalidId::BadEscape),
            ("%zz", InvalidId::BadEscape),
            ("%%41", InvalidId::BadEscape),
            ("A%2", InvalidId::BadEscape),
            ("A-1%", InvalidId::BadEscape),
            ("%g1", InvalidId::BadEscape),
            ("%1g", InvalidId::BadEscape),
            ("%+1", InvalidId::BadEscape),
            ("%E2%82", InvalidId::BadEscape),
            ("%ED%A0%80", InvalidId::BadEscape),
            ("%2541", bad_char.clone()),
            ("%00", bad_char.clone()),
            ("%2F", bad_char.clone()),
            ("%7B%7D", bad_char.clone()),
            ("%C3%A9", bad_char.clone()),
            ("%E2%82%AC", bad_char.clone()),
        ];
        for (raw, why) in cases {
            assert_eq!(SeatId::from_path(raw), Err(why.clone()), "seat {raw:?}");
            assert_eq!(EventId::from_path(raw), Err(why), "event {raw:?}");
        }
    }

    #[test]
    fn row_labels_have_no_dash() {
        assert!(check_row_label("AA_1").is_ok());
        assert!(check_row_label("A-1").is_err());
        assert!(check_row_label(&"A".repeat(17)).is_err());
        assert!(check_row_label("").is_err());
    }

    #[test]
    fn resource_ids_are_canonical_uuids() {
        let id = "67e55044-10b1-426f-9247-bb680e5fe0c8";
        assert_eq!(parse_uuid(id).as_deref(), Some(id));
        assert_eq!(parse_uuid(&id.to_uppercase()), None);
        assert_eq!(parse_uuid("67e5504410b1426f9247bb680e5fe0c8"), None);
        assert_eq!(parse_uuid("*"), None);
    }
}
