//! The seat map page: `GET /` (a short landing page that asks for an event
//! id) and `GET /events/{eventId}` (the live seat map) serve one HTML
//! document; its script and style sheet come from `GET /assets/page.js` and
//! `GET /assets/page.css`. All three files live in `web/`, which
//! `spin.toml` mounts into the component (see `mounted_file`), so the page
//! needs no second component, no build step and no Redis: it talks to the
//! JSON API like any other client.
//!
//! The script and style sheet are separate files, not inline, so the
//! Content-Security-Policy can forbid inline script altogether. Their URLs
//! carry a hash of their content (`?v=…`), so browsers may cache them for a
//! year and still fetch a new version the moment it ships.

use super::{event_id, respond};
use crate::http::Problem;
use crate::http::Response;
use crate::mounted_file::{self, PAGE_CSS, PAGE_HTML, PAGE_JS};

/// Only same-origin script, style, images and API calls; no inline script,
/// no plugins, no framing (so no clickjacking of the Confirm button).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A year: the assets' URLs change whenever their content does.
const ASSET_CACHE: &str = "public, max-age=31536000, immutable";

/// `GET /`: the landing page (the same document; its script sees no event
/// id in the path and shows the event picker).
pub fn landing() -> Response {
    respond(html())
}

/// `GET /events/{eventId}`: the seat map of one event. An id that breaks the
/// id rules is refused here, before any script runs; whether the event
/// exists is for the page to learn from the API (and say).
pub fn event(raw_event: &str) -> Response {
    respond(event_id(raw_event).and_then(|_| html()))
}

/// `GET /assets/page.js`.
pub fn script() -> Response {
    respond(asset("text/javascript; charset=utf-8", PAGE_JS))
}

/// `GET /assets/page.css`.
pub fn stylesheet() -> Response {
    respond(asset("text/css; charset=utf-8", PAGE_CSS))
}

/// The HTML document with its asset URLs filled in: `%PAGE_CSS%` and
/// `%PAGE_JS%` become the versioned asset URLs.
pub fn document() -> Result<String, Problem> {
    let html = mounted_file::read(PAGE_HTML)?;
    let css = mounted_file::read(PAGE_CSS)?;
    let js = mounted_file::read(PAGE_JS)?;
    Ok(html
        .replace("%PAGE_CSS%", &asset_url("page.css", &css))
        .replace("%PAGE_JS%", &asset_url("page.js", &js)))
}

fn html() -> Result<Response, Problem> {
    let document = document()?;
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/html; charset=utf-8")
        .header("content-security-policy", CONTENT_SECURITY_POLICY)
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "no-referrer")
        // The document is tiny and names the current assets: always revalidate it.
        .header("cache-control", "no-cache")
        .body(document)
        .build())
}

fn asset(content_type: &'static str, path: &str) -> Result<Response, Problem> {
    let body = mounted_file::read(path)?;
    Ok(Response::builder()
        .status(200)
        .header("content-type", content_type)
        .header("x-content-type-options", "nosniff")
        .header("cache-control", ASSET_CACHE)
        .body(body)
        .build())
}

/// `/assets/<name>?v=<hash of content>`.
fn asset_url(name: &str, content: &str) -> String {
    format!("/assets/{name}?v={:016x}", fnv1a(content.as_bytes()))
}

/// FNV-1a, 64 bits: a cache-busting fingerprint, not a security measure.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(res: &Response, name: &str) -> String {
        res.header(name).unwrap_or_default().to_owned()
    }

    fn read(path: &str) -> String {
        mounted_file::read(path).unwrap()
    }

    #[test]
    fn the_document_links_versioned_assets() {
        let doc = document().unwrap();
        assert!(
            !doc.contains("%PAGE_"),
            "a placeholder was left in the page"
        );
        assert!(doc.contains(&asset_url("page.css", &read(PAGE_CSS))));
        let js = read(PAGE_JS);
        assert!(doc.contains(&asset_url("page.js", &js)));
        // A change to the content changes the URL.
        assert_ne!(asset_url("page.js", &js), asset_url("page.js", "x"));
    }

    #[test]
    fn the_document_has_no_inline_script_or_style() {
        // The CSP forbids them, so any would silently not run.
        let doc = document().unwrap().to_ascii_lowercase();
        let js = read(PAGE_JS);
        assert_eq!(doc.matches("<script").count(), 1);
        assert!(doc.contains("<script src=\"/assets/page.js?v="));
        assert!(!doc.contains("<style"));
        assert!(!doc.contains(" style="));
        assert!(!doc.contains(" onclick=") && !doc.contains(" onload="));
        assert!(!js.contains("eval(") && !js.contains("innerHTML"));
    }

    #[test]
    fn the_page_is_locked_down() {
        for res in [landing(), event("gala")] {
            assert_eq!(res.status(), 200);
            assert_eq!(header(&res, "content-type"), "text/html; charset=utf-8");
            assert_eq!(
                header(&res, "content-security-policy"),
                CONTENT_SECURITY_POLICY
            );
            assert_eq!(header(&res, "x-content-type-options"), "nosniff");
        }
        assert!(CONTENT_SECURITY_POLICY.starts_with("default-src 'self'"));
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe-inline"));
    }

    #[test]
    fn assets_are_cached_long_and_typed() {
        let js = script();
        assert_eq!(
            header(&js, "content-type"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(header(&js, "cache-control"), ASSET_CACHE);
        assert_eq!(header(&js, "x-content-type-options"), "nosniff");
        let css = stylesheet();
        assert_eq!(header(&css, "content-type"), "text/css; charset=utf-8");
        assert_eq!(header(&css, "cache-control"), ASSET_CACHE);
    }

    #[test]
    fn a_bad_event_id_is_refused_before_the_page() {
        let res = event("a%20b");
        assert_eq!(res.status(), 400);
        assert_eq!(header(&res, "content-type"), "application/problem+json");
    }

    #[test]
    fn fnv1a_matches_the_reference_values() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
