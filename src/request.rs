//! The request as handlers read it: its method and path at once, a header
//! or the body only when a handler asks for it.
//!
//! spin-sdk's `Request` reads everything up front: the full URI (three host
//! calls and a parse), every header into a `HashMap` (whose first use in an
//! instance asks the host for random hash keys) and the whole body. Each
//! host call costs Spin about 8,000 instructions, and a profile under
//! `callgrind` put that conversion at 165,000 instructions of a seed
//! booking, which reads one header and no body. Here the method and path
//! cost one host call each, a header one `get` on the request's headers,
//! and a body that no handler reads is never fetched.

use std::cell::OnceCell;

use spin_sdk::http::{Fields, IncomingRequest, Method};
use wasi::io::streams::StreamError;

/// The largest request body read: reading stops one byte past it.
pub const MAX_BODY_BYTES: usize = 128 * 1024;

/// An HTTP request, from Spin or built in code (tests).
pub struct Request {
    method: Method,
    path_with_query: String,
    source: Source,
}

/// Where headers and body come from.
enum Source {
    /// Spin's request, asked on first use. `headers` is a child of
    /// `incoming` and is declared first, so it is dropped first.
    Incoming {
        headers: OnceCell<Fields>,
        body: OnceCell<Result<Vec<u8>, String>>,
        incoming: IncomingRequest,
    },
    /// Given whole.
    Parts {
        headers: Vec<(String, Vec<u8>)>,
        body: Vec<u8>,
    },
}

/// Why the body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// The stream failed, or the body was already taken.
    Unreadable(String),
    /// It is longer than [`MAX_BODY_BYTES`]; reading stopped there.
    TooLarge,
}

impl Request {
    /// Wraps Spin's request: two host calls, for the method and the path.
    pub fn from_incoming(incoming: IncomingRequest) -> Request {
        Request {
            method: incoming.method(),
            path_with_query: incoming.path_with_query().unwrap_or_default(),
            source: Source::Incoming {
                headers: OnceCell::new(),
                body: OnceCell::new(),
                incoming,
            },
        }
    }

    /// A request with no headers and an empty body.
    pub fn new(method: Method, path_with_query: &str) -> Request {
        Request {
            method,
            path_with_query: path_with_query.to_owned(),
            source: Source::Parts {
                headers: Vec::new(),
                body: Vec::new(),
            },
        }
    }

    /// Adds a header (to a request built with [`Request::new`]).
    pub fn with_header(mut self, name: &str, value: &str) -> Request {
        if let Source::Parts { headers, .. } = &mut self.source {
            headers.push((name.to_ascii_lowercase(), value.as_bytes().to_vec()));
        }
        self
    }

    /// Sets the body (of a request built with [`Request::new`]).
    pub fn with_body(mut self, bytes: &[u8]) -> Request {
        if let Source::Parts { body, .. } = &mut self.source {
            *body = bytes.to_vec();
        }
        self
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path and query as sent, still percent-encoded.
    pub fn path_with_query(&self) -> &str {
        &self.path_with_query
    }

    /// The query string (after `?`), if any.
    pub fn query(&self) -> &str {
        self.path_with_query
            .split_once('?')
            .map_or("", |(_, query)| query)
    }

    /// The value of header `name` (lowercase), as bytes. A header sent more
    /// than once gives its last value, as spin-sdk's `Request` did.
    pub fn header_bytes(&self, name: &str) -> Option<Vec<u8>> {
        debug_assert!(!name.bytes().any(|b| b.is_ascii_uppercase()));
        match &self.source {
            Source::Incoming {
                headers, incoming, ..
            } => headers.get_or_init(|| incoming.headers()).get(name).pop(),
            Source::Parts { headers, .. } => headers
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone()),
        }
    }

    /// The value of header `name` (lowercase) as text; `None` if absent or
    /// not UTF-8.
    pub fn header(&self, name: &str) -> Option<String> {
        String::from_utf8(self.header_bytes(name)?).ok()
    }

    /// The body, read on first use, up to [`MAX_BODY_BYTES`].
    pub fn body(&self) -> Result<&[u8], BodyError> {
        let bytes: &[u8] = match &self.source {
            Source::Incoming { body, incoming, .. } => {
                match body.get_or_init(|| read_body(incoming)) {
                    Ok(bytes) => bytes,
                    Err(why) => return Err(BodyError::Unreadable(why.clone())),
                }
            }
            Source::Parts { body, .. } => body,
        };
        if bytes.len() > MAX_BODY_BYTES {
            return Err(BodyError::TooLarge);
        }
        Ok(bytes)
    }
}

/// Reads the body until it ends or passes [`MAX_BODY_BYTES`] (one byte more
/// is enough to know it is too large; the rest is never read).
fn read_body(incoming: &IncomingRequest) -> Result<Vec<u8>, String> {
    let body = incoming
        .consume()
        .map_err(|()| "the body was already taken".to_owned())?;
    let mut bytes = Vec::new();
    {
        let stream = body
            .stream()
            .map_err(|()| "the body stream was already taken".to_owned())?;
        while bytes.len() <= MAX_BODY_BYTES {
            let want = (MAX_BODY_BYTES + 1 - bytes.len()).min(64 * 1024) as u64;
            match stream.blocking_read(want) {
                Ok(chunk) => bytes.extend_from_slice(&chunk),
                Err(StreamError::Closed) => break,
                Err(StreamError::LastOperationFailed(e)) => return Err(e.to_debug_string()),
            }
        }
        // The stream, a child of the body, goes before it.
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_is_what_follows_the_question_mark() {
        assert_eq!(
            Request::new(Method::Get, "/api/events?limit=2").query(),
            "limit=2"
        );
        assert_eq!(Request::new(Method::Get, "/api/events").query(), "");
        assert_eq!(Request::new(Method::Get, "/a?b?c").query(), "b?c");
    }

    #[test]
    fn built_headers_are_found_by_lowercase_name_last_value_winning() {
        let req = Request::new(Method::Post, "/")
            .with_header("Idempotency-Key", "first")
            .with_header("idempotency-key", "second");
        assert_eq!(req.header("idempotency-key").as_deref(), Some("second"));
        assert_eq!(req.header("content-type"), None);
    }

    #[test]
    fn a_built_body_is_given_back() {
        let req = Request::new(Method::Post, "/").with_body(b"{}");
        assert_eq!(req.body(), Ok(&b"{}"[..]));
    }
}
