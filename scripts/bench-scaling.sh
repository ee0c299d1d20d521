#!/usr/bin/env bash
# How bookings/s grows from 1 to 2 instances of the component sharing one
# Redis: the horizontal-scaling measurement in docs/deployment.md.
#
#   scripts/bench-scaling.sh                     # 10 s per run, 2 rounds
#   DURATION=30 ROUNDS=3 CONNECTIONS=64 scripts/bench-scaling.sh
#   FSYNC=always scripts/bench-scaling.sh        # Redis with appendfsync always
#
# One redis-server started with deploy/redis.conf, two real Spin instances
# (`spin up`, found as scripts/lib.sh's find_spin says, each with its own
# throwaway HOME and state dir) serving the same spin.toml on two loopback
# ports, and wrk (bench/book_distinct_seats.lua: every request books a new
# seat). Each round measures
#   1 instance : one wrk, THREADS threads, CONNECTIONS connections, on Spin A;
#   2 instances: two wrk at once, each with half the threads and connections,
#                one on Spin A and one on Spin B (distinct seat ids),
# so the client side offers the same load both times. It also reads the CPU
# time each process used (from /proc; a Spin instance is its process group,
# `spin up` and its `spin trigger http`), to show where the machine's cores
# go, and checks afterwards that Redis holds exactly one booking per 201.
# A benchmark, not a test: it asserts nothing but that bookings add up.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
ROUNDS="${ROUNDS:-2}"
FSYNC="${FSYNC:-everysec}"
WORK="$ROOT/target/bench-scaling"
rm -rf "$WORK" && mkdir -p "$WORK/redis"

ensure_redis_server
command -v wrk >/dev/null || apt_install wrk
find_spin
build_component

trap_stop_started

REDIS_PORT=$(free_port)
redis-server deploy/redis.conf --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$WORK/redis" \
  --appendfsync "$FSYNC" >"$WORK/redis.log" 2>&1 &
redis_pid=$!
pids+=("$redis_pid")
for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

# Starts one Spin instance on the port $1 with the Redis above; sets SPIN_PGID.
start_instance() {
  SPIN_VARIABLE_REDIS_ADDRESS="redis://127.0.0.1:$REDIS_PORT" \
  SPIN_VARIABLE_REDIS_HOST="127.0.0.1:$REDIS_PORT" \
    start_spin "127.0.0.1:$1" "$WORK/spin-$1.log"
}
say "starting two instances of $("$SPIN_BIN" --version)"
PORT_A=$(free_port); start_instance "$PORT_A"; spin_a=$SPIN_PGID
PORT_B=$(free_port); start_instance "$PORT_B"; spin_b=$SPIN_PGID

# CPU time (1/100 s ticks: utime + stime) of a process and its threads.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# ... of every process in a process group (a Spin instance: `spin up` and
# its `spin trigger http`, which does the serving).
group_ticks() { cat /proc/[0-9]*/stat 2>/dev/null | awk -v g="$1" '$5 == g { t += $14 + $15 } END { print t + 0 }'; }
# ... and of the whole machine (all cores, busy = not idle and not iowait).
machine_busy() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
cpu_snapshot() { echo "$(ticks "$redis_pid") $(group_ticks "$spin_a") $(group_ticks "$spin_b") $(machine_busy)"; }

# wrk_run PORT THREADS CONNECTIONS SEAT_PREFIX -> "requests duration_us p50_us
# p99_us socket_errors status_errors"; wrk's own CPU seconds go to $WORK/wrk-cpu-<prefix>.
wrk_run() {
  local timer=()
  [ -x /usr/bin/time ] && timer=(/usr/bin/time -f '%U %S' -o "$WORK/wrk-cpu-$4")
  echo "0 0" >"$WORK/wrk-cpu-$4"
  "${timer[@]}" wrk -t"$2" -c"$3" -d"${DURATION}s" -s bench/book_distinct_seats.lua "http://127.0.0.1:$1/" -- "$4" |
    sed -n 's/^RESULT //p'
}
wrk_cpu() { awk '{print $1 + $2}' "$WORK/wrk-cpu-$1"; }

say "warming up both instances"
wrk -t1 -c4 -d2s -s bench/book_distinct_seats.lua "http://127.0.0.1:$PORT_A/" -- warm-a >/dev/null
wrk -t1 -c4 -d2s -s bench/book_distinct_seats.lua "http://127.0.0.1:$PORT_B/" -- warm-b >/dev/null

before_runs=$(redis-cli -p "$REDIS_PORT" scard 'bookings:{default}')
half_threads=$(( THREADS > 1 ? THREADS / 2 : 1 ))
half_connections=$(( CONNECTIONS / 2 ))
: >"$WORK/results"
for round in $(seq "$ROUNDS"); do
  say "round $round: 1 Spin instance, ${DURATION}s"
  before=$(cpu_snapshot)
  one=$(wrk_run "$PORT_A" "$THREADS" "$CONNECTIONS" "one-$round")
  echo "one $one $before $(cpu_snapshot) $(wrk_cpu "one-$round")" >>"$WORK/results"

  say "round $round: 2 Spin instances, ${DURATION}s"
  before=$(cpu_snapshot)
  wrk_run "$PORT_A" "$half_threads" "$half_connections" "two-a-$round" >"$WORK/two-a" &
  wrk_a=$!
  wrk_run "$PORT_B" "$half_threads" "$half_connections" "two-b-$round" >"$WORK/two-b" &
  wrk_b=$!
  wait "$wrk_a" "$wrk_b"
  after=$(cpu_snapshot)
  echo "twoa $(cat "$WORK/two-a") $before $after $(wrk_cpu "two-a-$round")" >>"$WORK/results"
  echo "twob $(cat "$WORK/two-b") $before $after $(wrk_cpu "two-b-$round")" >>"$WORK/results"
done

stored=$(( $(redis-cli -p "$REDIS_PORT" scard 'bookings:{default}') - before_runs ))
python3 - "$WORK/results" "$stored" "$DURATION" "$CONNECTIONS" "$THREADS" "$FSYNC" <<'PY'
import sys
rows = [line.split() for line in open(sys.argv[1])]
stored, duration, conns, threads, fsync = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
print(f"\nbookings/s, 1 vs 2 Spin instances on one Redis (appendfsync {fsync}): "
      f"{threads} wrk threads and {conns} connections in all, {duration} s per run")
print(f"{'run':<10}{'bookings/s':>12}{'p50 ms':>9}{'p99 ms':>9}"
      f"{'CPU s: redis':>14}{'spin A':>8}{'spin B':>8}{'wrk':>6}{'other':>7}{'machine':>9}")
booked = 0
one_rates, two_rates, cpu_all = [], [], []
# CPU seconds of the machine not used by Redis, Spin or wrk: other
# processes (anything else running on the machine) and interrupts.
other = lambda c: max(0.0, c[3] - c[0] - c[1] - c[2] - c[4])
i = 0
while i < len(rows):
    r = rows[i]
    if r[0] == "one":
        req, dur, p50, p99, sock, status = map(int, r[1:7])
        cpu = [(int(a) - int(b)) / 100 for a, b in zip(r[11:15], r[7:11])] + [float(r[15])]
        rate = (req - status) * 1e6 / dur
        one_rates.append(rate)
        cpu_all.append(cpu)
        booked += req - status
        print(f"{'1 spin':<10}{rate:>12.0f}{p50/1000:>9.2f}{p99/1000:>9.2f}{cpu[0]:>14.2f}{cpu[1]:>8.2f}{cpu[2]:>8.2f}{cpu[4]:>6.2f}{other(cpu):>7.2f}{cpu[3]:>9.2f}")
        i += 1
    else:
        a, b = rows[i], rows[i + 1]
        rate = 0
        for x in (a, b):
            req, dur, p50, p99, sock, status = map(int, x[1:7])
            rate += (req - status) * 1e6 / dur
            booked += req - status
        cpu = [(int(x) - int(y)) / 100 for x, y in zip(a[11:15], a[7:11])] + [float(a[15]) + float(b[15])]
        p50 = max(int(a[3]), int(b[3])) / 1000
        p99 = max(int(a[4]), int(b[4])) / 1000
        two_rates.append(rate)
        cpu_all.append(cpu)
        print(f"{'2 spins':<10}{rate:>12.0f}{p50:>9.2f}{p99:>9.2f}{cpu[0]:>14.2f}{cpu[1]:>8.2f}{cpu[2]:>8.2f}{cpu[4]:>6.2f}{other(cpu):>7.2f}{cpu[3]:>9.2f}")
        i += 2
one = sum(one_rates) / len(one_rates)
cpu_host = sum(c[1] + c[2] for c in cpu_all) / booked * 1000
cpu_redis = sum(c[0] for c in cpu_all) / booked * 1000
two = sum(two_rates) / len(two_rates)
print(f"mean: 1 instance {one:.0f}/s, 2 instances {two:.0f}/s, ratio {two / one:.2f}x")
print(f"CPU per booking: Spin {cpu_host:.3f} ms, Redis {cpu_redis:.3f} ms "
      f"(one Redis core at this cost: ~{1000 / cpu_redis:.0f} bookings/s)")
# wrk stops counting at the deadline with up to one request per connection
# still in flight; those may still book. So Redis may hold a few more.
runs = len(one_rates) + len(two_rates)
in_flight = stored - booked
ok = 0 <= in_flight <= runs * int(conns)
print(f"201s counted by wrk: {booked}; bookings Redis gained: {stored} "
      f"({in_flight} from requests still in flight at wrk's deadlines, at most {runs * int(conns)})"
      + ("" if ok else "  <-- MISMATCH"))
sys.exit(0 if ok else 1)
PY
say "logs in $WORK; rerun: scripts/bench-scaling.sh (DURATION, ROUNDS, CONNECTIONS, THREADS, FSYNC override)"
