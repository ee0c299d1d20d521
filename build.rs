//! Build steps of the component that `Cargo.toml` cannot express: the Lua
//! scripts assembled from their pieces (`build/lua_scripts.rs`), and the
//! size of the component's shadow stack.
//!
//! Spin makes a fresh instance of the component for every request, and an
//! instance's cost grows with its initial linear memory, most of which is
//! rustc's default 1 MiB shadow stack (see docs/performance.md). The
//! component's deepest call chains (JSON bodies nested to serde_json's
//! limit of 128 on every POST route, the 50,000-seat map) all answer
//! correctly with half of STACK_BYTES. Running out of it would trap the
//! instance (Spin answers 500), never corrupt memory: the stack sits below
//! the data. `integration/tests/instance_size.rs` checks the built module.

#[path = "build/lua_scripts.rs"]
mod lua_scripts;

use std::path::Path;

use anyhow::{Context, Result};

/// The component's shadow stack, in bytes.
const STACK_BYTES: u32 = 128 * 1024;

fn main() -> Result<()> {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=-zstack-size={STACK_BYTES}");
    }

    let scripts_dir = Path::new("src/store/scripts");
    println!("cargo:rerun-if-changed=build/lua_scripts.rs");
    println!("cargo:rerun-if-changed={}", scripts_dir.display());
    println!(
        "cargo:rerun-if-changed={}",
        scripts_dir.join("lib").display()
    );
    let scripts = lua_scripts::assemble_all(scripts_dir).context("assembling the Lua scripts")?;
    let out =
        Path::new(&std::env::var("OUT_DIR").context("OUT_DIR is not set")?).join("scripts.rs");
    let constants = lua_scripts::rust_constants(&scripts, &scripts_dir.join("lib"))
        .context("writing the script constants")?;
    std::fs::write(&out, constants).with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}
