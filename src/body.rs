//! Reading JSON request bodies with the limits every POST shares: at most
//! [`MAX_BODY_BYTES`] (413 otherwise), `Content-Type: application/json`
//! (415 otherwise), and a body that parses into the expected shape with no
//! unknown fields (400 otherwise, naming what was wrong).

use serde::de::DeserializeOwned;
use spin_sdk::http::Request;

use crate::response::Problem;

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 128 * 1024;

/// Checks the declared and actual size of the request body.
pub fn check_size(req: &Request) -> Result<(), Problem> {
    let declared = req
        .header("content-length")
        .and_then(|v| v.as_str())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let too_large =
        declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) || req.body().len() > MAX_BODY_BYTES;
    if too_large {
        return Err(Problem::new(
            413,
            "body_too_large",
            "Request body too large",
            format!("request bodies are limited to {MAX_BODY_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// Parses the request body as JSON of type `T`.
pub fn json<T: DeserializeOwned>(req: &Request) -> Result<T, Problem> {
    check_size(req)?;
    let content_type = req
        .header("content-type")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case("application/json") {
        return Err(Problem::new(
            415,
            "unsupported_media_type",
            "Unsupported media type",
            "send the body as Content-Type: application/json".to_owned(),
        ));
    }
    serde_json::from_slice(req.body()).map_err(|e| invalid_body(&e.to_string()))
}

/// 400 for a body that is not what the endpoint takes.
pub fn invalid_body(why: &str) -> Problem {
    Problem::new(
        400,
        "invalid_body",
        "Invalid request body",
        format!("the request body is not valid: {why}"),
    )
}
