//! Turning the build output into a component, as `spin up` does.
//!
//! `cargo build --target wasm32-wasip1` produces a core module that carries
//! its WIT world in custom sections. Spin wraps such modules with
//! `wit_component::ComponentEncoder` and the WASI preview1 reactor adapter;
//! a file that is already a component is used as is.

use anyhow::{bail, Context, Result};
use wasmparser::{Encoding, Parser, Payload};

/// Returns component bytes for `bytes`, which may be a core module or a component.
pub fn componentize_if_necessary(bytes: Vec<u8>) -> Result<Vec<u8>> {
    match encoding(&bytes)? {
        Encoding::Component => Ok(bytes),
        Encoding::Module => wit_component::ComponentEncoder::default()
            .validate(true)
            .module(&bytes)
            .context("the core module has no usable component-type metadata")?
            .adapter(
                "wasi_snapshot_preview1",
                wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
            )
            .context("failed to add the WASI preview1 reactor adapter")?
            .encode()
            .context("failed to encode the module as a component"),
    }
}

fn encoding(bytes: &[u8]) -> Result<Encoding> {
    if let Some(payload) = Parser::new(0).parse_all(bytes).next() {
        if let Payload::Version { encoding, .. } = payload.context("not a WebAssembly binary")? {
            return Ok(encoding);
        }
    }
    bail!("not a WebAssembly binary")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_wasm() {
        assert!(componentize_if_necessary(b"hello".to_vec()).is_err());
    }

    #[test]
    fn passes_components_through() {
        // The smallest valid component: magic, version 0x0d, layer 1.
        let component = b"\0asm\x0d\0\x01\0".to_vec();
        assert_eq!(
            componentize_if_necessary(component.clone()).unwrap(),
            component
        );
    }
}
