//! What a state-changing request brings beside its path, read and checked
//! once before the operation runs: the body's size (and, for endpoints
//! that take one, its JSON), the bearer token, and the `Idempotency-Key`
//! with the fingerprint of the request it names.
//!
//! A handler parses its path ids, reads its [`Submission`] here, runs one
//! store operation and renders the answer: no step reads a header or the
//! body a second time, and nothing here calls back into a handler.

use serde::de::DeserializeOwned;

use super::request::{method_name, Request};
use super::{body, Kind, Problem};
use crate::idempotency::Idempotency;
use crate::token;

/// A state-changing request's headers and body, checked.
pub(crate) struct Submission<'r> {
    req: &'r Request,
    /// The request's `Idempotency-Key`, if it sent one.
    pub(crate) idempotency: Option<Idempotency>,
}

impl<'r> Submission<'r> {
    /// For an endpoint that takes no body: a `Content-Length` over the
    /// limit is refused without reading, and the body is read only when an
    /// `Idempotency-Key` fingerprints it.
    pub(crate) fn without_body(req: &'r Request, path: &str) -> Result<Submission<'r>, Problem> {
        body::check_size(req)?;
        Submission::read(req, path)
    }

    /// For an endpoint that takes a JSON body of type `T`: the body is read,
    /// its media type checked and parsed first, then the headers.
    pub(crate) fn with_json<T: DeserializeOwned>(
        req: &'r Request,
        path: &str,
    ) -> Result<(Submission<'r>, T), Problem> {
        let input = body::json(req)?;
        Ok((Submission::read(req, path)?, input))
    }

    fn read(req: &'r Request, path: &str) -> Result<Submission<'r>, Problem> {
        let idempotency = idempotency(req, path)?;
        Ok(Submission { req, idempotency })
    }

    /// `Authorization: Bearer <token>`, if the request sent one: a hold,
    /// booking or ticket token, the admin token, or a waiting-room access
    /// token, as the endpoint takes. Read from the request on first use
    /// only (a booking without a token never asks), then kept.
    pub(crate) fn bearer(&self) -> Option<&'r str> {
        self.req.bearer()
    }
}

/// Reads the request's `Idempotency-Key`, fingerprinting the request: its
/// method, path, bearer token (so a replay needs the same credentials) and
/// body. Without the header nothing else is read (the body of an endpoint
/// that takes none stays unread).
fn idempotency(req: &Request, path: &str) -> Result<Option<Idempotency>, Problem> {
    let Some(header) = req.header_bytes("idempotency-key") else {
        return Ok(None);
    };
    let target = match req.bearer() {
        Some(token) => format!("{path} {}", token::hash(token)),
        None => path.to_owned(),
    };
    let body = body::bytes(req)?;
    Idempotency::from_header(&header, method_name(req.method()), &target, body)
        .map(Some)
        .map_err(|why| Problem::new(Kind::InvalidIdempotencyKey, why))
}

#[cfg(test)]
mod tests {
    use super::*;
    use spin_sdk::http::Method;

    const KEY: &str = "6b0e2f4a-93c1-4d7e-a58b-1f2c3d4e5a6b";

    #[test]
    fn the_key_is_none_without_the_header_and_400_for_a_bad_one() {
        let plain = Request::new(Method::Post, "/api/book/A-1").with_body(b"{}");
        let read = Submission::without_body(&plain, "/api/book/A-1").unwrap();
        assert_eq!(read.idempotency, None);
        let bad = Request::new(Method::Post, "/api/book/A-1").with_header("idempotency-key", "a b");
        let Err(problem) = Submission::without_body(&bad, "/api/book/A-1") else {
            panic!("a bad key is refused");
        };
        assert_eq!(problem.kind, Kind::InvalidIdempotencyKey);
        let guessable =
            Request::new(Method::Post, "/api/book/A-1").with_header("idempotency-key", "k1");
        let Err(problem) = Submission::without_body(&guessable, "/api/book/A-1") else {
            panic!("a guessable key is refused");
        };
        assert_eq!(problem.kind, Kind::InvalidIdempotencyKey);
        assert!(problem.detail.contains("128 bits"), "{}", problem.detail);
        let good = Request::new(Method::Post, "/api/book/A-1").with_header("idempotency-key", KEY);
        let read = Submission::without_body(&good, "/api/book/A-1").unwrap();
        assert!(read.idempotency.is_some());
    }

    /// A replay needs the same credentials: the bearer token is part of
    /// the fingerprint, so the same key and body with another token is a
    /// different request (on endpoints that take no token too).
    #[test]
    fn the_bearer_token_is_part_of_the_fingerprint() {
        let with = |token: &str| {
            let req = Request::new(Method::Post, "/p")
                .with_header("idempotency-key", KEY)
                .with_header("authorization", &format!("Bearer {token}"));
            let read = Submission::without_body(&req, "/p").unwrap();
            assert_eq!(read.bearer(), Some(token));
            read.idempotency.unwrap().fingerprint().to_owned()
        };
        assert_eq!(with("t1"), with("t1"));
        assert_ne!(with("t1"), with("t2"));
    }
}
