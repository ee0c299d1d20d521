//! Maps a method and path to the handler that answers it.
//!
//! [`ROUTES`] is the list of everything the API serves; a test checks it
//! against the OpenAPI document. Routing works on the raw request path
//! (before any normalisation), so ids reach their validators as sent, and a
//! path with `.` or `..` segments is refused outright rather than silently
//! addressing another resource. A state change (any method but `GET` and
//! `HEAD`) that another site's page made is refused before its handler
//! reads anything (`http::origin`).
//!
//! Not spin-sdk's `Router`: it trims `/` at both ends and answers 404/405 in plain text, no `Allow`.

use crate::handlers::{
    book, bookings, event_list, events, health, holds, openapi, page, queue, version,
};
use crate::http::origin;
use crate::http::request::method_name;
use crate::http::{Kind, Problem, Request, Response};

/// A handler as the route table calls it: the request, the route's
/// parameters in the order its pattern names them, and the raw path.
type Handler = fn(&Request, &[&str], &str) -> Response;

/// One route: a method, a pattern as OpenAPI writes it, and its handler.
pub(crate) struct Route {
    /// The method, upper case.
    pub(crate) method: &'static str,
    /// The path pattern; `{name}` takes one segment.
    pub(crate) pattern: &'static str,
    handler: Handler,
}

/// Every route the API serves. `HEAD` is served wherever `GET` is (RFC
/// 9110), as the `GET` without its body.
pub(crate) const ROUTES: &[Route] = &[
    route("GET", "/health", |_, _, _| health::get()),
    route("GET", "/api/version", |_, _, _| version::get()),
    route("GET", "/api/openapi.json", |_, _, _| openapi::get()),
    route("POST", "/api/book/{seatId}", |req, p, path| {
        book::post(req, p[0], path)
    }),
    route("GET", "/api/events", |req, _, _| event_list::list(req)),
    route("POST", "/api/events", |req, _, path| {
        events::create(req, path)
    }),
    route("GET", "/api/events/{eventId}", |req, p, _| {
        events::get(req, p[0])
    }),
    route("GET", "/api/events/{eventId}/seats", |req, p, _| {
        events::seats(req, p[0])
    }),
    route("POST", "/api/events/{eventId}/holds", |req, p, path| {
        holds::create(req, p[0], path)
    }),
    route(
        "POST",
        "/api/events/{eventId}/holds/{holdId}/confirm",
        |req, p, path| holds::confirm(req, p[0], p[1], path),
    ),
    route(
        "DELETE",
        "/api/events/{eventId}/holds/{holdId}",
        |req, p, _| holds::release(req, p[0], p[1]),
    ),
    route("POST", "/api/events/{eventId}/bookings", |req, p, path| {
        bookings::create(req, p[0], path)
    }),
    route(
        "GET",
        "/api/events/{eventId}/bookings/{bookingId}",
        |req, p, _| bookings::get(req, p[0], p[1]),
    ),
    route(
        "DELETE",
        "/api/events/{eventId}/bookings/{bookingId}",
        |req, p, _| bookings::cancel(req, p[0], p[1]),
    ),
    route("POST", "/api/events/{eventId}/queue", |req, p, path| {
        queue::join(req, p[0], path)
    }),
    route(
        "GET",
        "/api/events/{eventId}/queue/{ticketId}",
        |req, p, _| queue::status(req, p[0], p[1]),
    ),
    // The seat map page (HTML) and its two assets.
    route("GET", "/", |_, _, _| page::landing()),
    route("GET", "/events/{eventId}", |_, p, _| page::event(p[0])),
    route("GET", "/assets/page.js", |_, _, _| page::script()),
    route("GET", "/assets/page.css", |_, _, _| page::stylesheet()),
];

const fn route(method: &'static str, pattern: &'static str, handler: Handler) -> Route {
    Route {
        method,
        pattern,
        handler,
    }
}

/// Answers one request.
///
/// Every request pays for routing, so it allocates nothing and scans the
/// path with plain byte loops: on wasm, `str::split(char)` goes through
/// `memchr`'s word-at-a-time search, whose set-up costs more than these
/// short paths.
pub(crate) fn route_request(req: &Request) -> Response {
    let path = req.path();
    if Segments(Some(path)).any(|s| s == "." || s == "..") {
        return Problem::new(
            Kind::InvalidPath,
            "paths may not contain '.' or '..' segments",
        )
        .into_response();
    }
    let asked = method_name(req.method());
    let head = asked == "HEAD";
    let method = if head { "GET" } else { asked };
    let mut path_matched = false;
    for r in ROUTES {
        if let Some(params) = match_pattern(r.pattern, path) {
            if r.method == method {
                // A state change from another site's page goes no further,
                // whichever route it is for (`http::origin`).
                if method != "GET" {
                    if let Err(problem) = origin::check(req) {
                        return problem.into_response();
                    }
                }
                let response = (r.handler)(req, params.as_slice(), path);
                return if head {
                    response.without_body()
                } else {
                    response
                };
            }
            path_matched = true;
        }
    }
    if !path_matched {
        return Problem::not_found(path).into_response();
    }
    let mut allow: Vec<&str> = Vec::new();
    for r in ROUTES
        .iter()
        .filter(|r| match_pattern(r.pattern, path).is_some())
    {
        allow.push(r.method);
        if r.method == "GET" {
            allow.push("HEAD");
        }
    }
    let allow = allow.join(", ");
    Problem::method_not_allowed(&allow)
        .with_header("allow", allow)
        .into_response()
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
        for Route { pattern, .. } in ROUTES {
            let count = pattern.matches('{').count();
            assert!(count <= MAX_PARAMS, "{pattern} has {count} parameters");
            let path = pattern.replace(['{', '}'], "");
            assert!(match_pattern(pattern, &path).is_some(), "{pattern}");
        }
    }

    #[test]
    fn head_is_get_without_its_body_and_405_lists_it() {
        use spin_sdk::http::Method;
        let get = route_request(&Request::new(Method::Get, "/api/version"));
        let head = route_request(&Request::new(Method::Head, "/api/version"));
        assert_eq!((get.status(), head.status()), (200, 200));
        assert!(!get.body().is_empty());
        assert!(head.body().is_empty());
        assert_eq!(head.header("content-type"), get.header("content-type"));
        let post = route_request(&Request::new(Method::Post, "/api/version"));
        assert_eq!(post.status(), 405);
        assert_eq!(post.header("allow"), Some("GET, HEAD"));
        let put = route_request(&Request::new(Method::Put, "/api/events"));
        assert_eq!(put.header("allow"), Some("GET, HEAD, POST"));
        let head_post_only = route_request(&Request::new(Method::Head, "/api/book/A-1"));
        assert_eq!(head_post_only.status(), 405);
        assert_eq!(head_post_only.header("allow"), Some("POST"));
    }

    #[test]
    fn state_changes_from_another_site_s_page_stop_at_the_router() {
        use spin_sdk::http::Method;
        // `null` is refused without a variable lookup (which would abort
        // natively); the handlers are never reached.
        let from = |method: Method, path: &str| {
            route_request(&Request::new(method, path).with_header("origin", "null"))
        };
        for (method, path) in [
            (Method::Post, "/api/book/A-1"),
            (Method::Post, "/api/events/gala/holds"),
            (Method::Delete, "/api/events/gala/holds/h1"),
        ] {
            let res = from(method, path);
            assert_eq!(res.status(), 403, "{path}");
            let body: serde_json::Value = serde_json::from_slice(res.body()).unwrap();
            assert_eq!(body["code"], "cross_site_request");
        }
        assert_eq!(from(Method::Get, "/api/version").status(), 200);
        assert_eq!(from(Method::Head, "/api/version").status(), 200);
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
            .map(|r| (r.method.to_string(), r.pattern.to_string()))
            .collect();
        documented.sort();
        served.sort();
        assert_eq!(documented, served);
    }
}
