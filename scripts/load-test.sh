#!/usr/bin/env bash
# Load test, end to end: installs Artillery (npm, from package.json), builds
# the component and the verifier, starts a fresh redis-server and the
# component under real `spin up` on free loopback ports, seeds the run's
# events, runs load-test.yml, then checks DESIGN.md's invariants against
# Redis with the verifier and draws the run as an HTML chart.
#
#   scripts/load-test.sh                 # full profile, 160 s of load
#   scripts/load-test.sh --profile ci    # short profile, 40 s of load (CI)
#
# Output goes to target/load-test/: report.json (Artillery), artillery.log,
# summary.txt (the verifier), chart.html, and the Redis and Spin logs.
# Exit status: 0 only when Artillery's checks pass and every invariant holds.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
unset CARGO_TARGET_DIR  # the component and the verifier are found under ./target

PROFILE=full
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) PROFILE="${2:-}"; shift 2 ;;
    --profile=*) PROFILE="${1#--profile=}"; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) say "unknown argument: $1 (try --help)"; exit 2 ;;
  esac
done
case "$PROFILE" in
  ci) ENV_FLAG=(-e ci); LOAD_LIMIT=240 ;;
  full) ENV_FLAG=(); LOAD_LIMIT=600 ;;
  *) say "--profile must be ci or full, not '$PROFILE'"; exit 2 ;;
esac

OUT="$ROOT/target/load-test"
mkdir -p "$OUT"
rm -f "$OUT/report.json" "$OUT/chart.html" "$OUT/summary.txt"


# Node.js (Artillery 2.0.21 needs 18.16 or newer; the machines have 20).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt_install nodejs npm
fi
ARTILLERY="$ROOT/node_modules/.bin/artillery"
installed=$(node -p 'require("./node_modules/artillery/package.json").version' 2>/dev/null || true)
if [ "$installed" != "2.0.21" ] || [ ! -x "$ARTILLERY" ]; then
  say "installing Artillery 2.0.21 (npm install, no browser download)"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 900 npm install --no-audit --no-fund --loglevel=error
fi
if [ -f package-lock.json ] && grep -q '"resolved"' package-lock.json; then
  say "warning: package-lock.json records download addresses; don't commit it (see .npmrc)"
fi

ensure_redis_server
find_spin
build_component
# Debug profile: it shares the build `cargo test` (scripts/test.sh) has just
# made, and checks a run's report in seconds all the same.
say "building the load verifier"
cargo build -p load-verifier
VERIFIER="$ROOT/target/debug/load-verifier"

trap_stop_started
start_service "$OUT"

seeded=$(LOAD_TEST_ADMIN_TOKEN="$ADMIN_TOKEN" timeout 60 node loadtest/seed.js "$TARGET")
read -r RUN_ID HALL ARENA <<<"$seeded"
say "seeded run $RUN_ID: events $HALL (20,000 seats) and $ARENA (2,000 seats)"

# Artillery sends usage telemetry unless told not to; WORKER_ID skips its
# "test run" event, so the run talks to 127.0.0.1 only.
say "running Artillery, $PROFILE profile (progress every 10 s; full log in $OUT/artillery.log)"
set +e
ARTILLERY_DISABLE_TELEMETRY=true WORKER_ID=local \
LOAD_TEST_RUN_ID="$RUN_ID" LOAD_TEST_ADMIN_TOKEN="$ADMIN_TOKEN" \
  timeout "$LOAD_LIMIT" "$ARTILLERY" run "${ENV_FLAG[@]}" --target "$TARGET" \
  --output "$OUT/report.json" load-test.yml 2>&1 |
  tee "$OUT/artillery.log" | awk -f loadtest/progress.awk
artillery_status=${PIPESTATUS[0]}
set -e

say "Artillery summary"
awk -f loadtest/summary.awk "$OUT/artillery.log"

say "verifying DESIGN.md's invariants against Redis"
set +e
"$VERIFIER" --report "$OUT/report.json" --redis "redis://127.0.0.1:$REDIS_PORT" \
  --event default --event "$HALL" --event "$ARENA" --chart "$OUT/chart.html" | tee "$OUT/summary.txt"
verifier_status=${PIPESTATUS[0]}
set -e

if [ "$artillery_status" -eq 0 ] && [ "$verifier_status" -eq 0 ]; then
  say "load test PASSED ($PROFILE profile): Artillery's checks and every invariant hold"
  exit 0
fi
[ "$artillery_status" -ne 0 ] && say "Artillery failed (exit $artillery_status): a check (ensure), an unexpected answer (expect) or a time-out"
[ "$verifier_status" -ne 0 ] && say "the verifier failed (exit $verifier_status): see above"
say "load test FAILED ($PROFILE profile); outputs in $OUT"
exit 1
