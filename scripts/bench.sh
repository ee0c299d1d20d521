#!/usr/bin/env bash
# Benchmark: the component under real `spin up` against the seed Node.js
# service (../shared/reference/seed-node), side by side on one Redis, in one
# run. Spin is found as scripts/lib.sh's find_spin says (SPIN_BIN, else spin
# 3.x/4.x on the PATH, else ../shared/tools/spin/spin).
#
#   scripts/bench.sh                 # 10 s per row, 32 connections, 2 wrk threads
#   DURATION=30 CONNECTIONS=64 THREADS=2 scripts/bench.sh
#
# Rows: (a) every client books seat 1, (b) every request books a new seat,
# both for the seed and the component; (c) GET /health (open + PING: the
# ceiling of any request that uses Redis, on Spin); (d) GET /api/version (no
# Redis: Spin's per-request floor); (e) hold two named seats then confirm,
# (f) hold the best 4 adjacent seats, (g) read a 50,000-seat map. Prints
# requests/s, p50 and p99 per row, the ratios component/seed and
# component/health, and the Redis round trips each operation makes (counted
# with MONITOR). This is a benchmark, not a test: it asserts nothing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
SEED_SRC="${SEED_SRC:-$ROOT/../shared/reference/seed-node}"
WORK="$ROOT/target/bench"
mkdir -p "$WORK"

ensure_redis_server
command -v wrk >/dev/null || apt_install wrk
find_spin
build_component

say "preparing the seed service from $SEED_SRC"
rm -rf "$WORK/seed-node" && mkdir -p "$WORK/seed-node"
cp "$SEED_SRC/package.json" "$SEED_SRC/server.js" "$WORK/seed-node/"
(cd "$WORK/seed-node" && npm install --no-audit --no-fund --no-package-lock --loglevel=error >/dev/null)

trap_stop_started
start_service "$WORK"
SEED_PORT=$(free_port)
(cd "$WORK/seed-node" && REDIS_URL="redis://127.0.0.1:$REDIS_PORT" PORT="$SEED_PORT" exec node server.js) >"$WORK/seed.log" 2>&1 &
pids+=($!)

for _ in $(seq 300); do curl -s -o /dev/null "http://127.0.0.1:$SEED_PORT/" && break; sleep 0.1; done

# run NAME URL SCRIPT [ARGS...] -> appends "NAME rps p50_us p99_us errors" to
# $WORK/results, after a 2 s warm-up with the words of $WARM as its arguments.
: >"$WORK/results"
run() {
  local name="$1" url="$2" script="$3"; shift 3
  # shellcheck disable=SC2086 # WARM is a list of words
  wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -s "bench/$script" "$url" -- ${WARM:-warm-$name-$RANDOM} >/dev/null
  local line
  line=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -s "bench/$script" "$url" -- "$@" | grep '^RESULT')
  read -r _ requests duration_us p50 p99 errors _ <<<"$line"
  local rps=$(( requests * 1000000 / duration_us ))
  printf '%s %s %s %s %s\n' "$name" "$rps" "$p50" "$p99" "$errors" >>"$WORK/results"
  say "$name: $rps req/s, p50 ${p50} us, p99 ${p99} us, socket errors $errors"
}

COMPONENT="$TARGET"
SEED="http://127.0.0.1:$SEED_PORT"
say "measuring: $THREADS wrk threads, $CONNECTIONS connections, ${DURATION}s per row"
run seed-one-seat "$SEED/api/book/1" book_one_seat.lua
run component-one-seat "$COMPONENT/api/book/1" book_one_seat.lua
run seed-distinct "$SEED/" book_distinct_seats.lua "seed-$$"
run component-distinct "$COMPONENT/" book_distinct_seats.lua "component-$$"
run component-health "$COMPONENT/health" get.lua
run component-floor "$COMPONENT/api/version" get.lua

# create_event ID ROWS SEATS_PER_ROW: rows R1..R<ROWS>.
create_event() {
  python3 -c 'import json,sys; print(json.dumps({"id": sys.argv[1], "name": sys.argv[1], "rows": [{"label": f"R{i}", "seats": int(sys.argv[3])} for i in range(1, int(sys.argv[2]) + 1)]}))' "$1" "$2" "$3" |
    curl -sf -o /dev/null -X POST -H "authorization: Bearer $ADMIN_TOKEN" -H 'content-type: application/json' --data-binary @- "$COMPONENT/api/events"
}
create_event hold-confirm 1000 100
create_event best-four 200 100
create_event stadium 500 100
say "seeding the stadium map: 5,000 seats booked, 5,000 held"
for row in $(seq 1 100); do
  seats=$(python3 -c 'import sys; r=sys.argv[1]; print(",".join(f"\"R{r}-{n}\"" for n in range(1, 51)))' "$row")
  if [ $((row % 2)) -eq 0 ]; then what=bookings; else what=holds; fi
  curl -sf -o /dev/null -X POST -H 'content-type: application/json' --data-binary "{\"seats\":[$seats]}" "$COMPONENT/api/events/stadium/$what"
done
WARM="hold-confirm 1" run hold-confirm "$COMPONENT/" hold_confirm.lua hold-confirm 501
WARM="best-four" run best-four "$COMPONENT/" best_available.lua best-four
CONNECTIONS=4 run stadium-map "$COMPONENT/api/events/stadium/seats" get.lua

# Round trips per operation: one request each, with MONITOR counting the
# commands clients send (commands a script runs inside Redis are not round trips).
say "counting Redis round trips per operation"
redis-cli -p "$REDIS_PORT" monitor >"$WORK/monitor.log" &
monitor_pid=$!
pids+=("$monitor_pid")
sleep 0.3
mark() { redis-cli -p "$REDIS_PORT" echo "mark:$1" >/dev/null; }
post_json() { curl -s -X POST -H 'content-type: application/json' "${@:3}" --data-binary "$2" "$COMPONENT$1"; }
mark health; curl -s -o /dev/null "$COMPONENT/health"
mark book; curl -s -o /dev/null -X POST "$COMPONENT/api/book/rt-seat"
mark book-sold; curl -s -o /dev/null -X POST "$COMPONENT/api/book/rt-seat"
mark hold; hold=$(post_json /api/events/hold-confirm/holds '{"seats":["R1000-1","R1000-2"]}')
hold_id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["holdId"])' "$hold")
hold_token=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["holdToken"])' "$hold")
mark confirm; post_json "/api/events/hold-confirm/holds/$hold_id/confirm" '' -H "authorization: Bearer $hold_token" >/dev/null
mark best-available; hold=$(post_json /api/events/best-four/holds '{"bestAvailable":{"count":4}}')
hold_id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["holdId"])' "$hold")
hold_token=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["holdToken"])' "$hold")
mark release; curl -s -o /dev/null -X DELETE -H "authorization: Bearer $hold_token" "$COMPONENT/api/events/best-four/holds/$hold_id"
mark direct-booking; post_json /api/events/hold-confirm/bookings '{"seats":["R1000-5","R1000-6"]}' >/dev/null
mark seat-map; curl -s -o /dev/null "$COMPONENT/api/events/stadium/seats"
mark end
sleep 0.3
kill "$monitor_pid" 2>/dev/null || true

python3 - "$WORK/results" "$DURATION" "$CONNECTIONS" "$WORK/monitor.log" "$("$SPIN_BIN" --version)" "$THREADS" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    name, rps, p50, p99, errors = line.split()
    rows[name] = (int(rps), int(p50) / 1000, int(p99) / 1000, int(errors))
health = rows["component-health"][0]
duration, conns, spin, threads = sys.argv[2], sys.argv[3], sys.argv[5], sys.argv[6]
print(f"\nseat booking benchmark on {spin}: wrk, {threads} threads, {conns} connections, {duration} s per row, one run")
print(f"{'row':<40}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'vs seed':>9}{'vs health':>11}")
show = lambda label, key, vs_seed="", vs_health="": print(
    f"{label:<40}{rows[key][0]:>9}{rows[key][1]:>9.2f}{rows[key][2]:>9.2f}{vs_seed:>9}{vs_health:>11}")
for label, comp, seed in [
    (f"(a) {conns} clients book seat 1", "component-one-seat", "seed-one-seat"),
    (f"(b) {conns} clients, distinct seats", "component-distinct", "seed-distinct"),
]:
    show(label + ", seed", seed)
    show(label + ", Spin", comp, f"{rows[comp][0] / rows[seed][0]:.2f}x", f"{rows[comp][0] / health:.2f}x")
show("(c) GET /health (open + PING: ceiling)", "component-health", "", "1.00x")
show("(d) GET /api/version (no Redis: floor)", "component-floor", "", f"{rows['component-floor'][0] / health:.2f}x")
for label, key in [
    ("(e) hold 2 seats + confirm", "hold-confirm"),
    ("(f) best available, 4 adjacent", "best-four"),
    ("(g) 50,000-seat map, 4 connections", "stadium-map"),
]:
    show(label, key, "", f"{rows[key][0] / health:.2f}x")
print("vs seed: the component's req/s over the seed's in the same row; vs health: over (c).")
print("(a) answers 201 once, then 409 seat_booked; (e) counts the hold and the confirm as one request each.")

# Round trips: the client commands between two marks (script-internal
# commands carry "lua]" and are not round trips; the marks are ECHOs).
trips, current = {}, None
for line in open(sys.argv[4]):
    if '"echo"' in line.lower() and '"mark:' in line:
        current = line.split('"mark:')[1].split('"')[0]
        trips[current] = []
    elif current and current != "end" and " lua]" not in line and '"' in line:
        trips[current].append(line.split('"')[1].upper())
print("\nRedis round trips after open, per request (MONITOR):")
for op, commands in trips.items():
    if op != "end":
        print(f"  {op:<16}{len(commands)}  {' '.join(commands)}")
errors = sum(r[3] for r in rows.values())
print(f"socket errors: {errors}")
print(f"rerun: DURATION={duration} CONNECTIONS={conns} THREADS={threads} scripts/bench.sh"
      "  (SPIN_BIN picks another Spin; raw rows in target/bench/results)")
PY
