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
//!
//! A body left unread when the answer goes out makes Spin close the
//! connection, and a client still sending it may then see a broken pipe
//! instead of the answer. So before answering, the entry point calls
//! [`Request::discard_unread_body`], which reads and drops what is left of a
//! body up to [`DISCARD_LIMIT_BYTES`].

use std::cell::{OnceCell, RefCell};

use spin_sdk::http::{Fields, IncomingRequest, Method};
use spin_sdk::wit::wasi::http0_2_0::types::IncomingBody;
use wasi::io::streams::{InputStream, StreamError};

/// The largest request body read: reading stops one byte past it.
pub(crate) const MAX_BODY_BYTES: usize = 128 * 1024;

/// How much of a request body is read, in all, before answering: what a
/// handler read and what [`Request::discard_unread_body`] drops. A client
/// that sends up to this much gets its answer (a 413 past
/// [`MAX_BODY_BYTES`]) on a connection that stays open; past it Spin closes
/// the connection after the answer. 1 MiB, nginx's default body limit, is
/// far above any body this API takes.
pub(crate) const DISCARD_LIMIT_BYTES: u64 = 1024 * 1024;

/// The largest read asked of the body stream at once.
const READ_CHUNK_BYTES: u64 = 64 * 1024;

/// An HTTP request, from Spin or built in code (tests).
pub(crate) struct Request {
    method: Method,
    path_with_query: String,
    /// The declared `Content-Length`, looked up on first use.
    content_length: OnceCell<Option<u64>>,
    /// The bearer token, looked up on first use.
    bearer: OnceCell<Option<String>>,
    source: Source,
}

/// Where headers and body come from.
enum Source {
    /// Spin's request, asked on first use. `headers` and `unread` are
    /// children of `incoming` and are declared first, so they are dropped
    /// first.
    Incoming {
        headers: OnceCell<Fields>,
        body: OnceCell<Result<Vec<u8>, String>>,
        /// The body's stream when reading stopped before its end.
        unread: RefCell<Option<OpenBody>>,
        incoming: IncomingRequest,
    },
    /// Given whole, by unit tests.
    #[cfg(test)]
    Parts {
        headers: Vec<(String, Vec<u8>)>,
        body: Vec<u8>,
    },
}

/// Why the body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// The stream failed, or the body was already taken.
    Unreadable(String),
    /// It is longer than [`MAX_BODY_BYTES`]; reading stopped there.
    TooLarge,
}

impl Request {
    /// Wraps Spin's request: two host calls, for the method and the path.
    pub(crate) fn from_incoming(incoming: IncomingRequest) -> Request {
        Request {
            method: incoming.method(),
            path_with_query: incoming.path_with_query().unwrap_or_default(),
            content_length: OnceCell::new(),
            bearer: OnceCell::new(),
            source: Source::Incoming {
                headers: OnceCell::new(),
                body: OnceCell::new(),
                unread: RefCell::new(None),
                incoming,
            },
        }
    }

    /// A request with no headers and an empty body.
    #[cfg(test)]
    pub(crate) fn new(method: Method, path_with_query: &str) -> Request {
        Request {
            method,
            path_with_query: path_with_query.to_owned(),
            content_length: OnceCell::new(),
            bearer: OnceCell::new(),
            source: Source::Parts {
                headers: Vec::new(),
                body: Vec::new(),
            },
        }
    }

    /// Adds a header (to a request built with [`Request::new`]).
    #[cfg(test)]
    pub(crate) fn with_header(mut self, name: &str, value: &str) -> Request {
        if let Source::Parts { headers, .. } = &mut self.source {
            headers.push((name.to_ascii_lowercase(), value.as_bytes().to_vec()));
        }
        self
    }

    /// Sets the body (of a request built with [`Request::new`]).
    #[cfg(test)]
    pub(crate) fn with_body(mut self, bytes: &[u8]) -> Request {
        if let Source::Parts { body, .. } = &mut self.source {
            *body = bytes.to_vec();
        }
        self
    }

    /// The method.
    pub(crate) fn method(&self) -> &Method {
        &self.method
    }

    /// The path as sent, still percent-encoded and not normalised (so ids
    /// reach their validators as sent). Spin gives the request target in
    /// origin form, without scheme, authority or fragment.
    pub(crate) fn path(&self) -> &str {
        &self.path_with_query[..self.query_at()]
    }

    /// The query string (after the first `?`), if any.
    pub(crate) fn query(&self) -> &str {
        self.path_with_query
            .get(self.query_at() + 1..)
            .unwrap_or("")
    }

    /// Where the query begins: the first `?`, found with a byte loop (see
    /// `router::route_request` on why not `split`), or the end.
    fn query_at(&self) -> usize {
        self.path_with_query
            .bytes()
            .position(|b| b == b'?')
            .unwrap_or(self.path_with_query.len())
    }

    /// The value of header `name` (lowercase), as bytes. A header sent more
    /// than once gives its last value, as spin-sdk's `Request` did.
    pub(crate) fn header_bytes(&self, name: &str) -> Option<Vec<u8>> {
        debug_assert!(!name.bytes().any(|b| b.is_ascii_uppercase()));
        match &self.source {
            Source::Incoming {
                headers, incoming, ..
            } => headers.get_or_init(|| incoming.headers()).get(name).pop(),
            #[cfg(test)]
            Source::Parts { headers, .. } => headers
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone()),
        }
    }

    /// The origin the request was sent to, `scheme://host`: the start of
    /// the `spin-full-url` header Spin adds to every request, made of the
    /// scheme of the listener that took it (`http` unless Spin serves TLS
    /// itself) and the request's `Host` header as sent. Empty when there is
    /// none. One header lookup, so asked only of requests that need it
    /// (rather than `incoming-request`'s `scheme` and `authority`: two host
    /// calls, and two more imports every instance links).
    pub(crate) fn own_origin(&self) -> String {
        #[cfg(test)]
        if let Source::Parts { .. } = &self.source {
            return self
                .header("host")
                .map_or_else(String::new, |host| format!("http://{host}"));
        }
        let Some(url) = self.header("spin-full-url") else {
            return String::new();
        };
        let Some((scheme, rest)) = url.split_once("://") else {
            return String::new();
        };
        let host = rest.find('/').map_or(rest, |end| &rest[..end]);
        format!("{scheme}://{host}")
    }

    /// The value of header `name` (lowercase) as text; `None` if absent or
    /// not UTF-8.
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        String::from_utf8(self.header_bytes(name)?).ok()
    }

    /// The token of `Authorization: Bearer <token>`, if the request sent
    /// one (the scheme in any case, the token trimmed, never empty);
    /// asked of the request once, however often it is wanted.
    pub(crate) fn bearer(&self) -> Option<&str> {
        self.bearer
            .get_or_init(|| {
                let value = self.header("authorization")?;
                let (scheme, token) = value.trim().split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then(|| token.trim())
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
            })
            .as_deref()
    }

    /// The declared `Content-Length`, if it is a number; asked of the
    /// request once, however often it is wanted.
    pub(crate) fn content_length(&self) -> Option<u64> {
        *self.content_length.get_or_init(|| {
            let value = self.header_bytes("content-length")?;
            std::str::from_utf8(&value).ok()?.trim().parse().ok()
        })
    }

    /// The body, read on first use, up to [`MAX_BODY_BYTES`].
    pub(crate) fn body(&self) -> Result<&[u8], BodyError> {
        let bytes: &[u8] = match &self.source {
            Source::Incoming {
                body,
                unread,
                incoming,
                ..
            } => match body.get_or_init(|| read_body(incoming, unread)) {
                Ok(bytes) => bytes,
                Err(why) => return Err(BodyError::Unreadable(why.clone())),
            },
            #[cfg(test)]
            Source::Parts { body, .. } => body,
        };
        if bytes.len() > MAX_BODY_BYTES {
            return Err(BodyError::TooLarge);
        }
        Ok(bytes)
    }

    /// Reads and drops what no handler read of the body, so that Spin can
    /// keep the connection and the client, done sending, reads the answer.
    /// At most [`DISCARD_LIMIT_BYTES`] are read in all; a body known to be
    /// longer is left for Spin to cut off.
    ///
    /// A body nobody opened is looked for only by its `Content-Length`
    /// (which every endpoint that takes a body has already asked for), and
    /// not on `GET` or `HEAD`: a small body sent without one, or chunked to
    /// an endpoint that takes none, is already in Spin's buffer or is the
    /// client's to lose.
    pub(crate) fn discard_unread_body(&self) {
        // Refutable only in unit tests, whose requests are given whole.
        #[allow(irrefutable_let_patterns)]
        let Source::Incoming {
            body,
            unread,
            incoming,
            ..
        } = &self.source
        else {
            return;
        };
        if let Some(open) = unread.borrow_mut().take() {
            let _ = open.read(DISCARD_LIMIT_BYTES - (MAX_BODY_BYTES as u64 + 1), None);
            return;
        }
        if body.get().is_some() || matches!(self.method, Method::Get | Method::Head) {
            return;
        }
        let declared = self.content_length().unwrap_or(0);
        if declared == 0 || declared > DISCARD_LIMIT_BYTES {
            return;
        }
        if let Ok(open) = OpenBody::open(incoming) {
            let _ = open.read(declared, None);
        }
    }
}

/// The method's name as the route table and request fingerprints spell it
/// (as spin-sdk's `Display` does), without allocating: every request needs
/// it. An extension method keeps its own spelling and matches no route.
pub(crate) fn method_name(method: &Method) -> &str {
    match method {
        Method::Get => "GET",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Delete => "DELETE",
        Method::Patch => "PATCH",
        Method::Head => "HEAD",
        Method::Options => "OPTIONS",
        Method::Connect => "CONNECT",
        Method::Trace => "TRACE",
        Method::Other(name) => name,
    }
}

/// A request body being read: its stream, and the body the stream belongs
/// to. Fields drop in order, so the stream (a child) goes first.
struct OpenBody {
    stream: InputStream,
    _body: IncomingBody,
}

impl OpenBody {
    /// Takes the body and its stream from the request (once per request).
    fn open(incoming: &IncomingRequest) -> Result<OpenBody, String> {
        let body = incoming
            .consume()
            .map_err(|()| "the body was already taken".to_owned())?;
        let stream = body
            .stream()
            .map_err(|()| "the body stream was already taken".to_owned())?;
        Ok(OpenBody {
            stream,
            _body: body,
        })
    }

    /// Reads up to `limit` bytes, appending them to `into` if given (else
    /// dropping them). Returns whether the body ended.
    fn read(&self, limit: u64, mut into: Option<&mut Vec<u8>>) -> Result<bool, String> {
        let mut left = limit;
        while left > 0 {
            match self.stream.blocking_read(left.min(READ_CHUNK_BYTES)) {
                Ok(chunk) => {
                    left = left.saturating_sub(chunk.len() as u64);
                    if let Some(into) = into.as_deref_mut() {
                        into.extend_from_slice(&chunk);
                    }
                }
                Err(StreamError::Closed) => return Ok(true),
                Err(StreamError::LastOperationFailed(e)) => return Err(e.to_debug_string()),
            }
        }
        Ok(false)
    }
}

/// Reads the body until it ends or passes [`MAX_BODY_BYTES`] (one byte more
/// is enough to know it is too large). A body that did not end is kept in
/// `unread`, for [`Request::discard_unread_body`].
fn read_body(
    incoming: &IncomingRequest,
    unread: &RefCell<Option<OpenBody>>,
) -> Result<Vec<u8>, String> {
    let open = OpenBody::open(incoming)?;
    let mut bytes = Vec::new();
    let ended = open.read(MAX_BODY_BYTES as u64 + 1, Some(&mut bytes))?;
    if !ended {
        *unread.borrow_mut() = Some(open);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_and_query_split_at_the_first_question_mark_as_sent() {
        for (target, path, query) in [
            ("/health?verbose", "/health", "verbose"),
            ("/api/events?limit=2", "/api/events", "limit=2"),
            ("/api/events", "/api/events", ""),
            ("/a?b?c", "/a", "b?c"),
            ("/a?", "/a", ""),
            ("/api/book/../x", "/api/book/../x", ""),
            ("/api/book/%FF", "/api/book/%FF", ""),
            ("", "", ""),
        ] {
            let req = Request::new(Method::Get, target);
            assert_eq!((req.path(), req.query()), (path, query), "{target:?}");
        }
    }

    #[test]
    fn bearer_tokens_are_read_in_any_scheme_case_and_never_empty() {
        let bearer = |value: &str| {
            Request::new(Method::Get, "/")
                .with_header("authorization", value)
                .bearer()
                .map(str::to_owned)
        };
        assert_eq!(bearer("Bearer abc").as_deref(), Some("abc"));
        assert_eq!(bearer("bearer  abc ").as_deref(), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(Request::new(Method::Get, "/").bearer(), None);
    }

    #[test]
    fn content_length_is_the_declared_number_or_none() {
        let with = |value: &str| {
            Request::new(Method::Post, "/")
                .with_header("Content-Length", value)
                .content_length()
        };
        assert_eq!(with(" 131073 "), Some(131_073));
        assert_eq!(with("12x"), None);
        assert_eq!(with("-1"), None);
        assert_eq!(Request::new(Method::Post, "/").content_length(), None);
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
