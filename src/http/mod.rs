//! The HTTP glue, between Spin and the handlers: the request as handlers
//! read it (`request`), whether a state change came from another site's
//! page (`origin`), what a state-changing request brings, read and
//! checked once (`submission`), JSON bodies (`body`), the answer
//! (`response`) and its problem details (`problem`, with the catalogue of
//! every code), and handing the answer back to Spin (`send`).
//!
//! Nothing here knows a resource or Redis: handlers call down into it, it
//! calls nothing above it.

pub(crate) mod body;
pub(crate) mod client;
pub(crate) mod origin;
pub(crate) mod problem;
pub(crate) mod request;
pub(crate) mod response;
pub(crate) mod send;
pub(crate) mod submission;

pub(crate) use problem::{Kind, Problem};
pub(crate) use request::Request;
pub(crate) use response::Response;
