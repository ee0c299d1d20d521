#!/usr/bin/env bash
# Runs every check and test: formatting, clippy, unit tests, Lua script
# tests against a real redis-server, the integration tests that drive the
# built component under real `spin up` over real HTTP, the seat map page in
# headless Chromium, a short fuzz run from the OpenAPI document, and the
# Artillery load test's CI profile with its invariant verifier, all on the
# real Spin CLI (SPIN_BIN, else spin 3.x/4.x on the PATH, else
# ../shared/tools/spin/spin; its version is the first line printed).
# Installs what it needs (redis-server, redis-sentinel, haproxy, nginx, the
# wasm32-wasip1 target, chromium, npm packages, Artillery, schemathesis) on a
# fresh machine. Ends with one line "tests: N passed, N failed, N skipped"
# over the cargo and browser tests.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
unset CARGO_TARGET_DIR  # the tests and scripts find the component under ./target
out="$ROOT/target/test-output"
mkdir -p "$out"

# First line: the Spin every step below runs (SPIN_BIN is exported, so the
# integration tests and the other scripts use the same one).
find_spin
echo "Spin: $("$SPIN_BIN" --version) ($SPIN_BIN)"

ensure_redis_server
ensure_ha_packages  # before the failover tests start topologies in parallel
ensure_nginx  # the caching proxy of the edge cache test
ensure_wasm_target

say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy (workspace, native)"
cargo clippy --workspace --all-targets -- -D warnings

build_component
say "cargo clippy (wasm32-wasip1: the component, and the integration tests' Spin probe if present)"
wasm_crates=(-p seat-booking)
[ -d integration/spin-probe ] && wasm_crates+=(-p spin-probe)
# --release, after the release build: it reuses that build's host crates
# (the proc-macros of spin-sdk and serde) instead of compiling them again.
cargo clippy --release "${wasm_crates[@]}" --target wasm32-wasip1 -- -D warnings

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

# Debug profile: it compiles faster, and the integration tests build the
# wasm component in release themselves (through cargo).
say "cargo test (debug profile)"
step "cargo test" "$out/cargo-test.log" cargo test --workspace
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
