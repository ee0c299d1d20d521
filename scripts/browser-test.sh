#!/usr/bin/env bash
# Runs the seat map page's browser tests (tests-browser/): Debian's headless
# Chromium, driven by playwright-core, against the built component under
# real `spin up` (found as scripts/lib.sh's find_spin says) and a real
# redis-server. Installs what it needs on a fresh
# machine: Debian's chromium (never a browser download), redis-server, the
# npm packages. Ends with node's test summary; screenshots go to
# target/test-output/ (UPDATE_SCREENSHOT=1 also refreshes the README's docs/seat-map.png).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
unset CARGO_TARGET_DIR  # spin.toml finds the component under ./target
find_spin  # exported: the harness runs this SPIN_BIN

[ -x /usr/bin/chromium ] || apt_install chromium chromium-driver
ensure_redis_server
ensure_node_modules

build_component

say "browser tests (node --test tests-browser/) on $("$SPIN_BIN" --version)"
tap="$ROOT/target/test-output/browser-tests.tap"
mkdir -p "$(dirname "$tap")"
set +e
node --test \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" \
  tests-browser/
status=$?
set -e
# The spec reporter lists failures after its summary; repeat node's summary
# (from the TAP copy) so the output always ends with the counts.
grep -E '^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ' "$tap" || true
exit "$status"
