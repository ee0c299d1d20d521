//! Reading JSON request bodies with the limits every POST shares: at most
//! [`MAX_BODY_BYTES`] (413 otherwise), `Content-Type: application/json`
//! (415 otherwise), and a body that parses into the expected shape with no
//! unknown fields (400 otherwise, naming what was wrong).

use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde::Deserialize;

pub(crate) use super::request::MAX_BODY_BYTES;
use super::request::{BodyError, Request};
use super::{Kind, Problem};

/// Checks the size the request declares (`Content-Length`), without
/// reading the body. Endpoints that take no body call only this: their
/// body is read only when an Idempotency-Key fingerprints it ([`bytes`]).
pub(crate) fn check_size(req: &Request) -> Result<(), Problem> {
    if req
        .content_length()
        .is_some_and(|n| n > MAX_BODY_BYTES as u64)
    {
        return Err(too_large());
    }
    Ok(())
}

/// The request body: 413 past [`MAX_BODY_BYTES`] (reading stops there, so
/// a body declared larger is refused from what was read, with the same
/// answer [`check_size`] gives), 400 when the stream fails. Handlers that
/// have already called `check_size` do not pay for its header read twice.
pub(crate) fn bytes(req: &Request) -> Result<&[u8], Problem> {
    req.body().map_err(|e| match e {
        BodyError::TooLarge => too_large(),
        BodyError::Unreadable(why) => Problem::new(
            Kind::UnreadableBody,
            format!("the request body could not be read: {why}"),
        ),
    })
}

fn too_large() -> Problem {
    Problem::new(
        Kind::BodyTooLarge,
        format!("request bodies are limited to {MAX_BODY_BYTES} bytes"),
    )
}

/// Parses the request body as JSON of type `T`.
pub(crate) fn json<T: DeserializeOwned>(req: &Request) -> Result<T, Problem> {
    // A body declared over the limit is refused before any of it is read.
    check_size(req)?;
    let body = bytes(req)?;
    let content_type = req.header("content-type").unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case("application/json") {
        return Err(Problem::new(
            Kind::UnsupportedMediaType,
            "send the body as Content-Type: application/json",
        ));
    }
    serde_json::from_slice(body).map_err(|e| invalid_body(&e.to_string()))
}

/// 400 for a body that is not what the endpoint takes.
pub(crate) fn invalid_body(why: &str) -> Problem {
    Problem::new(
        Kind::InvalidBody,
        format!("the request body is not valid: {why}"),
    )
}

/// Deserializes a count: any JSON number with no fractional part (`30` or
/// `30.0`: JSON does not tell them apart), from 0 to `u32::MAX`.
pub(crate) fn whole_number<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = f64::deserialize(d)?;
    if n.fract() != 0.0 || !(0.0..=f64::from(u32::MAX)).contains(&n) {
        return Err(D::Error::custom(format!(
            "expected a whole number from 0 to {}, got {n}",
            u32::MAX
        )));
    }
    Ok(n as u32)
}

/// Like [`whole_number`], for optional fields.
pub(crate) fn optional_whole_number<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<u32>, D::Error> {
    Option::<f64>::deserialize(d)?
        .map(|n| whole_number(serde::de::value::F64Deserializer::<D::Error>::new(n)))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Count {
        #[serde(deserialize_with = "whole_number")]
        n: u32,
        #[serde(default, deserialize_with = "optional_whole_number")]
        m: Option<u32>,
    }

    fn parse(json: &str) -> Result<Count, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn whole_numbers_may_be_written_with_a_zero_fraction() {
        assert_eq!(parse(r#"{"n":30}"#).unwrap().n, 30);
        assert_eq!(parse(r#"{"n":30.0,"m":2.0}"#).unwrap().m, Some(2));
        assert_eq!(parse(r#"{"n":1,"m":null}"#).unwrap().m, None);
        assert_eq!(parse(r#"{"n":1}"#).unwrap().m, None);
    }

    #[test]
    fn fractions_negatives_and_huge_numbers_are_refused() {
        for bad in [
            r#"{"n":1.5}"#,
            r#"{"n":-1}"#,
            r#"{"n":1e12}"#,
            r#"{"n":"1"}"#,
            r#"{"n":1,"m":-2}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
