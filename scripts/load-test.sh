#!/usr/bin/env bash
# Load test, end to end: installs Artillery (npm, from package.json), builds
# the component and the verifier, starts a fresh redis-server and the
# component under real `spin up` on free loopback ports, seeds the run's
# events, runs load-test.yml, then checks docs/design.md's invariants against
# Redis with the verifier and draws the run as an HTML chart.
#
#   scripts/load-test.sh                 # full profile, 160 s of load
#   scripts/load-test.sh --profile ci    # short profile, 40 s of load (CI)
#   scripts/load-test.sh --failover      # 45 s on a replicated Redis, primary killed
#
# Output goes to target/load-test/: report.json (Artillery), artillery.log,
# summary.txt (the verifier), chart.html, and the Redis and Spin logs.
# Exit status: 0 only when Artillery's checks pass and every invariant holds.
#
# --failover: the local HA topology (scripts/ha-topology.sh: primary, two
# replicas, three Sentinels, HAProxy front) and two `spin up` instances with
# redis_replica_acks=1; loadtest/failover.yml against both; the primary is
# SIGKILLed 15 s into the load (LOAD_TEST_KILL_AFTER); then the verifier
# checks, by id, what the clients were told against the new primary. Ends
# with `acknowledged bookings lost: N`, `seats sold twice: N` and `writes
# unavailable: X s`; exits 0 only when both counts are 0 and every check holds.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
unset CARGO_TARGET_DIR  # the component and the verifier are found under ./target

PROFILE=full
FAILOVER=0
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) PROFILE="${2:-}"; shift 2 ;;
    --profile=*) PROFILE="${1#--profile=}"; shift ;;
    --failover) FAILOVER=1; shift ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) say "unknown argument: $1 (try --help)"; exit 2 ;;
  esac
done
case "$PROFILE" in
  # QUEUE_RATE: the waiting room's admitPerMinute, a little under the rate
  # its buyers arrive in the spike, so a line builds but clears in seconds.
  ci) ENV_FLAG=(-e ci); LOAD_LIMIT=240; QUEUE_RATE=240 ;;
  full) ENV_FLAG=(); LOAD_LIMIT=600; QUEUE_RATE=1200 ;;
  *) say "--profile must be ci or full, not '$PROFILE'"; exit 2 ;;
esac

# seed_run TARGET: creates the run's events through the admin API and sets
# RUN_ID, HALL, ARENA and QUEUE (the plain and the failover runs share them).
seed_run() {
  local seeded
  seeded=$(LOAD_TEST_ADMIN_TOKEN="$ADMIN_TOKEN" LOAD_TEST_QUEUE_RATE="$QUEUE_RATE" \
    timeout 60 node loadtest/seed.js "$1")
  read -r RUN_ID HALL ARENA QUEUE <<<"$seeded"
  say "seeded run $RUN_ID: events $HALL (20,000 seats), $ARENA (2,000 seats) and $QUEUE (2,000 seats, waiting room letting in $QUEUE_RATE a minute)"
}

# --failover: the run on the HA topology, the primary killed mid-run, the
# verifier against the new primary. Called after the builds; exits.
run_failover() {
  local kill_after="${LOAD_TEST_KILL_AFTER:-15}"
  local acknowledged="$OUT/failover-acknowledged.jsonl" writes="$OUT/failover-writes.jsonl"
  # Globals, for the traps: what failover_cleanup must stop.
  HA_RUN_DIR="$OUT/ha" ARTILLERY_JOB="" HA_STARTED=0
  rm -f "$acknowledged" "$writes" "$OUT/artillery.log"

  # Stops Artillery (if still running), both Spin instances and the whole
  # topology; idempotent, so EXIT after INT is harmless.
  failover_cleanup() {
    if [ -n "$ARTILLERY_JOB" ]; then
      # The job's children (timeout, which passes TERM on to Artillery, tee, awk).
      pkill -TERM -P "$ARTILLERY_JOB" 2>/dev/null || true
      kill -TERM "$ARTILLERY_JOB" 2>/dev/null || true
      wait "$ARTILLERY_JOB" 2>/dev/null || true
      ARTILLERY_JOB=""
    fi
    stop_started
    if [ "$HA_STARTED" -eq 1 ]; then
      bash "$ROOT/scripts/ha-topology.sh" stop "$HA_RUN_DIR" || say "could not stop the topology in $HA_RUN_DIR"
      HA_STARTED=0
    fi
  }
  trap failover_cleanup EXIT
  trap 'failover_cleanup; exit 130' INT
  trap 'failover_cleanup; exit 143' TERM

  HA_STARTED=1
  bash "$ROOT/scripts/ha-topology.sh" start "$HA_RUN_DIR" >/dev/null
  # shellcheck disable=SC1091 # written by ha-topology.sh start
  source "$HA_RUN_DIR/topology.env"

  ADMIN_TOKEN="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
  QUEUE_SECRET="$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"  # the same on both instances
  local targets=() i port url
  for i in 1 2; do
    port=$(free_port)
    say "starting Spin instance $i at http://127.0.0.1:$port on the front redis://127.0.0.1:$HA_FRONT_PORT (redis_replica_acks=1)"
    SPIN_VARIABLE_REDIS_ADDRESS="redis://127.0.0.1:$HA_FRONT_PORT" \
    SPIN_VARIABLE_REDIS_HOST="127.0.0.1:$HA_FRONT_PORT" \
    SPIN_VARIABLE_REDIS_REPLICA_ACKS=1 \
    SPIN_VARIABLE_ADMIN_TOKEN="$ADMIN_TOKEN" \
    SPIN_VARIABLE_QUEUE_SECRET="$QUEUE_SECRET" \
      start_spin "127.0.0.1:$port" "$OUT/spin-$i.log"
    targets+=("http://127.0.0.1:$port")
  done
  for url in "${targets[@]}"; do
    wait_healthy "$url" || say "warning: $url/health did not answer 200 within 10 s"
  done
  seed_run "${targets[0]}"

  say "running Artillery, loadtest/failover.yml against ${targets[*]} (full log in $OUT/artillery.log)"
  (
    set +e
    ARTILLERY_DISABLE_TELEMETRY=true WORKER_ID=local \
    LOAD_TEST_RUN_ID="$RUN_ID" LOAD_TEST_TARGETS="$(IFS=,; echo "${targets[*]}")" \
    LOAD_TEST_RECORD_DIR="$OUT" \
      timeout 300 "$ARTILLERY" run --target "${targets[0]}" \
      --output "$OUT/report.json" loadtest/failover.yml 2>&1 |
      tee "$OUT/artillery.log" | awk -f loadtest/progress.awk
    exit "${PIPESTATUS[0]}"
  ) &
  ARTILLERY_JOB=$!

  # The kill comes kill_after seconds after the first answer.
  for _ in $(seq 600); do
    [ -s "$writes" ] && break
    kill -0 "$ARTILLERY_JOB" 2>/dev/null || break
    sleep 0.1
  done
  sleep "$kill_after"
  local old_port="$HA_PRIMARY_PORT" killed_at new_port="" promoted_s=""
  if ! tr '\0' ' ' <"/proc/$HA_PRIMARY_PID/cmdline" 2>/dev/null | grep -q -- "$old_port"; then
    say "pid $HA_PRIMARY_PID is not the Redis primary on port $old_port any more"
    return 1
  fi
  say "killing the Redis primary (port $old_port, pid $HA_PRIMARY_PID) with SIGKILL, $kill_after s into the load"
  killed_at=$(date +%s.%N)
  kill -9 "$HA_PRIMARY_PID"
  new_port=$(wait_for_new_primary "$old_port" 30) || true
  if [ -n "$new_port" ]; then
    promoted_s=$(awk -v a="$killed_at" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    say "Sentinel promoted the replica on port $new_port (seen ${promoted_s} s after the kill); the load goes on"
  else
    say "no replica was promoted within 30 s"
  fi

  local artillery_status=0
  wait "$ARTILLERY_JOB" || artillery_status=$?
  ARTILLERY_JOB=""

  say "Artillery summary"
  awk -f loadtest/summary.awk "$OUT/artillery.log"

  # The verifier reads the primary the Sentinels name (the front leads there too).
  [ -n "$new_port" ] || new_port=$(wait_for_new_primary "$old_port" 10) || true
  local verifier_status=0
  if [ -z "$new_port" ]; then
    say "no new primary to verify against"
    verifier_status=2
  else
    say "verifying against the new primary (port $new_port): docs/design.md's invariants and, by id, every acknowledged booking"
    "$VERIFIER" --report "$OUT/report.json" --redis "redis://127.0.0.1:$new_port" \
      --event default --event "$HALL" --event "$ARENA" \
      --acknowledged "$acknowledged" --writes "$writes" \
      --chart "$OUT/chart.html" >"$OUT/summary.txt" 2>&1 || verifier_status=$?
  fi
  failover_cleanup
  trap - EXIT INT TERM

  # The summary, the verdict, then the verifier's closing three lines last.
  local closing=0
  [ -f "$OUT/summary.txt" ] && tail -n 1 "$OUT/summary.txt" | grep -q '^writes unavailable: ' && closing=3
  [ -f "$OUT/summary.txt" ] && head -n "-$closing" "$OUT/summary.txt"
  [ "$artillery_status" -ne 0 ] && say "Artillery failed (exit $artillery_status): an unexpected answer (a 500?), a transport error or a time-out"
  [ "$verifier_status" -ne 0 ] && say "the verifier failed (exit $verifier_status): see above"
  if [ "$artillery_status" -eq 0 ] && [ "$verifier_status" -eq 0 ]; then
    say "failover load test PASSED: primary killed, replica promoted, nothing acknowledged lost, no seat sold twice"
  else
    say "failover load test FAILED; outputs in $OUT"
  fi
  [ "$closing" -eq 3 ] && tail -n 3 "$OUT/summary.txt"
  [ "$artillery_status" -eq 0 ] && [ "$verifier_status" -eq 0 ]
}

# Prints the port the Sentinels name as primary once it is not old_port and
# that Redis says role:master; fails after limit seconds.
wait_for_new_primary() {
  local old_port="$1" limit="$2" deadline port sentinel
  deadline=$((SECONDS + limit))
  while [ "$SECONDS" -lt "$deadline" ]; do
    for sentinel in $HA_SENTINEL_PORTS; do
      port=$(timeout 2 redis-cli -h 127.0.0.1 -p "$sentinel" sentinel get-master-addr-by-name "$HA_MASTER_NAME" 2>/dev/null | sed -n 2p | tr -d '\r')
      if [ -n "$port" ] && [ "$port" != "$old_port" ] &&
        timeout 2 redis-cli -h 127.0.0.1 -p "$port" role 2>/dev/null | head -n 1 | grep -qx master; then
        echo "$port"
        return 0
      fi
    done
    sleep 0.2
  done
  return 1
}

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
[ "$FAILOVER" -eq 0 ] || ensure_ha_packages
find_spin
build_component
# Debug profile: it shares the build `cargo test` (scripts/test.sh) has just
# made, and checks a run's report in seconds all the same.
say "building the load verifier"
cargo build -p load-verifier
VERIFIER="$ROOT/target/debug/load-verifier"

if [ "$FAILOVER" -eq 1 ]; then
  run_failover
  exit $?
fi

trap_stop_started
start_service "$OUT"

seed_run "$TARGET"

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

say "verifying docs/design.md's invariants against Redis"
set +e
"$VERIFIER" --report "$OUT/report.json" --redis "redis://127.0.0.1:$REDIS_PORT" \
  --event default --event "$HALL" --event "$ARENA" --event "$QUEUE" --chart "$OUT/chart.html" | tee "$OUT/summary.txt"
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
