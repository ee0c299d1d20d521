#!/usr/bin/env bash
# Runs every check and test: formatting, clippy, unit tests, the host's
# tests, Lua script tests against a real redis-server, the integration tests
# that drive the built component in the host over real HTTP, the seat map
# page in headless Chromium, a short fuzz run from the OpenAPI document, and
# the Artillery load test's CI profile with its invariant verifier.
# Installs what it needs (redis-server, the wasm32-wasip1 target, chromium,
# npm packages, Artillery, schemathesis) on a fresh machine. Ends with one line
# "tests: N passed, N failed" over all of them.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
unset CARGO_TARGET_DIR  # the tests find the component and host under ./target
out="$ROOT/target/test-output"
mkdir -p "$out"

ensure_redis_server
ensure_wasm_target

say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy (component and host, native; component for wasm32-wasip1)"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p seat-booking --target wasm32-wasip1 -- -D warnings

build_component
build_host

failed_steps=()
# step NAME LOG COMMAND...: runs a test step to its end, teeing its output.
step() {
  local name="$1" log="$2"; shift 2
  set +e
  "$@" 2>&1 | tee "$log"
  local status=${PIPESTATUS[0]}
  set -e
  [ "$status" -eq 0 ] || failed_steps+=("$name")
}

say "cargo test (release profile, so the host's wasmtime build is shared)"
step "cargo test" "$out/cargo-test.log" cargo test --workspace --release
step "browser tests" "$out/browser-test.log" bash scripts/browser-test.sh
step "fuzz run" "$out/fuzz.log" env MAX_EXAMPLES="${FUZZ_EXAMPLES:-25}" bash scripts/fuzz.sh
step "load test" "$out/load-test.log" bash scripts/load-test.sh --profile ci

# One closing line, summed over every cargo test binary and the browser tests.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
     /^# pass / { p += $3 } /^# fail / { f += $3 } /^# skipped / { s += $3 }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' \
  "$out/cargo-test.log" "$out/browser-test.log"
if [ "${#failed_steps[@]}" -gt 0 ]; then
  say "FAILED: ${failed_steps[*]}"
  exit 1
fi
