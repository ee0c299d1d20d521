#!/usr/bin/env bash
# Benchmark: the component under real `spin up` beside the seed Node.js
# service (../shared/reference/seed-node) and the yardstick component
# (bench/yardstick: the bare protocol, open + SET NX EX + one five-line
# EVAL, nothing else), all on one Redis, in one run. Spin is found as
# scripts/lib.sh's find_spin says (SPIN_BIN, else spin 3.x/4.x on the PATH,
# else ../shared/tools/spin/spin).
#
#   scripts/bench.sh                 # 3 interleaved rounds, 10 s per row, 32 connections, 2 wrk threads
#   ROUNDS=5 DURATION=30 CONNECTIONS=64 THREADS=2 scripts/bench.sh
#
# Rows: (a) every client books seat 1, (b) every request books a new seat,
# each for the seed, the component and the yardstick, and (b) again for a
# second component instance with redis_replica_acks=1 (a replica of the
# bench Redis is attached for the whole run); (c) GET /health
# (open + PING: the ceiling of any request that uses Redis, on Spin); (d)
# GET /api/version (no Redis: Spin's per-request floor); (e) hold two named
# seats then confirm, (f) hold the best 4 adjacent seats, (g) read a
# 50,000-seat map (once, after the rounds), (h) join a waiting room, (i)
# poll a waiting-room ticket, (j) hold two named seats on an event without
# a waiting room and (k) the same with a waiting room's access token (checked
# by the component, no Redis). Rows (a) to (f) and (h) to (k) run in ROUNDS
# interleaved rounds (a 2 s warm-up before each row's first round); the
# table shows each row's median round. Per row: requests/s, p50, p99, Redis
# CPU per request (INFO cpu, used_cpu_sys + used_cpu_user over the measured
# run / requests), Redis commands per request (INFO commandstats, commands
# scripts run included), and the ratios component/yardstick,
# component/health and component/seed. Then, per operation, one request at a
# time: the commands each sends (MONITOR) and what its scripts cost Redis
# (commandstats usec). This is a benchmark, not a test: it asserts nothing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
ROUNDS="${ROUNDS:-3}"
OP_REPEATS="${OP_REPEATS:-20}"
SEED_SRC="${SEED_SRC:-$ROOT/../shared/reference/seed-node}"
WORK="$ROOT/target/bench"
mkdir -p "$WORK"
rm -rf "$WORK/snap" && mkdir -p "$WORK/snap"

ensure_redis_server
command -v wrk >/dev/null || apt_install wrk
find_spin
prepare_bench_builds "$WORK"

trap_stop_started
start_service "$WORK"
COMPONENT_PGID=$SPIN_PGID
SEED_PORT=$(free_port)
(cd "$WORK/seed-node" && REDIS_URL="redis://127.0.0.1:$REDIS_PORT" PORT="$SEED_PORT" exec node server.js) >"$WORK/seed.log" 2>&1 &
pids+=($!)
SEED_PID=$!

# The yardstick: its own spin.toml, same Redis, its own throwaway HOME and
# process group (as start_spin does for the product).
YARD_PORT=$(free_port)
yard_home="$(mktemp -d "${TMPDIR:-/tmp}/seat-booking-yardstick.XXXXXX")"
spin_homes+=("$yard_home")
(cd "$ROOT/bench/yardstick" && HOME="$yard_home" \
  SPIN_VARIABLE_REDIS_ADDRESS="redis://127.0.0.1:$REDIS_PORT" SPIN_VARIABLE_REDIS_HOST="127.0.0.1:$REDIS_PORT" \
  exec setsid "$SPIN_BIN" up --from "$ROOT/bench/yardstick/spin.toml" --listen "127.0.0.1:$YARD_PORT" \
  --runtime-config-file "$ROOT/runtime-config.toml" --state-dir "$yard_home/state" --log-dir "$yard_home/logs") </dev/null >"$WORK/yardstick.log" 2>&1 &
spin_pgids+=($!)
YARD_PGID=$!

# A replica of the bench Redis, and a second product instance with
# redis_replica_acks=1 (WAIT 1 after every state change), for the
# durability row: the same booking run with and without waiting for a
# replica, side by side. (Every row runs with the replica attached.)
REPLICA_PORT=$(free_port)
# --dir: a replica's first sync writes the primary's RDB into its working
# directory, which would otherwise leave dump.rdb in the project root.
redis-server --bind 127.0.0.1 --port "$REPLICA_PORT" --save "" --appendonly no --dir "$WORK" \
  --replicaof 127.0.0.1 "$REDIS_PORT" >"$WORK/replica.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  redis-cli -p "$REPLICA_PORT" info replication 2>/dev/null | grep -q master_link_status:up && break
  sleep 0.1
done
DURABLE_PORT=$(free_port)
SPIN_VARIABLE_REDIS_ADDRESS="redis://127.0.0.1:$REDIS_PORT" SPIN_VARIABLE_REDIS_HOST="127.0.0.1:$REDIS_PORT" \
SPIN_VARIABLE_ADMIN_TOKEN="$ADMIN_TOKEN" SPIN_VARIABLE_REDIS_REPLICA_ACKS=1 \
  start_spin "127.0.0.1:$DURABLE_PORT" "$WORK/spin-acks1.log"
DURABLE_PGID=$SPIN_PGID
DURABLE="http://127.0.0.1:$DURABLE_PORT"

for _ in $(seq 300); do curl -s -o /dev/null "http://127.0.0.1:$SEED_PORT/" && break; sleep 0.1; done
for _ in $(seq 600); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$YARD_PORT/")" = 404 ] && break
  sleep 0.1
done

redis() { redis-cli -p "$REDIS_PORT" "$@"; }
# snap FILE: Redis's CPU counters and per-command statistics, now.
snap() { redis info cpu >"$1"; redis info commandstats >>"$1"; }

# server_ticks URL: CPU clock ticks (user + system) used so far by the
# processes serving URL: the seed's node, or every process of a `spin up`
# (it runs its trigger in a child process of the same group).
server_ticks() {
  local procs
  case "$1" in
    "http://127.0.0.1:$SEED_PORT"*) procs=$SEED_PID ;;
    "http://127.0.0.1:$YARD_PORT"*) procs=$(pgrep -g "$YARD_PGID") ;;
    "http://127.0.0.1:$DURABLE_PORT"*) procs=$(pgrep -g "$DURABLE_PGID") ;;
    *) procs=$(pgrep -g "$COMPONENT_PGID") ;;
  esac
  # shellcheck disable=SC2086 # procs is a list of pids
  for p in $procs; do cut -d' ' -f14,15 "/proc/$p/stat"; done | awk '{t += $1 + $2} END {print t + 0}'
}

# run NAME URL SCRIPT [ARGS...] -> appends "NAME ROUND requests duration_us
# p50_us p99_us errors server_ticks" to $WORK/results, with INFO snapshots
# around the measured run in $WORK/snap/NAME.ROUND.{before,after}; before
# the first round, a 2 s warm-up with the words of $WARM as its arguments.
: >"$WORK/results"
run() {
  local name="$1" url="$2" script="$3"; shift 3
  if [ "$ROUND" = 1 ]; then
    # shellcheck disable=SC2086 # WARM is a list of words
    wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -s "bench/$script" "$url" -- ${WARM:-warm-$name-$RANDOM} >/dev/null
  fi
  local line ticks
  snap "$WORK/snap/$name.$ROUND.before"
  ticks=$(server_ticks "$url")
  line=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -s "bench/$script" "$url" -- "$@" | grep '^RESULT')
  ticks=$(( $(server_ticks "$url") - ticks ))
  snap "$WORK/snap/$name.$ROUND.after"
  read -r _ requests duration_us p50 p99 errors _ <<<"$line"
  printf '%s %s %s %s %s %s %s %s\n' "$name" "$ROUND" "$requests" "$duration_us" "$p50" "$p99" "$errors" "$ticks" >>"$WORK/results"
  say "round $ROUND $name: $(( requests * 1000000 / duration_us )) req/s, p50 ${p50} us, p99 ${p99} us, socket errors $errors"
}

COMPONENT="$TARGET"
SEED="http://127.0.0.1:$SEED_PORT"
YARD="http://127.0.0.1:$YARD_PORT"

# create_event ID ROWS SEATS_PER_ROW: rows R1..R<ROWS>.
# A fourth argument adds a waiting room letting that many in a minute (120
# minutes of access).
create_event() {
  python3 -c 'import json,sys; e = {"id": sys.argv[1], "name": sys.argv[1], "rows": [{"label": f"R{i}", "seats": int(sys.argv[3])} for i in range(1, int(sys.argv[2]) + 1)]}
if len(sys.argv) > 4: e["waitingRoom"] = {"admitPerMinute": int(sys.argv[4]), "accessMinutes": 120}
print(json.dumps(e))' "$@" |
    curl -sf -o /dev/null -X POST -H "authorization: Bearer $ADMIN_TOKEN" -H 'content-type: application/json' --data-binary @- "$COMPONENT/api/events"
}
for round in $(seq "$ROUNDS"); do create_event "hold-confirm-$round" 1000 100; done
create_event best-four 200 100
create_event stadium 500 100
create_event ops 1000 100
# Waiting rooms: one to join (its tickets are admitted at the largest rate,
# so the queue never delays the bench), and per round an event to hold on
# without and one with a waiting room, with one admitted ticket's token.
create_event queue-join 1 10 100000
for round in $(seq "$ROUNDS"); do
  create_event "hold-plain-$round" 1000 100
  create_event "hold-queued-$round" 1000 100 100000
done
create_event ops-queued 1000 100 100000
# admitted_ticket EVENT: joins EVENT's waiting room and prints "<ticket id>
# <ticket token> <access token>" once the ticket is admitted.
admitted_ticket() {
  python3 - "$COMPONENT" "$1" <<'PY'
import json, sys, time, urllib.request
base, event = sys.argv[1], sys.argv[2]
join = urllib.request.Request(f"{base}/api/events/{event}/queue", method="POST")
ticket = json.load(urllib.request.urlopen(join))
for _ in range(100):
    poll = urllib.request.Request(f"{base}/api/events/{event}/queue/{ticket['ticketId']}",
                                  headers={"authorization": "Bearer " + ticket["ticketToken"]})
    status = json.load(urllib.request.urlopen(poll))
    if status["admitted"]:
        print(ticket["ticketId"], ticket["ticketToken"], status["accessToken"])
        break
    time.sleep(0.1)
PY
}
read -r POLL_TICKET POLL_TOKEN _ <<<"$(admitted_ticket queue-join)"
declare -A ACCESS
for round in $(seq "$ROUNDS"); do
  read -r _ _ ACCESS[$round] <<<"$(admitted_ticket "hold-queued-$round")"
done
read -r _ _ OPS_ACCESS <<<"$(admitted_ticket ops-queued)"
say "seeding the stadium map: 5,000 seats booked, 5,000 held"
for row in $(seq 1 100); do
  seats=$(python3 -c 'import sys; r=sys.argv[1]; print(",".join(f"\"R{r}-{n}\"" for n in range(1, 51)))' "$row")
  if [ $((row % 2)) -eq 0 ]; then what=bookings; else what=holds; fi
  curl -sf -o /dev/null -X POST -H 'content-type: application/json' --data-binary "{\"seats\":[$seats]}" "$COMPONENT/api/events/stadium/$what"
done

say "measuring: $ROUNDS interleaved rounds, $THREADS wrk threads, $CONNECTIONS connections, ${DURATION}s per row; $(uptime)"
uptime >"$WORK/load-before"
# run_pair ROW PATH SCRIPT [PREFIX]: row ROW for the product and then the
# yardstick in odd rounds, the other way round in even ones, so neither
# always runs right after the seed or on the larger Redis; PREFIX (the
# distinct-seat rows' seat prefix) is given as WHO-PREFIX.
run_pair() {
  local order=(component yardstick) who url
  [ $((ROUND % 2)) -eq 1 ] || order=(yardstick component)
  for who in "${order[@]}"; do
    if [ "$who" = component ]; then url=$COMPONENT; else url=$YARD; fi
    run "$who-$1" "$url$2" "$3" ${4:+"$who-$4"}
  done
}

for ROUND in $(seq "$ROUNDS"); do
  run seed-one-seat "$SEED/api/book/1" book_one_seat.lua
  run_pair one-seat /api/book/1 book_one_seat.lua
  run seed-distinct "$SEED/" book_distinct_seats.lua "seed-$$-$ROUND"
  run_pair distinct / book_distinct_seats.lua "$$-$ROUND"
  run component-distinct-acks1 "$DURABLE/" book_distinct_seats.lua "durable-$$-$ROUND"
  run component-health "$COMPONENT/health" get.lua
  run component-floor "$COMPONENT/api/version" get.lua
  WARM="hold-confirm-$ROUND 1" run hold-confirm "$COMPONENT/" hold_confirm.lua "hold-confirm-$ROUND" 501
  WARM="best-four" run best-four "$COMPONENT/" best_available.lua best-four
  WARM="queue-join" run queue-join "$COMPONENT/" queue_join.lua queue-join
  WARM="queue-join $POLL_TICKET $POLL_TOKEN" run queue-poll "$COMPONENT/" queue_poll.lua queue-join "$POLL_TICKET" "$POLL_TOKEN"
  WARM="hold-plain-$ROUND 1" run hold-plain "$COMPONENT/" hold_named.lua "hold-plain-$ROUND" 501
  WARM="hold-queued-$ROUND 1 ${ACCESS[$ROUND]}" run hold-access "$COMPONENT/" hold_named.lua "hold-queued-$ROUND" 501 "${ACCESS[$ROUND]}"
done
ROUND=1 CONNECTIONS=4 run stadium-map "$COMPONENT/api/events/stadium/seats" get.lua
uptime >"$WORK/load-after"

# Per operation, one request at a time, OP_REPEATS times: commandstats
# around each request (what its scripts and commands cost Redis).
say "measuring each operation's Redis cost, $OP_REPEATS requests each"
post_json() { curl -s -X POST -H 'content-type: application/json' "${@:3}" --data-binary "$2" "$COMPONENT$1"; }
json_field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
# op NAME COMMAND...: runs the command between two snapshots; its stdout is kept in $OUT.
op() {
  local name="$1"; shift
  snap "$WORK/snap/op.$name.$i.before"
  OUT=$("$@")
  snap "$WORK/snap/op.$name.$i.after"
}
for i in $(seq "$OP_REPEATS"); do
  op health curl -s -o /dev/null "$COMPONENT/health"
  op book curl -s -o /dev/null -X POST "$COMPONENT/api/book/op-seat-$$-$i"
  op book-sold curl -s -o /dev/null -X POST "$COMPONENT/api/book/op-seat-$$-$i"
  # A random key (16 bytes in hex), as the component requires of every key.
  idem_key=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
  op book-idempotent curl -s -o /dev/null -X POST -H "idempotency-key: $idem_key" "$COMPONENT/api/book/op-idem-$$-$i"
  op book-replay curl -s -o /dev/null -X POST -H "idempotency-key: $idem_key" "$COMPONENT/api/book/op-idem-$$-$i"
  op yardstick-book curl -s -o /dev/null -X POST "$YARD/api/book/op-yard-$$-$i"
  op hold post_json /api/events/ops/holds "{\"seats\":[\"R$i-1\",\"R$i-2\"]}"
  hold_id=$(json_field "$OUT" holdId); hold_token=$(json_field "$OUT" holdToken)
  op confirm post_json "/api/events/ops/holds/$hold_id/confirm" '' -H "authorization: Bearer $hold_token"
  op best-available post_json /api/events/best-four/holds '{"bestAvailable":{"count":4}}'
  hold_id=$(json_field "$OUT" holdId); hold_token=$(json_field "$OUT" holdToken)
  op release curl -s -o /dev/null -X DELETE -H "authorization: Bearer $hold_token" "$COMPONENT/api/events/best-four/holds/$hold_id"
  op direct-booking post_json /api/events/ops/bookings "{\"seats\":[\"R$i-5\",\"R$i-6\"]}"
  booking_id=$(json_field "$OUT" bookingId); booking_token=$(json_field "$OUT" bookingToken)
  op cancel curl -s -o /dev/null -X DELETE -H "authorization: Bearer $booking_token" "$COMPONENT/api/events/ops/bookings/$booking_id"
  op seat-map curl -s -o /dev/null "$COMPONENT/api/events/stadium/seats"
  op queue-join post_json /api/events/ops-queued/queue ''
  ticket_id=$(json_field "$OUT" ticketId); ticket_token=$(json_field "$OUT" ticketToken)
  op queue-poll curl -s -o /dev/null -H "authorization: Bearer $ticket_token" "$COMPONENT/api/events/ops-queued/queue/$ticket_id"
  op hold-access post_json /api/events/ops-queued/holds "{\"seats\":[\"R$i-1\",\"R$i-2\"]}" -H "authorization: Bearer $OPS_ACCESS"
done

# Round trips per operation: one request each, with MONITOR counting the
# commands clients send (commands a script runs inside Redis are not round trips).
say "counting Redis round trips per operation"
redis monitor >"$WORK/monitor.log" 2>/dev/null &  # it complains when Redis stops at the end
monitor_pid=$!
pids+=("$monitor_pid")
sleep 0.3
mark() { redis echo "mark:$1" >/dev/null; }
mark health; curl -s -o /dev/null "$COMPONENT/health"
mark book; curl -s -o /dev/null -X POST "$COMPONENT/api/book/rt-seat"
mark book-sold; curl -s -o /dev/null -X POST "$COMPONENT/api/book/rt-seat"
mark yardstick-book; curl -s -o /dev/null -X POST "$YARD/api/book/rt-seat-yardstick"
mark hold; hold=$(post_json /api/events/hold-confirm-1/holds '{"seats":["R1000-1","R1000-2"]}')
hold_id=$(json_field "$hold" holdId); hold_token=$(json_field "$hold" holdToken)
mark confirm; post_json "/api/events/hold-confirm-1/holds/$hold_id/confirm" '' -H "authorization: Bearer $hold_token" >/dev/null
mark best-available; hold=$(post_json /api/events/best-four/holds '{"bestAvailable":{"count":4}}')
hold_id=$(json_field "$hold" holdId); hold_token=$(json_field "$hold" holdToken)
mark release; curl -s -o /dev/null -X DELETE -H "authorization: Bearer $hold_token" "$COMPONENT/api/events/best-four/holds/$hold_id"
mark direct-booking; post_json /api/events/hold-confirm-1/bookings '{"seats":["R1000-5","R1000-6"]}' >/dev/null
mark seat-map; curl -s -o /dev/null "$COMPONENT/api/events/stadium/seats"
mark queue-join; ticket=$(post_json /api/events/ops-queued/queue '')
ticket_id=$(json_field "$ticket" ticketId); ticket_token=$(json_field "$ticket" ticketToken)
mark queue-poll; curl -s -o /dev/null -H "authorization: Bearer $ticket_token" "$COMPONENT/api/events/ops-queued/queue/$ticket_id"
mark hold-access; post_json /api/events/ops-queued/holds '{"seats":["R999-1","R999-2"]}' -H "authorization: Bearer $OPS_ACCESS" >/dev/null
mark end
sleep 0.3
kill "$monitor_pid" 2>/dev/null || true

python3 - "$WORK" "$DURATION" "$CONNECTIONS" "$("$SPIN_BIN" --version)" "$THREADS" "$ROUNDS" "$OP_REPEATS" "$(getconf CLK_TCK)" <<'PY'
import glob, os, statistics, sys
work, duration, conns, spin, threads, rounds, repeats, clk_tck = sys.argv[1:9]

def read_snap(path):
    """(cpu seconds, {command: (calls, usec)}) from an INFO cpu + commandstats dump."""
    cpu, cmds = 0.0, {}
    for line in open(path):
        line = line.strip()
        if line.startswith(("used_cpu_sys:", "used_cpu_user:")):
            cpu += float(line.split(":")[1])
        elif line.startswith("cmdstat_"):
            name, fields = line[len("cmdstat_"):].split(":", 1)
            f = dict(kv.split("=") for kv in fields.split(","))
            cmds[name] = (int(f["calls"]), int(f["usec"]))
    return cpu, cmds

def delta(prefix):
    """Redis CPU µs, commands (INFO excluded) and per-command (calls, usec) between two snapshots."""
    cpu0, c0 = read_snap(prefix + ".before")
    cpu1, c1 = read_snap(prefix + ".after")
    per = {}
    for name, (calls, usec) in c1.items():
        b = c0.get(name, (0, 0))
        if name != "info" and calls - b[0]:
            per[name] = (calls - b[0], usec - b[1])
    return (cpu1 - cpu0) * 1e6, sum(c for c, _ in per.values()), per

# Load rows: each row's rounds, then the median round by req/s.
rounds_of = {}
for line in open(os.path.join(work, "results")):
    name, rnd, requests, duration_us, p50, p99, errors, ticks = line.split()
    requests = int(requests)
    cpu_us, commands, _ = delta(os.path.join(work, "snap", f"{name}.{rnd}"))
    rounds_of.setdefault(name, []).append(dict(
        rnd=rnd, rps=requests * 1e6 / int(duration_us), p50=int(p50) / 1000, p99=int(p99) / 1000,
        errors=int(errors), cpu=cpu_us / requests, cmds=commands / requests,
        server=int(ticks) * 1e6 / int(clk_tck) / requests))
rows = {}
for name, rs in rounds_of.items():
    rs = sorted(rs, key=lambda r: r["rps"])
    med = dict(rs[(len(rs) - 1) // 2] if len(rs) % 2 == 0 else rs[len(rs) // 2])
    med["rps"] = statistics.median(r["rps"] for r in rs)
    med["all"] = [round(r["rps"]) for r in rounds_of[name]]
    med["cpu"] = statistics.median(r["cpu"] for r in rs)
    med["cmds"] = statistics.median(r["cmds"] for r in rs)
    med["server"] = statistics.median(r["server"] for r in rs)
    rows[name] = med

print(f"\nseat booking benchmark on {spin}: wrk, {threads} threads, {conns} connections, "
      f"{duration} s per row, {rounds} interleaved rounds (median)")
print("load average before: " + open(os.path.join(work, "load-before")).read().split("load average:")[1].strip()
      + ", after: " + open(os.path.join(work, "load-after")).read().split("load average:")[1].strip())
head = f"{'row':<38}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'server µs':>10}{'Redis µs':>10}{'cmds':>6}{'vs yard':>9}{'vs health':>10}{'vs seed':>9}   rounds req/s"
print(head)
health = rows["component-health"]["rps"]
def show(label, key, yard=None, seed=None, vs_health=True):
    r = rows[key]
    ratio = lambda other: f"{r['rps'] / rows[other]['rps']:.2f}x" if other else ""
    vs_h = f"{r['rps'] / health:.2f}x" if vs_health else ""
    print(f"{label:<38}{r['rps']:>8.0f}{r['p50']:>8.2f}{r['p99']:>8.2f}{r['server']:>10.0f}{r['cpu']:>10.1f}{r['cmds']:>6.1f}"
          f"{ratio(yard):>9}{vs_h:>10}{ratio(seed):>9}   {r['all']}")
for label, comp, seed, yard in [
    (f"(a) {conns} clients book seat 1", "component-one-seat", "seed-one-seat", "yardstick-one-seat"),
    (f"(b) {conns} clients, distinct seats", "component-distinct", "seed-distinct", "yardstick-distinct"),
]:
    show(label + ", seed", seed, vs_health=False)
    show(label + ", yardstick", yard)
    show(label + ", Spin", comp, yard, seed)
show(f"(b) ..., Spin, redis_replica_acks=1", "component-distinct-acks1", "yardstick-distinct", "seed-distinct")
r0, r1 = rows["component-distinct"]["rps"], rows["component-distinct-acks1"]["rps"]
print(f"    redis_replica_acks=1 / 0 (distinct seats, one replica on loopback): {r1 / r0:.2f}x")
# "vs yard" above is the ratio of the two medians; the ratio round by round
# (each round runs the product and the yardstick one after the other) is
# the other reading of "median of interleaved rounds", so both are shown.
for label, comp, yard in [("(a)", "component-one-seat", "yardstick-one-seat"),
                          ("(b)", "component-distinct", "yardstick-distinct")]:
    yard_rps = {r["rnd"]: r["rps"] for r in rounds_of[yard]}
    each = [r["rps"] / yard_rps[r["rnd"]] for r in rounds_of[comp] if r["rnd"] in yard_rps]
    print(f"    {label} Spin / yardstick round by round: "
          + ", ".join(f"{x:.2f}" for x in each) + f"; median {statistics.median(each):.2f}x")
show("(c) GET /health (open + PING)", "component-health")
show("(d) GET /api/version (no Redis: floor)", "component-floor")
for label, key in [
    ("(e) hold 2 seats + confirm", "hold-confirm"),
    ("(f) best available, 4 adjacent", "best-four"),
    ("(g) 50,000-seat map, 4 connections", "stadium-map"),
    ("(h) join a waiting room", "queue-join"),
    ("(i) poll a waiting-room ticket", "queue-poll"),
    ("(j) hold 2 seats, no waiting room", "hold-plain"),
    ("(k) hold 2 seats with an access token", "hold-access"),
]:
    show(label, key)
print("server µs: CPU (user + system, /proc) of the serving process (node, or every process of that `spin up`)")
print("over the measured run / requests: steadier than req/s from round to round on a shared machine.")
print("Redis µs: Redis CPU (INFO cpu, sys + user) over the measured run / requests; cmds: Redis commands per")
print("request (INFO commandstats, including the commands scripts run). vs yard / vs health / vs seed: req/s over")
print("the yardstick's, over (c), over the seed's, in the same run. (a) answers 201 once, then 409;")
print("(e) counts the hold and the confirm as one request each; (g) runs once, after the rounds;")
print("(k) is (j) on an event with a waiting room: the difference is the HMAC check, no Redis.")

# Per operation: what one request's commands cost Redis (commandstats usec).
ops = {}
for before in sorted(glob.glob(os.path.join(work, "snap", "op.*.before"))):
    _, name, i, _ = os.path.basename(before).split(".")
    _, _, per = delta(before[: -len(".before")])
    ops.setdefault(name, []).append(per)
print(f"\nRedis cost per request, one request at a time ({repeats} each; commandstats usec, median):")
print(f"  {'operation':<18}{'script µs':>10}{'cmds':>6}   per command: calls, usec (a script's usec includes the commands it runs)")
for name, pers in ops.items():
    script = [sum(u for c, (n, u) in p.items() if c in ("eval", "evalsha")) for p in pers]
    cmds = [sum(n for n, _ in p.values()) for p in pers]
    names = sorted({c for p in pers for c in p})
    detail = ", ".join(f"{c} {statistics.median(p.get(c, (0, 0))[0] for p in pers):g}x"
                       f" {statistics.median(p.get(c, (0, 0))[1] for p in pers):g}" for c in names)
    print(f"  {name:<18}{statistics.median(script):>10g}{statistics.median(cmds):>6g}   {detail}")

# Round trips: the client commands between two marks (script-internal
# commands carry "lua]" and are not round trips; the marks are ECHOs).
trips, current = {}, None
for line in open(os.path.join(work, "monitor.log")):
    if '"echo"' in line.lower() and '"mark:' in line:
        current = line.split('"mark:')[1].split('"')[0]
        trips[current] = []
    elif current and current != "end" and " lua]" not in line and '"' in line:
        trips[current].append(line.split('"')[1].upper())
print("\nRedis round trips after open, per request (MONITOR):")
for op, commands in trips.items():
    if op != "end":
        print(f"  {op:<16}{len(commands)}  {' '.join(commands)}")
errors = sum(r["errors"] for r in rows.values())
print(f"socket errors: {errors}")
print(f"rerun: ROUNDS={rounds} DURATION={duration} CONNECTIONS={conns} THREADS={threads} scripts/bench.sh"
      "  (SPIN_BIN picks another Spin; raw rows in target/bench/results, INFO snapshots in target/bench/snap)")
PY
