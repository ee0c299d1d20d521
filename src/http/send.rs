//! Hands a finished [`Response`] to Spin so that its head and a small body
//! leave in one TCP write.
//!
//! spin-sdk's default glue sets the response (head) first and writes the
//! body after it. Spin's HTTP server may then send the head at once and the
//! body in a second small segment, which Nagle's algorithm holds back until
//! the client acknowledges the head; a client that delays its ACK (Linux
//! does, up to 40 ms) stalls the request. Measured on Spin 4.0.2 with one
//! keep-alive connection, about half of the bookings took 40 ms that way.
//! So a body that fits in what the stream accepts before the head is sent
//! is written and finished first, and the response is set after it: Spin
//! then has head and body together. A larger body (the seat map of a big
//! event) is streamed after the head as before, since writing more than
//! the stream accepts before the head is set would wait forever.

use spin_sdk::http::{Fields, OutgoingBody, OutgoingResponse, ResponseOutparam};

use super::response::Response;

/// Sends `response` through `out`, body first when it fits.
pub(crate) fn send(response: Response, out: ResponseOutparam) {
    let (status, headers, body) = response.into_parts();
    let entries: Vec<(String, Vec<u8>)> = headers
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.into_owned().into_bytes()))
        .collect();
    let fields = match Fields::from_list(&entries) {
        Ok(fields) => fields,
        Err(e) => {
            eprintln!("could not set the response headers: {e:?}");
            return;
        }
    };
    let outgoing = OutgoingResponse::new(fields);
    if outgoing.set_status_code(status).is_err() {
        eprintln!("could not set the response status {status}");
        return;
    }
    let Ok(outgoing_body) = outgoing.body() else {
        eprintln!("the response body was already taken");
        return;
    };
    let Ok(stream) = outgoing_body.write() else {
        eprintln!("the response body is not writable");
        return;
    };
    // What the stream takes now, without waiting for anyone to read it.
    let room = stream.check_write().unwrap_or(0);
    if body.len() as u64 <= room {
        let written = body.is_empty() || stream.write(&body).is_ok();
        drop(stream);
        if written {
            let _ = OutgoingBody::finish(outgoing_body, None);
        }
        out.set(outgoing);
        return;
    }
    out.set(outgoing);
    for chunk in body.chunks(4096) {
        if let Err(e) = stream.blocking_write_and_flush(chunk) {
            eprintln!("could not write the response body: {e}");
            return;
        }
    }
    drop(stream);
    let _ = OutgoingBody::finish(outgoing_body, None);
}
