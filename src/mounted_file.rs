//! Files Spin mounts into the component (`files` in `spin.toml`): the seat
//! map page and the OpenAPI document.
//!
//! They are read on the few requests that serve them rather than built into
//! the component, because everything built in is data that Spin copies into
//! every new instance, one instance per request: `perf` of `spin up` under
//! load put about 0.15 µs per KB of data segment in `memmove` on every
//! request, bookings included, and these files are 135 KB of it.
//!
//! Paths are mounted at the same place they have in the repository, so the
//! same relative path names the file under Spin (from the mount root, `/`)
//! and in native unit tests (from the crate root).
//!
//! Under Spin the file is read through `wasi:filesystem` itself, not
//! `std::fs`: linking `std::fs` makes wasi-libc list the preopened
//! directories when every instance starts, and that cost every request
//! about 60 µs of Spin's CPU (measured: the yardstick with `std::fs` linked
//! but never called ran 995 → 1,056 µs a booking).

use crate::http::Problem;

/// The OpenAPI document.
pub const OPENAPI: &str = "api/openapi.json";
/// The seat map page's HTML document.
pub const PAGE_HTML: &str = "web/index.html";
/// The page's style sheet.
pub const PAGE_CSS: &str = "web/page.css";
/// The page's script.
pub const PAGE_JS: &str = "web/page.js";

/// Reads a mounted file. A missing file is a deployment without the
/// manifest's `files`: 500 `misconfigured`, naming the file.
pub fn read(path: &str) -> Result<String, Problem> {
    read_text(path).map_err(|why| {
        eprintln!("cannot read the mounted file {path}: {why}");
        Problem::misconfigured(&format!(
            "the file {path} is missing from the deployment (spin.toml `files`)"
        ))
    })
}

/// The file at `path` under the preopened root directory, as UTF-8.
#[cfg(target_arch = "wasm32")]
fn read_text(path: &str) -> Result<String, String> {
    use wasi::filesystem::preopens::get_directories;
    use wasi::filesystem::types::{DescriptorFlags, OpenFlags, PathFlags};

    let (root, _) = get_directories()
        .into_iter()
        .find(|(_, name)| name == "/")
        .ok_or("no directory is mounted at /")?;
    let file = root
        .open_at(
            PathFlags::empty(),
            path,
            OpenFlags::empty(),
            DescriptorFlags::READ,
        )
        .map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    loop {
        let (chunk, end) = file
            .read(64 * 1024, bytes.len() as u64)
            .map_err(|e| e.to_string())?;
        bytes.extend_from_slice(&chunk);
        if end || chunk.is_empty() {
            break;
        }
    }
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

/// Natively (unit tests), the file relative to the working directory.
#[cfg(not(target_arch = "wasm32"))]
fn read_text(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mounted_file_is_readable_from_the_crate_root() {
        for path in [OPENAPI, PAGE_HTML, PAGE_CSS, PAGE_JS] {
            assert!(!read(path).unwrap().is_empty(), "{path}");
        }
    }

    #[test]
    fn a_missing_file_is_a_misconfiguration() {
        let problem = read("web/missing.js").unwrap_err();
        assert_eq!(problem.kind.status(), 500);
        assert_eq!(problem.kind.code(), "misconfigured");
        assert!(problem.detail.contains("web/missing.js"));
    }

    #[test]
    fn the_manifest_mounts_every_file_where_the_component_reads_it() {
        let manifest = std::fs::read_to_string("spin.toml").unwrap();
        let files = manifest
            .lines()
            .find(|l| l.starts_with("files = "))
            .expect("spin.toml mounts files");
        for path in [OPENAPI, "web/*"] {
            assert!(files.contains(&format!("\"{path}\"")), "{path}: {files}");
        }
    }
}
