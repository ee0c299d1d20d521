//! The yardstick is linked with the product's shadow stack size (see the
//! product's `build.rs`): that size sets how much memory Spin prepares for
//! every instance, so with rustc's default 1 MiB here the ratio would
//! compare build settings, not the work each request does.

/// Must equal `STACK_BYTES` in the product's `build.rs`.
const STACK_BYTES: u32 = 128 * 1024;

fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=-zstack-size={STACK_BYTES}");
    }
}
