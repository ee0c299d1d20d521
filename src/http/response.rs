//! The answer a handler returns: status, headers and body, which
//! [`super::send`] hands to Spin; and the JSON answers every handler makes.
//!
//! Not spin-sdk's `Response`: that keeps headers in a `HashMap`, whose first
//! use in an instance asks the host for random hash keys (a `random_get`
//! host call, about 9,000 instructions under `callgrind`) and lowercases
//! every name again. An answer has a handful of headers, all named by
//! constants in lowercase, so a list does.

use std::borrow::Cow;

use serde::Serialize;

/// A header value: most are constants, some are made per request.
pub(crate) type HeaderValue = Cow<'static, str>;

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    status: u16,
    headers: Vec<(&'static str, HeaderValue)>,
    body: Vec<u8>,
}

impl Response {
    /// An answer with `status`, no headers and `body`.
    pub(crate) fn new(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Builds an answer step by step (status 200 until set).
    pub(crate) fn builder() -> ResponseBuilder {
        ResponseBuilder {
            response: Response::new(200, Vec::new()),
        }
    }

    /// The status code.
    #[cfg(test)]
    pub(crate) fn status(&self) -> u16 {
        self.status
    }

    /// The value of header `name` (lowercase), if set.
    #[cfg(test)]
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_ref())
    }

    /// Sets header `name` (lowercase), replacing any value it had.
    pub(crate) fn set_header(&mut self, name: &'static str, value: impl Into<HeaderValue>) {
        debug_assert!(!name.bytes().any(|b| b.is_ascii_uppercase()));
        let value = value.into();
        match self.headers.iter_mut().find(|(n, _)| *n == name) {
            Some((_, old)) => *old = value,
            None => self.headers.push((name, value)),
        }
    }

    /// The body.
    #[cfg(test)]
    pub(crate) fn body(&self) -> &[u8] {
        &self.body
    }

    /// The answer to a `HEAD`: this one's status and headers, no body.
    pub(crate) fn without_body(mut self) -> Response {
        self.body.clear();
        self
    }

    /// Status, headers and body, for sending.
    pub(crate) fn into_parts(self) -> (u16, Vec<(&'static str, HeaderValue)>, Vec<u8>) {
        (self.status, self.headers, self.body)
    }
}

/// Builds a [`Response`], in the style of spin-sdk's builder.
#[derive(Debug)]
pub(crate) struct ResponseBuilder {
    response: Response,
}

impl ResponseBuilder {
    /// Sets the status code.
    pub(crate) fn status(&mut self, status: u16) -> &mut Self {
        self.response.status = status;
        self
    }

    /// Sets header `name` (lowercase), replacing any value it had.
    pub(crate) fn header(
        &mut self,
        name: &'static str,
        value: impl Into<HeaderValue>,
    ) -> &mut Self {
        self.response.set_header(name, value);
        self
    }

    /// Sets the body.
    pub(crate) fn body(&mut self, body: impl Into<Vec<u8>>) -> &mut Self {
        self.response.body = body.into();
        self
    }

    /// The answer built so far.
    pub(crate) fn build(&mut self) -> Response {
        std::mem::replace(&mut self.response, Response::new(200, Vec::new()))
    }
}

/// A JSON response with the given status.
pub(crate) fn json(status: u16, body: &impl Serialize) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(to_json(body))
        .build()
}

/// `body` as JSON bytes. Serialising our own plain structs and values
/// cannot fail; fall back to `{}` rather than panic.
pub(crate) fn to_json(body: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec())
}

/// A state-changing answer as the store returned it (first time or
/// replayed): status, optional `Location`, JSON body. Replays say so in
/// `Idempotent-Replayed: true`. Never stored by a cache (`no-store`): these
/// answers carry the secret tokens (hold, booking, ticket), and a copy in
/// a shared cache would hand them to the next client asking.
pub(crate) fn stored_answer(status: u16, location: &str, body: String, replayed: bool) -> Response {
    let mut builder = Response::builder();
    builder
        .status(status)
        .header("content-type", "application/json")
        .header("cache-control", "no-store");
    if !location.is_empty() {
        builder.header("location", location.to_owned());
    }
    if replayed {
        builder.header("idempotent-replayed", "true");
    }
    builder.body(body).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_set_twice_keeps_its_last_value() {
        let res = Response::builder()
            .status(201)
            .header("content-type", "application/json")
            .header("location", "/a".to_owned())
            .header("content-type", "text/plain")
            .body("hi")
            .build();
        assert_eq!(res.status(), 201);
        assert_eq!(res.header("content-type"), Some("text/plain"));
        assert_eq!(res.header("location"), Some("/a"));
        assert_eq!(res.header("etag"), None);
        assert_eq!(res.body(), b"hi");
        let (_, headers, _) = res.into_parts();
        assert_eq!(headers.len(), 2);
    }

    /// Every state change's answer, first or replayed, carries a token or
    /// may: no cache keeps it.
    #[test]
    fn stored_answers_are_never_stored_by_a_cache() {
        for replayed in [false, true] {
            let res = stored_answer(201, "/a", "{}".to_owned(), replayed);
            assert_eq!(res.header("cache-control"), Some("no-store"));
            assert_eq!(res.header("location"), Some("/a"));
        }
    }
}
