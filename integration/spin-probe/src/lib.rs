//! A test-only Spin HTTP component for `integration/tests/spin_behaviour.rs`:
//! it does on request what the seat booking component must never do, so the
//! tests can pin what real Spin does then.
//!
//! - `GET /panic` panics (a trap in the guest);
//! - any other path answers 200 `probe ok`.

use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

/// The path whose request panics the component.
const PANIC_PATH: &str = "/panic";

/// Spin calls this once per HTTP request.
#[http_component]
fn handle(req: Request) -> Response {
    if req.path() == PANIC_PATH {
        panic!("spin-probe: panicking on purpose for {PANIC_PATH}");
    }
    Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body("probe ok")
        .build()
}
