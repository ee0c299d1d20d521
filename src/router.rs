//! Maps a method and path to the handler that answers it.
//!
//! [`ROUTES`] is the list of everything the API serves; a test checks it
//! against the OpenAPI document. Routing works on the raw request path
//! (before any normalisation), so ids reach their validators as sent, and a
//! path with `.` or `..` segments is refused outright rather than silently
//! addressing another resource.
//!
//! Not spin-sdk's `Router`: it trims `/` at both ends and answers 404/405 in plain text, no `Allow`.

use crate::handlers::{
    book, bookings, event_list, events, health, holds, method_name, openapi, page, queue, version,
};
use crate::http_response::Response;
use crate::request::Request;
use crate::response::Problem;

/// Every route the API serves, as OpenAPI writes them.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/health"),
    ("GET", "/api/version"),
    ("GET", "/api/openapi.json"),
    ("POST", "/api/book/{seatId}"),
    ("GET", "/api/events"),
    ("POST", "/api/events"),
    ("GET", "/api/events/{eventId}"),
    ("GET", "/api/events/{eventId}/seats"),
    ("POST", "/api/events/{eventId}/holds"),
    ("POST", "/api/events/{eventId}/holds/{holdId}/confirm"),
    ("DELETE", "/api/events/{eventId}/holds/{holdId}"),
    ("POST", "/api/events/{eventId}/bookings"),
    ("GET", "/api/events/{eventId}/bookings/{bookingId}"),
    ("DELETE", "/api/events/{eventId}/bookings/{bookingId}"),
    ("POST", "/api/events/{eventId}/queue"),
    ("GET", "/api/events/{eventId}/queue/{ticketId}"),
    // The seat map page (HTML) and its two assets.
    ("GET", "/"),
    ("GET", "/events/{eventId}"),
    ("GET", "/assets/page.js"),
    ("GET", "/assets/page.css"),
];

/// Answers one request.
///
/// Every request pays for routing, so it allocates nothing and scans the
/// path with plain byte loops: on wasm, `str::split(char)` goes through
/// `memchr`'s word-at-a-time search, whose set-up costs more than these
/// short paths (a profile under `callgrind` put 48,000 guest instructions
/// per booking in the old split-and-collect matching, 4% of the request).
pub fn route(req: &Request) -> Response {
    let path = req.path();
    if Segments(Some(path)).any(|s| s == "." || s == "..") {
        return Problem::new(
            400,
            "invalid_path",
            "Invalid path",
            "paths may not contain '.' or '..' segments".to_owned(),
        )
        .into_response();
    }
    let method = method_name(req.method());
    let mut path_matched = false;
    for &(m, pattern) in ROUTES {
        if let Some(params) = match_pattern(pattern, path) {
            if m == method {
                return dispatch(req, m, pattern, params.as_slice(), path);
            }
            path_matched = true;
        }
    }
    if !path_matched {
        return Problem::not_found(path).into_response();
    }
    let allow: Vec<&str> = ROUTES
        .iter()
        .filter(|(_, pattern)| match_pattern(pattern, path).is_some())
        .map(|&(m, _)| m)
        .collect();
    Problem::method_not_allowed(&allow.join(", "))
        .with_header("allow", allow.join(", "))
        .into_response()
}

/// Calls the handler of a matched route.
fn dispatch(req: &Request, method: &str, pattern: &str, p: &[&str], path: &str) -> Response {
    match (method, pattern) {
        ("GET", "/health") => health::get(),
        ("GET", "/api/version") => version::get(),
        ("GET", "/api/openapi.json") => openapi::get(),
        ("POST", "/api/book/{seatId}") => book::post(req, p[0], path),
        ("GET", "/api/events") => event_list::list(req),
        ("POST", "/api/events") => events::create(req, path),
        ("GET", "/api/events/{eventId}") => events::get(req, p[0]),
        ("GET", "/api/events/{eventId}/seats") => events::seats(req, p[0]),
        ("POST", "/api/events/{eventId}/holds") => holds::create(req, p[0], path),
        ("POST", "/api/events/{eventId}/holds/{holdId}/confirm") => {
            holds::confirm(req, p[0], p[1], path)
        }
        ("DELETE", "/api/events/{eventId}/holds/{holdId}") => holds::release(req, p[0], p[1]),
        ("POST", "/api/events/{eventId}/bookings") => bookings::create(req, p[0], path),
        ("GET", "/api/events/{eventId}/bookings/{bookingId}") => bookings::get(req, p[0], p[1]),
        ("DELETE", "/api/events/{eventId}/bookings/{bookingId}") => {
            bookings::cancel(req, p[0], p[1])
        }
        ("POST", "/api/events/{eventId}/queue") => queue::join(req, p[0], path),
        ("GET", "/api/events/{eventId}/queue/{ticketId}") => queue::status(req, p[0], p[1]),
        ("GET", "/") => page::landing(),
        ("GET", "/events/{eventId}") => page::event(p[0]),
        ("GET", "/assets/page.js") => page::script(),
        ("GET", "/assets/page.css") => page::stylesheet(),
        _ => Problem::not_found(path).into_response(),
    }
}

/// The most parameters a route has (`{eventId}` and one more id).
const MAX_PARAMS: usize = 2;

/// The parameters of a matched route, in the order the pattern names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params<'a> {
    values: [&'a str; MAX_PARAMS],
    len: usize,
}

impl<'a> Params<'a> {
    /// The parameters as a slice.
    pub fn as_slice(&self) -> &[&'a str] {
        &self.values[..self.len]
    }
}

/// Matches a path against a pattern: literal segments must be equal, a
/// `{name}` segment takes any segment (even an empty one, so the handler's
/// validator can say what is wrong with it). Returns the parameters.
pub fn match_pattern<'a>(pattern: &str, path: &'a str) -> Option<Params<'a>> {
    // Most patterns differ from the path before their first parameter: one
    // comparison of that literal prefix turns them away.
    let literal = pattern
        .bytes()
        .position(|b| b == b'{')
        .map_or(pattern, |i| &pattern[..i]);
    if !path.starts_with(literal) {
        return None;
    }
    let mut want = Segments(Some(pattern));
    let mut have = Segments(Some(path));
    let mut params = Params {
        values: [""; MAX_PARAMS],
        len: 0,
    };
    loop {
        match (want.next(), have.next()) {
            (None, None) => return Some(params),
            (Some(w), Some(h)) if w.starts_with('{') && w.ends_with('}') => {
                *params.values.get_mut(params.len)? = h;
                params.len += 1;
            }
            (Some(w), Some(h)) if w == h => {}
            _ => return None,
        }
    }
}

/// The `/`-separated segments of a path, as `str::split('/')` gives them,
/// found with a byte loop (see [`route`]).
struct Segments<'a>(Option<&'a str>);

impl<'a> Iterator for Segments<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.0?;
        match rest.bytes().position(|b| b == b'/') {
            Some(i) => {
                self.0 = Some(&rest[i + 1..]);
                Some(&rest[..i])
            }
            None => {
                self.0 = None;
                Some(rest)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_whole_paths_only() {
        let p = "/api/events/{eventId}/holds/{holdId}/confirm";
        assert_eq!(
            match_pattern(p, "/api/events/gala/holds/h1/confirm").map(|m| m.as_slice().to_vec()),
            Some(vec!["gala", "h1"])
        );
        assert_eq!(match_pattern(p, "/api/events/gala/holds/h1"), None);
        assert_eq!(
            match_pattern(p, "/api/events/gala/holds/h1/confirm/x"),
            None
        );
        assert_eq!(
            match_pattern("/api/book/{seatId}", "/api/book/").map(|m| m.as_slice().to_vec()),
            Some(vec![""])
        );
        assert_eq!(
            match_pattern("/health", "/health").map(|m| m.as_slice().len()),
            Some(0)
        );
        assert_eq!(match_pattern("/health", "/health/"), None);
        assert_eq!(match_pattern("/", "/").map(|m| m.as_slice().len()), Some(0));
        assert_eq!(match_pattern("/", ""), None);
    }

    #[test]
    fn segments_are_those_of_split() {
        for path in ["", "/", "//", "/a", "/a/", "a/b//c", "/api/book/%2F"] {
            let ours: Vec<&str> = Segments(Some(path)).collect();
            let split: Vec<&str> = path.split('/').collect();
            assert_eq!(ours, split, "{path:?}");
        }
    }

    #[test]
    fn no_route_has_more_parameters_than_params_holds() {
        for (_, pattern) in ROUTES {
            let count = pattern.matches('{').count();
            assert!(count <= MAX_PARAMS, "{pattern} has {count} parameters");
            let path = pattern.replace(['{', '}'], "");
            assert!(match_pattern(pattern, &path).is_some(), "{pattern}");
        }
    }

    #[test]
    fn every_route_is_dispatched_to_a_handler() {
        // A route in ROUTES without a dispatch arm would fall through to 404.
        let source = include_str!("router.rs");
        for (method, pattern) in ROUTES {
            let arm = format!("(\"{method}\", \"{pattern}\") =>");
            assert!(
                source.contains(&arm),
                "no dispatch arm for {method} {pattern}"
            );
        }
    }

    /// The OpenAPI document and the router agree: every route served is
    /// documented and every documented operation is served.
    #[test]
    fn openapi_documents_exactly_the_routes() {
        let doc: serde_json::Value =
            serde_json::from_str(&crate::mounted_file::read(crate::mounted_file::OPENAPI).unwrap())
                .unwrap();
        assert_eq!(doc["openapi"].as_str().map(|v| &v[..3]), Some("3.1"));
        let mut documented = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in ["get", "post", "put", "patch", "delete"] {
                if item.get(method).is_some() {
                    documented.push((method.to_uppercase(), path.clone()));
                }
            }
        }
        let mut served: Vec<(String, String)> = ROUTES
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        documented.sort();
        served.sort();
        assert_eq!(documented, served);
    }
}
