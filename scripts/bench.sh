#!/usr/bin/env bash
# Benchmark: the component in the local host against the seed Node.js service
# (../shared/reference/seed-node), side by side on one Redis, in one run.
#
#   scripts/bench.sh                 # 10 s per row
#   DURATION=30 CONNECTIONS=64 scripts/bench.sh
#
# Rows: (a) every client books seat 1, (b) every request books a new seat,
# (c) a component route that touches no Redis: the host's per-request floor.
# Prints requests/s, p50 and p99 per row, and the ratios component/seed and
# component/floor. This is a benchmark, not a test: it asserts nothing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
SEED_SRC="${SEED_SRC:-$ROOT/../shared/reference/seed-node}"
WORK="$ROOT/target/bench"
mkdir -p "$WORK"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

ensure_redis_server
if ! command -v wrk >/dev/null; then
  say "installing wrk (Debian package)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
build_component
build_host

say "preparing the seed service from $SEED_SRC"
rm -rf "$WORK/seed-node" && mkdir -p "$WORK/seed-node"
cp "$SEED_SRC/package.json" "$SEED_SRC/server.js" "$WORK/seed-node/"
(cd "$WORK/seed-node" && npm install --no-audit --no-fund --no-package-lock --loglevel=error >/dev/null)

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

REDIS_PORT=$(free_port)
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no >"$WORK/redis.log" 2>&1 &
pids+=($!)
HOST_PORT=$(free_port)
SPIN_VARIABLE_REDIS_ADDRESS="redis://127.0.0.1:$REDIS_PORT" \
SPIN_VARIABLE_REDIS_HOST="127.0.0.1:$REDIS_PORT" \
  "$HOST_BIN" up --from spin.toml --listen "127.0.0.1:$HOST_PORT" >"$WORK/host.log" 2>&1 &
pids+=($!)
SEED_PORT=$(free_port)
(cd "$WORK/seed-node" && REDIS_URL="redis://127.0.0.1:$REDIS_PORT" PORT="$SEED_PORT" exec node server.js) >"$WORK/seed.log" 2>&1 &
pids+=($!)

wait_for() { for _ in $(seq 300); do curl -s -o /dev/null "$1" && return; sleep 0.1; done; say "$1 never answered"; exit 1; }
wait_for "http://127.0.0.1:$HOST_PORT/api/version"
wait_for "http://127.0.0.1:$SEED_PORT/"

# run NAME URL SCRIPT [ARGS...] -> appends "NAME rps p50_us p99_us" to $WORK/results
: >"$WORK/results"
run() {
  local name="$1" url="$2" script="$3"; shift 3
  wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -s "bench/$script" "$url" -- "warm-$name-$RANDOM" >/dev/null
  local line
  line=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -s "bench/$script" "$url" -- "$@" | grep '^RESULT')
  read -r _ requests duration_us p50 p99 errors <<<"$line"
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

python3 - "$WORK/results" "$DURATION" "$CONNECTIONS" <<'PY'
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
errors = sum(r[3] for r in rows.values())
print(f"socket errors: {errors}")
print("rerun: scripts/bench.sh  (DURATION, CONNECTIONS, THREADS override)")
PY
