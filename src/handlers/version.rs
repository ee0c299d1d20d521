//! `GET /api/version`: the component's name and version. It touches no
//! Redis, which also makes it the benchmark's measure of the per-request floor.

use serde_json::json;

use crate::http::response;
use crate::http::Response;

/// Answers with the package name and version.
pub fn get() -> Response {
    response::json(
        200,
        &json!({ "name": env!("CARGO_PKG_NAME"), "version": env!("CARGO_PKG_VERSION") }),
    )
}
