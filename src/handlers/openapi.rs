//! `GET /api/openapi.json`: the OpenAPI 3.1 document of the whole API,
//! kept in the repository (`api/openapi.json`) as the source of truth.

use spin_sdk::http::Response;

/// The document, embedded at build time.
pub const DOCUMENT: &str = include_str!("../../api/openapi.json");

/// Serves the document.
pub fn get() -> Response {
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(DOCUMENT)
        .build()
}
