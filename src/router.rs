//! Maps a method and path to the handler that answers it.
//!
//! Routing works on the raw request path (before any `..` normalisation), so
//! that a seat id such as `../x` reaches the validator and gets a clear 400
//! instead of silently addressing another route.

use spin_sdk::http::{Method, Request, Response};

use crate::handlers;
use crate::response::Problem;

/// The prefix of the seed-compatible booking route, `POST /api/book/{seatId}`.
const BOOK_PREFIX: &str = "/api/book/";

/// Answers one request.
pub fn route(req: &Request) -> Response {
    let path = raw_path(req.uri());
    match (req.method(), path) {
        (Method::Get, "/health") => handlers::health::get(),
        (_, "/health") => method_not_allowed("GET"),
        (Method::Get, "/api/version") => handlers::version::get(),
        (_, "/api/version") => method_not_allowed("GET"),
        (Method::Post, p) if p.starts_with(BOOK_PREFIX) => {
            handlers::book::post(&p[BOOK_PREFIX.len()..])
        }
        (_, p) if p.starts_with(BOOK_PREFIX) => method_not_allowed("POST"),
        _ => Problem::not_found(path).into_response(),
    }
}

/// Extracts the path from a request URI as it arrived: without scheme,
/// authority or query, and without any normalisation.
pub fn raw_path(uri: &str) -> &str {
    let after_scheme = match uri.find("://") {
        Some(i) => {
            let rest = &uri[i + 3..];
            rest.find('/').map_or("", |j| &rest[j..])
        }
        None => uri,
    };
    let end = after_scheme.find(['?', '#']).unwrap_or(after_scheme.len());
    &after_scheme[..end]
}

fn method_not_allowed(allow: &str) -> Response {
    let mut res = Problem::method_not_allowed(allow).into_response();
    res.set_header("allow", allow);
    res
}

#[cfg(test)]
mod tests {
    use super::raw_path;

    #[test]
    fn raw_path_strips_scheme_authority_and_query() {
        assert_eq!(raw_path("http://127.0.0.1:3000/api/book/1"), "/api/book/1");
        assert_eq!(raw_path("http://h/api/book/1?x=2"), "/api/book/1");
        assert_eq!(raw_path("/health?verbose"), "/health");
        assert_eq!(raw_path("http://h"), "");
    }

    #[test]
    fn raw_path_keeps_dot_segments_and_escapes() {
        assert_eq!(raw_path("http://h/api/book/../x"), "/api/book/../x");
        assert_eq!(raw_path("http://h/api/book/%FF"), "/api/book/%FF");
    }
}
