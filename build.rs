//! Build settings of the component that `Cargo.toml` cannot express.
//!
//! Spin makes a fresh instance of the component for every request, and an
//! instance's cost grows with its initial linear memory, most of which is
//! rustc's default 1 MiB shadow stack: `perf` of `spin up` under load put
//! about 140 µs per request in `memset` with it, 35 µs with 128 KiB. The
//! component's deepest call chains (JSON bodies nested to serde_json's
//! limit of 128 on every POST route, the 50,000-seat map) all answered
//! correctly with 64 KiB, so STACK_BYTES leaves twice that. Running out of
//! it would trap the instance (Spin answers 500), never corrupt memory: the
//! stack sits below the data. `integration/tests/instance_size.rs` checks
//! the built module.

/// The component's shadow stack, in bytes.
const STACK_BYTES: u32 = 128 * 1024;

fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=-zstack-size={STACK_BYTES}");
    }
}
