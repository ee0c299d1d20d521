//! Cross-site requests: a state change (any method but `GET` and `HEAD`)
//! that another site's page made a visitor's browser send is refused with
//! `403 cross_site_request`, before the handler reads its body.
//!
//! A page can make a browser post a form, or `fetch` with a form or text
//! body, to any site without asking it first (no CORS preflight): that is
//! how another site could make its visitors book seats or join a queue
//! here. Browsers say where such a request comes from, and a page cannot
//! change what they say:
//!
//! - `Origin`, on every request whose method is not `GET` or `HEAD` (the
//!   Fetch standard; `null` from sandboxed frames and privacy contexts);
//! - `Sec-Fetch-Site` (`same-origin`, `same-site`, `cross-site`, `none`),
//!   from every browser of the last years (Chrome 76, Firefox 90,
//!   Safari 16.4), all of which also send `Origin`.
//!
//! The rules, in order, for a request that carries `Origin`:
//!
//! 1. `Sec-Fetch-Site: same-origin`: the browser vouches that the page is
//!    ours (also behind a proxy that rewrites `Host`): allowed;
//! 2. `Sec-Fetch-Site` absent or `none`, and `Origin` is the request's own
//!    origin (`scheme://host` as Spin's `spin-full-url` header gives them:
//!    the scheme of the listener, the `Host` header), default ports and
//!    case aside: allowed;
//! 3. otherwise (`same-site`, `cross-site` or any other value, or another
//!    origin): allowed only if `Origin` is in the `allowed_origins`
//!    variable; `null` never is.
//!
//! A request without `Origin` passes unchanged: it is not from a browser
//! (every browser that sends `Sec-Fetch-Site` sends `Origin` with it on a
//! state change), so no page can have forged it; curl, Artillery and
//! server-to-server callers send neither. That request pays one header
//! lookup and no variable lookup; the variable is read only for a request
//! whose `Origin` is neither its own nor vouched for.

use spin_sdk::variables;

use super::problem::printable;
use super::request::Request;
use super::{Kind, Problem};

/// The Spin variable listing the other origins whose pages may make state
/// changes (`https://shop.example`, comma or space separated). Empty (the
/// default): only the service's own pages.
pub(crate) const ALLOWED_ORIGINS_VARIABLE: &str = "allowed_origins";

/// Lets a state-changing request through unless a page of another site,
/// not on the allow-list, made it (see the module documentation).
pub(crate) fn check(req: &Request) -> Result<(), Problem> {
    let Some(origin) = req.header_bytes("origin") else {
        return Ok(());
    };
    let origin = String::from_utf8_lossy(&origin);
    let fetch_site = req.header_bytes("sec-fetch-site");
    if same_origin(&origin, fetch_site.as_deref(), || req.own_origin()) {
        return Ok(());
    }
    if origin.trim() != "null" {
        let allowed = variables::get(ALLOWED_ORIGINS_VARIABLE).unwrap_or_default();
        if is_listed(&allowed, &origin) {
            return Ok(());
        }
    }
    Err(cross_site(&origin))
}

/// Whether the request comes from one of the service's own pages: the
/// browser says so (`Sec-Fetch-Site: same-origin`), or says nothing
/// against it and `Origin` is the request's own origin (`own`, asked only
/// then).
fn same_origin(origin: &str, fetch_site: Option<&[u8]>, own: impl FnOnce() -> String) -> bool {
    match fetch_site.map(<[u8]>::trim_ascii) {
        Some(site) if site.eq_ignore_ascii_case(b"same-origin") => true,
        // The browser said nothing against it: compare the origins.
        None => normalized(origin).is_some_and(|o| Some(o) == normalized(&own())),
        Some(site) if site.eq_ignore_ascii_case(b"none") => same_origin(origin, None, own),
        Some(_) => false,
    }
}

/// Whether `origin` is one of the comma- or space-separated origins of
/// `list` (compared as [`normalized`]; entries that are not origins are
/// ignored, so a typo allows less, never more).
fn is_listed(list: &str, origin: &str) -> bool {
    let Some(origin) = normalized(origin) else {
        return false;
    };
    list.split([',', ' ', '\t', '\n'])
        .filter_map(normalized)
        .any(|entry| entry == origin)
}

/// An origin as compared: `scheme://host[:port]`, lowercase, the default
/// port of `http` (80) and `https` (443) dropped, a trailing `/` ignored.
/// `None` for anything else (`null`, a path, no scheme, no host).
fn normalized(origin: &str) -> Option<String> {
    let origin = origin.trim();
    let origin = origin.strip_suffix('/').unwrap_or(origin);
    let (scheme, authority) = origin.split_once("://")?;
    let valid = |b: u8| b.is_ascii_alphanumeric() || b".-_:[]".contains(&b);
    if scheme.is_empty() || authority.is_empty() || !authority.bytes().all(valid) {
        return None;
    }
    let scheme = scheme.to_ascii_lowercase();
    let mut authority = authority.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => "",
    };
    if !default_port.is_empty() && authority.ends_with(default_port) {
        authority.truncate(authority.len() - default_port.len());
    }
    Some(format!("{scheme}://{authority}"))
}

/// 403 for a state change another site's page made.
fn cross_site(origin: &str) -> Problem {
    Problem::new(
        Kind::CrossSiteRequest,
        format!(
            "a page of another site ({}) may not make this request; only the service's own \
             pages and the origins in the allowed_origins variable may",
            printable(origin)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &str = "http://127.0.0.1:3000";

    fn judged(origin: &str, fetch_site: Option<&str>) -> bool {
        same_origin(origin, fetch_site.map(str::as_bytes), || OWN.to_owned())
    }

    #[test]
    fn the_page_s_own_origin_passes_and_every_other_does_not() {
        assert!(judged("http://127.0.0.1:3000", None));
        assert!(judged("HTTP://127.0.0.1:3000/", Some("none")));
        assert!(!judged("http://127.0.0.1:3001", None));
        assert!(!judged("https://127.0.0.1:3000", None));
        assert!(!judged("http://localhost:3000", None));
        assert!(!judged("null", None));
        assert!(!judged("", None));
    }

    #[test]
    fn sec_fetch_site_vouches_for_same_origin_and_refuses_the_rest() {
        // Behind a proxy that rewrites Host, the browser's word still counts.
        assert!(judged("https://tickets.example", Some("same-origin")));
        assert!(judged("https://tickets.example", Some(" Same-Origin ")));
        for site in ["same-site", "cross-site", "nonsense", ""] {
            assert!(!judged(OWN, Some(site)), "{site}");
        }
    }

    #[test]
    fn the_request_s_own_origin_is_asked_only_when_needed() {
        let never = || -> String { panic!("the own origin was asked for") };
        assert!(same_origin(
            "https://a.example",
            Some(b"same-origin"),
            never
        ));
        assert!(!same_origin(
            "https://a.example",
            Some(b"cross-site"),
            never
        ));
    }

    #[test]
    fn default_ports_case_and_trailing_slashes_do_not_matter() {
        assert_eq!(
            normalized("HTTPS://Shop.Example:443/").as_deref(),
            Some("https://shop.example")
        );
        assert_eq!(
            normalized("http://shop.example:80").as_deref(),
            Some("http://shop.example")
        );
        assert_eq!(
            normalized("http://shop.example:443").as_deref(),
            Some("http://shop.example:443")
        );
        assert_eq!(
            normalized("http://[::1]:3000").as_deref(),
            Some("http://[::1]:3000")
        );
        for bad in [
            "null",
            "shop.example",
            "https://",
            "://x",
            "https://a/b",
            "https://a b",
        ] {
            assert_eq!(normalized(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_allow_list_takes_commas_or_spaces_and_ignores_what_is_not_an_origin() {
        let list = " https://shop.example, https://box.example:8443\thttp://[::1]:3000,,junk";
        assert!(is_listed(list, "https://shop.example"));
        assert!(is_listed(list, "https://SHOP.example:443"));
        assert!(is_listed(list, "https://box.example:8443"));
        assert!(is_listed(list, "http://[::1]:3000"));
        assert!(!is_listed(list, "https://box.example"));
        assert!(!is_listed(list, "http://shop.example"));
        assert!(!is_listed(list, "junk"));
        assert!(!is_listed("", "https://shop.example"));
        assert!(!is_listed("null", "null"));
    }

    #[test]
    fn requests_without_origin_are_not_judged() {
        use spin_sdk::http::Method;
        // Natively a variable lookup would abort the test: none is made.
        let plain = Request::new(Method::Post, "/api/book/A-1");
        assert!(check(&plain).is_ok());
        let fetch_only = Request::new(Method::Post, "/api/book/A-1")
            .with_header("sec-fetch-site", "same-origin");
        assert!(check(&fetch_only).is_ok());
        let own = Request::new(Method::Post, "/api/book/A-1")
            .with_header("host", "127.0.0.1:3000")
            .with_header("origin", OWN);
        assert!(check(&own).is_ok());
        let null = Request::new(Method::Post, "/api/book/A-1").with_header("origin", "null");
        let problem = check(&null).unwrap_err();
        assert_eq!(problem.kind, Kind::CrossSiteRequest);
        assert_eq!(problem.kind.status(), 403);
    }
}
