//! Host bindings generated from `host/wit/spin.wit`.
//!
//! Kept in one place so the rest of the crate names the generated Spin types
//! (`fermyon::spin::redis`, `fermyon::spin::variables`) the same way. The
//! `connection` resource is backed by [`crate::redis::RedisConnection`].

wasmtime::component::bindgen!({
    path: "wit",
    world: "host",
    imports: { default: async },
    with: {
        "fermyon:spin/redis.connection": crate::redis::RedisConnection,
    },
});
