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
# fresh machine. Every step runs to its end, and the script ends with one
# line "tests: N passed, N failed, N skipped" over all of them: each cargo
# and browser test, and each other step (fmt, clippy, the build, the fuzz
# run, the load test) as one test passed or failed by its own outcome. It
# exits non-zero when any step failed.
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

passed=0 failed=0 skipped=0 failed_steps=()
# step NAME COUNTS LOG COMMAND...: runs a step to its end, teeing its
# output to LOG, and adds its outcome to the closing line. COUNTS says how:
#   cargo  the `test result:` lines of cargo's test binaries (ignored tests
#          count as skipped);
#   tap    node's test runner summary: `# pass`, `# fail` and `# cancelled`
#          (failed), `# skipped` and `# todo` (skipped);
#   one    the step itself, one test passed or failed by its exit status.
# A step that fails while its own counts show no failed test (a build
# error, a crash before any test ran) counts as one failed test, so no
# failure goes uncounted.
step() {
  local name="$1" counts="$2" log="$3"; shift 3
  say "$name"
  set +e
  "$@" 2>&1 | tee "$log"
  local status=${PIPESTATUS[0]}
  set -e
  local p=0 f=0 s=0
  case "$counts" in
    cargo)
      read -r p f s < <(awk '/^test result:/ { for (i = 1; i < NF; i++) {
          if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
        END { print p + 0, f + 0, s + 0 }' "$log") ;;
    tap)
      read -r p f s < <(awk '/^# pass / { p += $3 } /^# (fail|cancelled) / { f += $3 } /^# (skipped|todo) / { s += $3 }
        END { print p + 0, f + 0, s + 0 }' "$log") ;;
    one)
      if [ "$status" -eq 0 ]; then p=1; fi ;;
  esac
  if [ "$status" -ne 0 ]; then
    failed_steps+=("$name")
    if [ "$f" -eq 0 ]; then f=1; fi
  fi
  say "$name: exit $status; $p passed, $f failed, $s skipped"
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

step "cargo fmt --check" one "$out/fmt.log" cargo fmt --all -- --check
step "cargo clippy (workspace, native)" one "$out/clippy.log" \
  cargo clippy --workspace --all-targets -- -D warnings
step "build the component" one "$out/build.log" build_component
wasm_crates=(-p seat-booking)
[ -d integration/spin-probe ] && wasm_crates+=(-p spin-probe)
# --release, after the release build: it reuses that build's host crates
# (the proc-macros of spin-sdk and serde) instead of compiling them again.
step "cargo clippy (wasm32-wasip1: the component, and the integration tests' Spin probe if present)" \
  one "$out/clippy-wasm.log" \
  cargo clippy --release "${wasm_crates[@]}" --target wasm32-wasip1 -- -D warnings

# Debug profile: it compiles faster, and the integration tests build the
# wasm component in release themselves (through cargo). --no-fail-fast: a
# failing test binary does not stop the others, whose tests are counted too.
step "cargo test (debug profile)" cargo "$out/cargo-test.log" cargo test --workspace --no-fail-fast
step "browser tests" tap "$out/browser-test.log" bash scripts/browser-test.sh
step "fuzz run" one "$out/fuzz.log" env MAX_EXAMPLES="${FUZZ_EXAMPLES:-25}" bash scripts/fuzz.sh
step "load test" one "$out/load-test.log" bash scripts/load-test.sh --profile ci

# One closing line over every step (CI reads it).
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ "${#failed_steps[@]}" -gt 0 ]; then
  say "FAILED: ${failed_steps[*]}"
  exit 1
fi
