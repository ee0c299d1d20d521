//! What Spin prepares for every instance of the component, one instance per
//! request: its initial linear memory (shadow stack plus data segment),
//! read from the built module. Both costs were measured with `perf` under
//! load (about 0.1 µs of `memset` per KB of initial memory and 0.15 µs of
//! `memmove` per KB of data, on every request), so a regression here is a
//! slower booking. The limits are the product's `build.rs` and
//! `mounted_file.rs`: the page and the OpenAPI document stay out of the
//! module, and `std::fs` out of the link (wasi-libc would list the
//! preopened directories as every instance starts, about 60 µs a request).

use integration::{build_component, root};

/// The component's module, built first (once per test process, as the
/// Spin tests build it), so these checks never read a stale or missing file.
fn built_module() -> Vec<u8> {
    build_component();
    let path = root().join("target/wasm32-wasip1/release/seat_booking.wasm");
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Reads an unsigned LEB128 number at `*at`.
fn leb128(bytes: &[u8], at: &mut usize) -> u64 {
    let (mut value, mut shift) = (0u64, 0);
    loop {
        let byte = bytes[*at];
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return value;
        }
        shift += 7;
    }
}

/// The names (`module name`) of the functions the module imports.
fn imports(wasm: &[u8]) -> Vec<String> {
    let mut at = 8;
    while at < wasm.len() {
        let id = wasm[at];
        at += 1;
        let size = leb128(wasm, &mut at) as usize;
        if id == 2 {
            let mut p = at;
            let mut names = Vec::new();
            for _ in 0..leb128(wasm, &mut p) {
                let mut name = || {
                    let len = leb128(wasm, &mut p) as usize;
                    p += len;
                    String::from_utf8_lossy(&wasm[p - len..p]).into_owned()
                };
                let (module, field) = (name(), name());
                assert_eq!(wasm[p], 0, "{module} {field}: only functions are imported");
                p += 1;
                leb128(wasm, &mut p);
                names.push(format!("{module} {field}"));
            }
            return names;
        }
        at += size;
    }
    Vec::new()
}

/// The module's memory layout: where its first data segment starts (the
/// linker puts the shadow stack below it) and how many data bytes it has.
struct Layout {
    stack_bytes: u64,
    data_bytes: u64,
}

fn layout(wasm: &[u8]) -> Layout {
    assert_eq!(&wasm[..8], b"\0asm\x01\0\0\0", "a core wasm module");
    let mut at = 8;
    while at < wasm.len() {
        let id = wasm[at];
        at += 1;
        let size = leb128(wasm, &mut at) as usize;
        let end = at + size;
        if id == 11 {
            let (mut p, mut data_bytes, mut first_offset) = (at, 0, None);
            for _ in 0..leb128(wasm, &mut p) {
                assert_eq!(wasm[p], 0, "an active segment of memory 0");
                assert_eq!(wasm[p + 1], 0x41, "at an i32.const offset");
                p += 2;
                let offset = leb128(wasm, &mut p);
                assert_eq!(wasm[p], 0x0b);
                p += 1;
                let len = leb128(wasm, &mut p);
                first_offset.get_or_insert(offset);
                data_bytes += len;
                p += len as usize;
            }
            return Layout {
                stack_bytes: first_offset.expect("a data segment"),
                data_bytes,
            };
        }
        at = end;
    }
    panic!("no data section");
}

/// The `STACK_BYTES` a `build.rs` declares.
fn declared_stack(build_rs: &str) -> u64 {
    let text = std::fs::read_to_string(root().join(build_rs)).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("const STACK_BYTES: u32 = "))
        .unwrap_or_else(|| panic!("{build_rs} declares STACK_BYTES"));
    let expr = line
        .trim_start_matches("const STACK_BYTES: u32 = ")
        .trim_end_matches(';');
    expr.split('*')
        .map(|n| n.trim().parse::<u64>().unwrap())
        .product()
}

#[test]
fn the_component_starts_with_a_small_stack_and_no_bundled_files() {
    let wasm = built_module();
    let layout = layout(&wasm);
    let stack = declared_stack("build.rs");
    assert_eq!(
        layout.stack_bytes, stack,
        "the linker used build.rs's stack size"
    );
    assert!(stack <= 128 * 1024, "rustc's default stack is 1 MiB");
    assert!(
        layout.data_bytes < 128 * 1024,
        "{} bytes of data: is something big built in again?",
        layout.data_bytes
    );
}

#[test]
fn the_component_does_not_link_wasi_libc_preopens() {
    let wasm = built_module();
    let imports = imports(&wasm);
    assert!(
        imports.iter().any(|i| i.contains("get-directories")),
        "mounted_file.rs reads through wasi:filesystem: {imports:?}"
    );
    let prestat: Vec<_> = imports.iter().filter(|i| i.contains("prestat")).collect();
    assert!(prestat.is_empty(), "std::fs is linked again: {prestat:?}");
}

#[test]
fn the_yardstick_is_linked_with_the_same_stack() {
    assert_eq!(
        declared_stack("bench/yardstick/build.rs"),
        declared_stack("build.rs"),
        "the bench would compare build settings, not work"
    );
}
