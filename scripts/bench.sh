#!/usr/bin/env bash
# Benchmark: the component in the local host against the seed Node.js service
# (../shared/reference/seed-node), side by side on one Redis, in one run.
#
#   scripts/bench.sh                 # 10 s per row
#   DURATION=30 CONNECTIONS=64 scripts/bench.sh
#
# Rows: (a) every client books seat 1, (b) every request books a new seat,
# (c) a component route that touches no Redis: the host's per-request floor,
# (d) hold two named seats then confirm, (e) hold the best 4 adjacent seats,
# (f) read a 50,000-seat map. Prints requests/s, p50 and p99 per row, the
# ratios component/seed and component/floor, and the Redis round trips each
# operation makes (counted with MONITOR). This is a benchmark, not a test:
# it asserts nothing.
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
build_component
build_host

say "preparing the seed service from $SEED_SRC"
rm -rf "$WORK/seed-node" && mkdir -p "$WORK/seed-node"
cp "$SEED_SRC/package.json" "$SEED_SRC/server.js" "$WORK/seed-node/"
(cd "$WORK/seed-node" && npm install --no-audit --no-fund --no-package-lock --loglevel=error >/dev/null)

pids=()
trap stop_pids EXIT INT TERM
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

HOST="http://127.0.0.1:$HOST_PORT"
SEED="http://127.0.0.1:$SEED_PORT"
say "measuring: $THREADS wrk threads, $CONNECTIONS connections, ${DURATION}s per row"
run seed-one-seat "$SEED/api/book/1" book_one_seat.lua
run component-one-seat "$HOST/api/book/1" book_one_seat.lua
run seed-distinct "$SEED/" book_distinct_seats.lua "seed-$$"
run component-distinct "$HOST/" book_distinct_seats.lua "component-$$"
run component-floor "$HOST/api/version" get.lua

# create_event ID ROWS SEATS_PER_ROW: rows R1..R<ROWS>.
create_event() {
  python3 -c 'import json,sys; print(json.dumps({"id": sys.argv[1], "name": sys.argv[1], "rows": [{"label": f"R{i}", "seats": int(sys.argv[3])} for i in range(1, int(sys.argv[2]) + 1)]}))' "$1" "$2" "$3" |
    curl -sf -o /dev/null -X POST -H "authorization: Bearer $ADMIN_TOKEN" -H 'content-type: application/json' --data-binary @- "$HOST/api/events"
}
create_event hold-confirm 1000 100
create_event best-four 200 100
create_event stadium 500 100
say "seeding the stadium map: 5,000 seats booked, 5,000 held"
for row in $(seq 1 100); do
  seats=$(python3 -c 'import sys; r=sys.argv[1]; print(",".join(f"\"R{r}-{n}\"" for n in range(1, 51)))' "$row")
  if [ $((row % 2)) -eq 0 ]; then what=bookings; else what=holds; fi
  curl -sf -o /dev/null -X POST -H 'content-type: application/json' --data-binary "{\"seats\":[$seats]}" "$HOST/api/events/stadium/$what"
done
WARM="hold-confirm 1" run hold-confirm "$HOST/" hold_confirm.lua hold-confirm 501
WARM="best-four" run best-four "$HOST/" best_available.lua best-four
CONNECTIONS=4 run stadium-map "$HOST/api/events/stadium/seats" get.lua

# Round trips per operation: one request each, with MONITOR counting the
# commands clients send (commands a script runs inside Redis are not round trips).
say "counting Redis round trips per operation"
redis-cli -p "$REDIS_PORT" monitor >"$WORK/monitor.log" &
monitor_pid=$!
pids+=("$monitor_pid")
sleep 0.3
mark() { redis-cli -p "$REDIS_PORT" echo "mark:$1" >/dev/null; }
post_json() { curl -s -X POST -H 'content-type: application/json' "${@:3}" --data-binary "$2" "$HOST$1"; }
mark book; curl -s -o /dev/null -X POST "$HOST/api/book/rt-seat"
mark book-sold; curl -s -o /dev/null -X POST "$HOST/api/book/rt-seat"
mark hold; hold=$(post_json /api/events/hold-confirm/holds '{"seats":["R1000-1","R1000-2"]}')
hold_id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["holdId"])' "$hold")
hold_token=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["holdToken"])' "$hold")
mark confirm; post_json "/api/events/hold-confirm/holds/$hold_id/confirm" '' -H "authorization: Bearer $hold_token" >/dev/null
mark best-available; hold=$(post_json /api/events/best-four/holds '{"bestAvailable":{"count":4}}')
hold_id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["holdId"])' "$hold")
hold_token=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["holdToken"])' "$hold")
mark release; curl -s -o /dev/null -X DELETE -H "authorization: Bearer $hold_token" "$HOST/api/events/best-four/holds/$hold_id"
mark direct-booking; post_json /api/events/hold-confirm/bookings '{"seats":["R1000-5","R1000-6"]}' >/dev/null
mark seat-map; curl -s -o /dev/null "$HOST/api/events/stadium/seats"
mark end
sleep 0.3
kill "$monitor_pid" 2>/dev/null || true

python3 - "$WORK/results" "$DURATION" "$CONNECTIONS" "$WORK/monitor.log" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    name, rps, p50, p99, errors = line.split()
    rows[name] = (int(rps), int(p50) / 1000, int(p99) / 1000, int(errors))
floor = rows["component-floor"][0]
print(f"\nseat booking benchmark: {sys.argv[3]} connections, {sys.argv[2]} s per row, one run")
print(f"{'row':<32}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'vs seed':>9}{'vs floor':>10}")
for label, comp, seed in [
    ("(a) 32 clients book seat 1", "component-one-seat", "seed-one-seat"),
    ("(b) 32 clients, distinct seats", "component-distinct", "seed-distinct"),
]:
    for who, key in (("seed", seed), ("component", comp)):
        rps, p50, p99, _ = rows[key]
        vs_seed = f"{rows[comp][0] / rows[seed][0]:.2f}x" if who == "component" else ""
        vs_floor = f"{rps / floor:.2f}x" if who == "component" else ""
        print(f"{label + ' ' + who:<32}{rps:>9}{p50:>9.2f}{p99:>9.2f}{vs_seed:>9}{vs_floor:>10}")
rps, p50, p99, _ = rows["component-floor"]
print(f"{'(c) component, no Redis (floor)':<32}{rps:>9}{p50:>9.2f}{p99:>9.2f}{'':>9}{'1.00x':>10}")
for label, key in [
    ("(d) hold 2 seats + confirm", "hold-confirm"),
    ("(e) best available, 4 adjacent", "best-four"),
    ("(f) 50,000-seat map, 4 conns", "stadium-map"),
]:
    rps, p50, p99, _ = rows[key]
    print(f"{label:<32}{rps:>9}{p50:>9.2f}{p99:>9.2f}{'':>9}{rps / floor:>9.2f}x")

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
print("rerun: scripts/bench.sh  (DURATION, CONNECTIONS, THREADS override)")
PY
