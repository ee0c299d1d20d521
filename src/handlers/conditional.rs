//! HTTP caching for the event reads (`GET /api/events/{eventId}` and
//! `…/seats`): their strong `ETag`, `If-None-Match` (RFC 9110 §13.1.2) and
//! `Cache-Control`, so that a CDN or reverse proxy can answer most polls and
//! an unchanged map costs Redis a few counters, not the map.
//!
//! An ETag is `"<kind><format>.<validator>"`: the kind says which read it
//! belongs to (`e` the event, `s` its seats), the format is
//! [`REPRESENTATION_FORMAT`], and the validator comes from the seat map
//! script (`createdAt.version.liveHolds`, see `store/scripts/seat_map.lua`).
//! Only tags of that shape can match, so only they (checked digit by digit)
//! reach Redis as script arguments.

use crate::http::{Problem, Request, Response};

/// How long a cache may serve a read without asking again, and how long
/// after that it may still serve it while it asks in the background: a
/// change shows within `max-age` + `stale-while-revalidate` = 3 s at worst
/// (one poll interval of the page), and an edge asks the component at most
/// about once a second per event, however many viewers poll it.
pub const CACHE_CONTROL: &str = "public, max-age=1, stale-while-revalidate=2";

/// Errors of the cacheable reads: never stored, so an outage or a typo in
/// an id does not outlive its cause in a cache.
pub const NO_STORE: &str = "no-store";

/// Bumped whenever the JSON of either read changes shape, so a cache that
/// revalidates after a deploy gets the new body rather than a 304 for the
/// old one.
pub const REPRESENTATION_FORMAT: u32 = 1;

/// The most tags of ours one `If-None-Match` may carry to Redis; a client
/// has one, a cache a few. Tags past this are ignored (at worst a 200).
pub const MAX_TAGS: usize = 8;

/// Which read an ETag belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Representation {
    /// `GET /api/events/{eventId}`.
    Event,
    /// `GET /api/events/{eventId}/seats`.
    SeatMap,
}

impl Representation {
    /// What every ETag of this read starts with, inside the quotes.
    fn prefix(self) -> String {
        let kind = match self {
            Representation::Event => 'e',
            Representation::SeatMap => 's',
        };
        format!("{kind}{REPRESENTATION_FORMAT}.")
    }

    /// The strong ETag header value for a validator from the store.
    pub fn etag(self, validator: &str) -> String {
        format!("\"{}{validator}\"", self.prefix())
    }

    /// The validators the request's `If-None-Match` names for this read,
    /// ready for the seat map script: `*` as itself, our own tags by their
    /// validator. Weak tags compare like strong ones (RFC 9110 uses the weak
    /// comparison for `If-None-Match`); tags of another shape can never
    /// match and are dropped; a malformed header is ignored as a whole.
    pub fn known_validators(self, req: &Request) -> Vec<String> {
        let Some(header) = req.header("if-none-match") else {
            return Vec::new();
        };
        let Some(tags) = parse_if_none_match(header.as_bytes()) else {
            return Vec::new();
        };
        let prefix = self.prefix();
        tags.into_iter()
            .filter_map(|tag| match tag {
                IfNoneMatch::Any => Some("*".to_owned()),
                IfNoneMatch::Tag(opaque) => opaque
                    .strip_prefix(&prefix)
                    .filter(|v| is_validator(v))
                    .map(str::to_owned),
            })
            .take(MAX_TAGS)
            .collect()
    }

    /// The 200 answer: `response` with its ETag and cache policy.
    pub fn fresh(self, mut response: Response, validator: &str) -> Response {
        response.set_header("etag", self.etag(validator));
        response.set_header("cache-control", CACHE_CONTROL);
        response
    }

    /// The 304 answer: no body, the same ETag and cache policy as the 200.
    pub fn not_modified(self, validator: &str) -> Response {
        Response::builder()
            .status(304)
            .header("etag", self.etag(validator))
            .header("cache-control", CACHE_CONTROL)
            .build()
    }
}

/// A problem answer of a cacheable read, marked never to be stored.
pub fn uncacheable(problem: Problem) -> Response {
    problem
        .with_header("cache-control", NO_STORE)
        .into_response()
}

/// One member of an `If-None-Match` list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum IfNoneMatch {
    /// `*`: any current representation.
    Any,
    /// An entity tag's opaque part (without `W/` and quotes).
    Tag(String),
}

/// Parses `If-None-Match = "*" / #entity-tag` (RFC 9110), or `None` when
/// the header does not follow that grammar.
fn parse_if_none_match(value: &[u8]) -> Option<Vec<IfNoneMatch>> {
    let text = std::str::from_utf8(value).ok()?;
    if text.trim_matches([' ', '\t']) == "*" {
        return Some(vec![IfNoneMatch::Any]);
    }
    let mut tags = Vec::new();
    let mut rest = text;
    loop {
        // List elements may be empty and are separated by commas and spaces.
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return Some(tags);
        }
        let quoted = rest.strip_prefix("W/").unwrap_or(rest);
        let body = quoted.strip_prefix('"')?;
        let end = body.find('"')?;
        let opaque = &body[..end];
        if !opaque.bytes().all(is_etagc) {
            return None;
        }
        tags.push(IfNoneMatch::Tag(opaque.to_owned()));
        rest = body[end + 1..].trim_start_matches([' ', '\t']);
        if !rest.is_empty() && !rest.starts_with(',') {
            return None;
        }
    }
}

/// `etagc = %x21 / %x23-7E / obs-text`.
fn is_etagc(b: u8) -> bool {
    b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80
}

/// A validator as the seat map script makes them: three dot-separated
/// decimal numbers, each at most 20 digits.
fn is_validator(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 20 && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(kind: Representation, header: &str) -> Vec<String> {
        let req = Request::new(spin_sdk::http::Method::Get, "/api/events/gala/seats")
            .with_header("if-none-match", header);
        kind.known_validators(&req)
    }

    #[test]
    fn etags_are_strong_and_name_their_read() {
        assert_eq!(Representation::SeatMap.etag("17.3.0"), "\"s1.17.3.0\"");
        assert_eq!(Representation::Event.etag("17.3.0"), "\"e1.17.3.0\"");
    }

    #[test]
    fn our_tags_match_strong_or_weak_in_a_list() {
        let s = Representation::SeatMap;
        assert_eq!(known(s, "\"s1.17.3.0\""), ["17.3.0"]);
        assert_eq!(known(s, "W/\"s1.17.3.0\""), ["17.3.0"]);
        assert_eq!(
            known(s, "\"x\", W/\"s1.1.2.3\" ,\"s1.4.5.6\""),
            ["1.2.3", "4.5.6"]
        );
        assert_eq!(known(s, " * "), ["*"]);
        assert_eq!(known(s, ",,\"s1.1.2.3\","), ["1.2.3"]);
    }

    #[test]
    fn tags_of_another_read_or_shape_never_reach_redis() {
        let s = Representation::SeatMap;
        assert!(known(s, "\"e1.17.3.0\"").is_empty());
        assert!(known(s, "\"s2.17.3.0\"").is_empty());
        assert!(known(s, "\"s1.17.3\"").is_empty());
        assert!(known(s, "\"s1.17.3.x\"").is_empty());
        assert!(known(s, "\"s1.1.2.3.4\"").is_empty());
        assert!(known(s, &format!("\"s1.{}.1.1\"", "9".repeat(21))).is_empty());
        let many: Vec<String> = (0..20).map(|n| format!("\"s1.{n}.0.0\"")).collect();
        assert_eq!(known(s, &many.join(",")).len(), MAX_TAGS);
    }

    #[test]
    fn malformed_headers_are_ignored() {
        let s = Representation::SeatMap;
        for header in [
            "s1.17.3.0",
            "\"s1.17.3.0",
            "\"s1.17.3.0\" \"s1.1.1.1\"",
            "W/s1.17.3.0",
            "\"s1.1.1.1\", *",
            "\"a b\"",
            "",
        ] {
            assert!(known(s, header).is_empty(), "{header:?}");
        }
    }

    #[test]
    fn not_modified_has_no_body_and_the_same_headers() {
        let res = Representation::SeatMap.not_modified("1.2.3");
        assert_eq!(res.status(), 304);
        assert!(res.body().is_empty());
        assert_eq!(res.header("etag"), Some("\"s1.1.2.3\""));
        assert_eq!(res.header("cache-control"), Some(CACHE_CONTROL));
    }
}
