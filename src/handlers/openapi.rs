//! `GET /api/openapi.json`: the OpenAPI 3.1 document of the whole API,
//! kept in the repository (`api/openapi.json`) as the source of truth and
//! mounted into the component by `spin.toml` (see `mounted_file`).

use super::respond;
use crate::http::Response;
use crate::mounted_file;

/// Serves the document.
pub fn get() -> Response {
    respond(mounted_file::read(mounted_file::OPENAPI).map(|document| {
        Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(document)
            .build()
    }))
}
