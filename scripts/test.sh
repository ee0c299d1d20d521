#!/usr/bin/env bash
# Runs every check and test: formatting, clippy, unit tests, the host's
# tests, Lua script tests against a real redis-server, and the integration
# tests that drive the built component in the host over real HTTP.
# Installs what it needs (redis-server, the wasm32-wasip1 target) on a fresh machine.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
unset CARGO_TARGET_DIR  # the tests find the component and host under ./target

ensure_redis_server
ensure_wasm_target

say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy (component and host, native; component for wasm32-wasip1)"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p seat-booking --target wasm32-wasip1 -- -D warnings

build_component
build_host

say "cargo test (release profile, so the host's wasmtime build is shared)"
log="$ROOT/target/test-output/cargo-test.log"
mkdir -p "$(dirname "$log")"
set +e
cargo test --workspace --release 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
