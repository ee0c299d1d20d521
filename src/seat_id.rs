//! Seat ids: the one piece of client input that becomes part of a Redis key.
//!
//! A seat id is 1 to 64 characters from `A-Z a-z 0-9 - _`, after
//! percent-decoding. Anything else (glob characters, hash-tag braces, spaces,
//! slashes, non-UTF-8 escapes) is refused before it can touch a Redis key.

use std::fmt;

/// The longest seat id accepted, in bytes.
pub const MAX_LEN: usize = 64;

/// A validated seat id, safe to embed in a Redis key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatId(String);

/// Why a seat id was refused; the text is shown to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidSeatId {
    /// No characters at all.
    Empty,
    /// Longer than [`MAX_LEN`].
    TooLong,
    /// A `%` escape that is malformed or decodes to something other than UTF-8.
    BadEscape,
    /// A character outside the allowed set.
    BadCharacter,
}

impl fmt::Display for InvalidSeatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self {
            InvalidSeatId::Empty => "the seat id is empty",
            InvalidSeatId::TooLong => "the seat id is longer than 64 characters",
            InvalidSeatId::BadEscape => "the seat id has a malformed or non-UTF-8 percent-escape",
            InvalidSeatId::BadCharacter => {
                "the seat id may only contain the letters A-Z and a-z, digits, '-' and '_'"
            }
        };
        f.write_str(why)
    }
}

impl SeatId {
    /// Parses a raw (still percent-encoded) path segment.
    pub fn parse(raw: &str) -> Result<SeatId, InvalidSeatId> {
        let decoded = percent_decode(raw)?;
        if decoded.is_empty() {
            return Err(InvalidSeatId::Empty);
        }
        if decoded.len() > MAX_LEN {
            return Err(InvalidSeatId::TooLong);
        }
        if !decoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(InvalidSeatId::BadCharacter);
        }
        Ok(SeatId(decoded))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SeatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Decodes `%XX` escapes; the result must be UTF-8.
fn percent_decode(raw: &str) -> Result<String, InvalidSeatId> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(InvalidSeatId::BadEscape)?;
            let hex = std::str::from_utf8(hex).map_err(|_| InvalidSeatId::BadEscape)?;
            let byte = u8::from_str_radix(hex, 16).map_err(|_| InvalidSeatId::BadEscape)?;
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| InvalidSeatId::BadEscape)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_ids() {
        for id in ["1", "A-12", "row_7-seat_3", &"x".repeat(MAX_LEN)] {
            assert_eq!(SeatId::parse(id).unwrap().as_str(), id);
        }
    }

    #[test]
    fn decodes_escapes_before_checking() {
        assert_eq!(SeatId::parse("A%2D1").unwrap().as_str(), "A-1");
        assert_eq!(
            SeatId::parse("..%2Fx").unwrap_err(),
            InvalidSeatId::BadCharacter
        );
    }

    #[test]
    fn refuses_bad_ids() {
        let cases = [
            ("", InvalidSeatId::Empty),
            (&"x".repeat(MAX_LEN + 1), InvalidSeatId::TooLong),
            (&"7".repeat(200), InvalidSeatId::TooLong),
            ("*", InvalidSeatId::BadCharacter),
            ("a b", InvalidSeatId::BadCharacter),
            ("a%20b", InvalidSeatId::BadCharacter),
            ("../x", InvalidSeatId::BadCharacter),
            ("{e}1", InvalidSeatId::BadCharacter),
            ("a}", InvalidSeatId::BadCharacter),
            ("a?", InvalidSeatId::BadCharacter),
            ("%FF", InvalidSeatId::BadEscape),
            ("%C3%28", InvalidSeatId::BadEscape),
            ("%", InvalidSeatId::BadEscape),
            ("%4", InvalidSeatId::BadEscape),
            ("%zz", InvalidSeatId::BadEscape),
            ("é", InvalidSeatId::BadCharacter),
        ];
        for (raw, why) in cases {
            assert_eq!(SeatId::parse(raw), Err(why), "input {raw:?}");
        }
    }
}
