#!/usr/bin/env bash
# Benchmark by instruction counts: the component, the yardstick
# (bench/yardstick) and the seed Node.js service, each under valgrind's
# callgrind on one redis-server that runs under callgrind too, and the
# instructions each request costs the server and Redis. Unlike requests/s
# on this shared 2-core machine (rounds swing by 15%), the counts repeat to
# within a fraction of a percent, so a change of 1% is visible.
#
#   scripts/bench-instructions.sh               # 200 requests a row
#   REQUESTS=500 scripts/bench-instructions.sh
#
# Rows: (b) every request books a new seat, (a) every request asks for a
# seat already sold (409), for the component, the yardstick and the seed;
# then the component's floors, (c) GET /health (open + PING) and (d) GET
# /api/version (no Redis); then the component's other operations, on events
# made beforehand in rows of 40 seats: (e) a hold of two named seats, each
# request its own; (f) confirming a hold, each request its own hold and
# token, the holds made before the row; (g) a best-available hold of 2
# adjacent seats, the front rows filling as the row runs (request k of the
# row, warm-up included, lands in row ceil(k/20), so the rows skipped
# grow with REQUESTS; the event has a row to spare so it never sells out);
# (h) GET of a seat map of 10 x 40 seats, 6 of each row booked and 2 held,
# with no validator (200, not 304). The requests send no Idempotency-Key,
# as the booking rows do. Server instructions are those of Spin's serving
# process (`spin trigger http`: Wasmtime, the host's Redis client, hyper
# and the guest) or of the seed's node; Redis instructions are
# redis-server's user-space work for the request (its kernel time, mostly
# the per-request connection Spin opens, is not counted). The ratio
# yardstick/component of server instructions is what the requests/s ratio
# of scripts/bench.sh would be if time followed instructions. This is a
# benchmark, not a test: it asserts nothing. Takes about 5 minutes (Spin
# compiles each component under valgrind first).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

SEED_SRC="${SEED_SRC:-$ROOT/../shared/reference/seed-node}"
WORK="$ROOT/target/bench-instructions"
export CALLGRIND_DIR="$WORK/callgrind"
rm -rf "$WORK" && mkdir -p "$CALLGRIND_DIR"
# instructions.py sends WARM_UP requests, then REQUESTS; the fixtures of
# rows (e) to (g) are made for that many.
export REQUESTS="${REQUESTS:-200}" WARM_UP=30
ADMIN_TOKEN="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"

# An older checkout (before runtime-config.toml) has neither the file nor
# spin_variable_defaults: it runs as its own scripts ran it, on Spin's
# built-in env provider and the manifest defaults.
RUNTIME_CONFIG=()
[ -f "$ROOT/runtime-config.toml" ] && RUNTIME_CONFIG=(--runtime-config-file "$ROOT/runtime-config.toml")
declare -F spin_variable_defaults >/dev/null || spin_variable_defaults() { :; }

ensure_redis_server
command -v valgrind >/dev/null || apt_install valgrind
find_spin
prepare_bench_builds "$WORK"

# Every process below starts with instrumentation off; instructions.py
# switches it on around each measured row only.
CALLGRIND=(valgrind --tool=callgrind --instr-atstart=no --trace-children=yes)
trap_stop_started

REDIS_PORT=$(free_port)
"${CALLGRIND[@]}" --callgrind-out-file="$CALLGRIND_DIR/redis.%p.out" \
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
  >"$WORK/redis.log" 2>&1 &
pids+=($!)
REDIS_PID=$!

# start_under_callgrind NAME DIR MANIFEST: `spin up` of DIR/MANIFEST under
# callgrind in a process group of its own; sets PORT and PGID.
start_under_callgrind() {
  local name="$1" dir="$2" manifest="$3" home
  home="$(mktemp -d "${TMPDIR:-/tmp}/seat-booking-$name.XXXXXX")"
  spin_homes+=("$home")
  PORT=$(free_port)
  # Every variable set, the others at their spin.toml defaults
  # (spin_variable_defaults), as start_spin runs the product.
  (cd "$home" && export HOME="$home" \
    SPIN_VARIABLE_REDIS_ADDRESS="redis://127.0.0.1:$REDIS_PORT" SPIN_VARIABLE_REDIS_HOST="127.0.0.1:$REDIS_PORT" \
    SPIN_VARIABLE_ADMIN_TOKEN="$ADMIN_TOKEN" \
    SPIN_VARIABLE_QUEUE_SECRET="$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" &&
    mapfile -t defaults < <(spin_variable_defaults "$dir/$manifest") &&
    exec env "${defaults[@]}" setsid "${CALLGRIND[@]}" --callgrind-out-file="$CALLGRIND_DIR/$name.%p.out" \
    "$SPIN_BIN" up --from "$dir/$manifest" --listen "127.0.0.1:$PORT" \
    "${RUNTIME_CONFIG[@]}" \
    --state-dir "$home/state" --log-dir "$home/logs") </dev/null >"$WORK/$name.log" 2>&1 &
  PGID=$!
  spin_pgids+=("$PGID")
}

# serving_pid PGID: the `spin trigger http` process of a `spin up` group.
serving_pid() { pgrep -g "$1" -f "trigger http" | head -n1; }

# wait_for URL: until URL answers at all (up to 5 minutes under valgrind).
wait_for() {
  for _ in $(seq 1500); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" != 000 ] && return 0
    sleep 0.2
  done
  say "nothing answered at $1; see $WORK/*.log"
  return 1
}

say "starting redis-server, the component, the yardstick and the seed under callgrind"
start_under_callgrind component "$ROOT" spin.toml
COMPONENT_PORT=$PORT COMPONENT_PGID=$PGID
start_under_callgrind yardstick "$ROOT/bench/yardstick" spin.toml
YARD_PORT=$PORT YARD_PGID=$PGID
SEED_PORT=$(free_port)
(cd "$WORK/seed-node" && REDIS_URL="redis://127.0.0.1:$REDIS_PORT" PORT="$SEED_PORT" \
  exec "${CALLGRIND[@]}" --callgrind-out-file="$CALLGRIND_DIR/seed.%p.out" node server.js) \
  >"$WORK/seed.log" 2>&1 &
pids+=($!)
SEED_PID=$!
wait_for "http://127.0.0.1:$COMPONENT_PORT/api/version"
wait_for "http://127.0.0.1:$YARD_PORT/"
wait_for "http://127.0.0.1:$SEED_PORT/"
COMPONENT_PID=$(serving_pid "$COMPONENT_PGID")
YARD_PID=$(serving_pid "$YARD_PGID")

# The seat every (a) request asks for, sold once beforehand.
for url in "http://127.0.0.1:$COMPONENT_PORT/api/book/sold-1" "http://127.0.0.1:$YARD_PORT/api/book/sold-1" \
  "http://127.0.0.1:$SEED_PORT/api/book/sold-1"; do
  curl -s -o /dev/null -X POST "$url"
done

# The events of rows (e) to (h), and their requests, through the component
# (instrumentation off): one file of requests a row, for instructions.py.
say "making the events, holds and bookings of rows (e) to (h)"
python3 - "$COMPONENT_PORT" "$ADMIN_TOKEN" "$WORK" <<'PY'
import http.client, json, math, os, sys
port, admin, work = int(sys.argv[1]), sys.argv[2], sys.argv[3]
count = int(os.environ["WARM_UP"]) + int(os.environ["REQUESTS"])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

def post(path, body, token=None, want=201):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    conn.request("POST", path, body=json.dumps(body), headers=headers)
    response = conn.getresponse()
    answer = response.read()
    if response.status != want:
        raise SystemExit(f"POST {path}: {response.status} {answer[:300]!r}")
    return json.loads(answer)

def event(event_id, rows):
    seats = [{"label": f"R{r}", "seats": 40} for r in range(1, rows + 1)]
    post("/api/events", {"id": event_id, "name": event_id, "rows": seats}, admin)

def pair(i):
    """Request i's two seats: 20 pairs a row of 40."""
    row, first = i // 20 + 1, 2 * (i % 20) + 1
    return [f"R{row}-{first}", f"R{row}-{first + 1}"]

def write(name, requests):
    with open(os.path.join(work, name), "w") as out:
        out.writelines(json.dumps(request) + "\n" for request in requests)

rows = math.ceil(count / 20)
event("bench-named", rows)
write("named.jsonl", [{"path": "/api/events/bench-named/holds", "body": {"seats": pair(i)}}
                      for i in range(count)])
# The holds to confirm, and the map's, last an hour: they outlive the rows
# measured before theirs, under valgrind.
event("bench-confirm", rows)
confirms = []
for i in range(count):
    hold = post("/api/events/bench-confirm/holds", {"seats": pair(i), "ttlSeconds": 3600})
    confirms.append({"path": f"/api/events/bench-confirm/holds/{hold['holdId']}/confirm",
                     "headers": {"authorization": f"Bearer {hold['holdToken']}"}})
write("confirm.jsonl", confirms)
event("bench-best", rows + 1)
write("best.jsonl", [{"path": "/api/events/bench-best/holds", "body": {"bestAvailable": {"count": 2}}}
                     for _ in range(count)])
event("bench-map", 10)
for r in range(1, 11):
    post("/api/events/bench-map/bookings", {"seats": [f"R{r}-{n}" for n in range(1, 7)]})
    post("/api/events/bench-map/holds", {"seats": [f"R{r}-7", f"R{r}-8"], "ttlSeconds": 3600})
PY

say "measuring $REQUESTS requests a row (server and Redis instructions per request)"
printf '  %-28s %12s %10s  %s\n' row server Redis statuses
python3 bench/instructions.py "$WORK/results" "$REDIS_PID" \
  "(b) component:$COMPONENT_PID:$COMPONENT_PORT:POST:/api/book/{n}" \
  "(b) yardstick:$YARD_PID:$YARD_PORT:POST:/api/book/{n}" \
  "(b) seed:$SEED_PID:$SEED_PORT:POST:/api/book/{n}" \
  "(a) component:$COMPONENT_PID:$COMPONENT_PORT:POST:/api/book/sold-1" \
  "(a) yardstick:$YARD_PID:$YARD_PORT:POST:/api/book/sold-1" \
  "(a) seed:$SEED_PID:$SEED_PORT:POST:/api/book/sold-1" \
  "(c) component /health:$COMPONENT_PID:$COMPONENT_PORT:GET:/health" \
  "(d) component /api/version:$COMPONENT_PID:$COMPONENT_PORT:GET:/api/version" \
  "(e) component hold 2 named:$COMPONENT_PID:$COMPONENT_PORT:POST:@$WORK/named.jsonl" \
  "(f) component confirm hold:$COMPONENT_PID:$COMPONENT_PORT:POST:@$WORK/confirm.jsonl" \
  "(g) component best available:$COMPONENT_PID:$COMPONENT_PORT:POST:@$WORK/best.jsonl" \
  "(h) component seat map 10x40:$COMPONENT_PID:$COMPONENT_PORT:GET:/api/events/bench-map/seats"

python3 - "$WORK/results" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    fields = line.split()
    rows[" ".join(fields[:-3])] = (int(fields[-3]), int(fields[-2]))
print()
print("instructions per request, component vs yardstick and seed:")
for row in ("(b)", "(a)"):
    comp, yard, seed = (rows[f"{row} {n}"] for n in ("component", "yardstick", "seed"))
    print(f"  {row} server: component {comp[0]:,} vs yardstick {yard[0]:,}: "
          f"yardstick/component {yard[0] / comp[0]:.3f}, component/seed {comp[0] / seed[0]:.2f}")
    print(f"  {row} Redis:  component {comp[1]:,} vs yardstick {yard[1]:,} ({comp[1] - yard[1]:+,}), "
          f"seed {seed[1]:,}")
PY
echo
echo "rerun: scripts/bench-instructions.sh   (REQUESTS=N for more requests a row; dumps in $CALLGRIND_DIR)"
