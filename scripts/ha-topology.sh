#!/usr/bin/env bash
# A local high-availability Redis topology on 127.0.0.1, for failover tests
# and `scripts/run.sh --ha`; all files in DIR:
#   scripts/ha-topology.sh start|status|stop DIR
# `start` writes DIR/topology.env (ports, pids) and prints the front URL.
#
# One Redis primary and two replicas, each on a copy of deploy/redis.conf
# (Sentinel's CONFIG REWRITE rewrites the file a Redis was started with)
# plus per-instance options on the command line; three Sentinels, quorum 2;
# HAProxy's one front port, the only address clients get. The front leads
# to the Redis that says role:master (AUTH, PING, INFO replication) AND that
# a majority of the Sentinels name (one check per Sentinel; the front uses
# the first Redis with 2 of 3 checks up, else closes the connection at
# once). role:master alone is not enough: a frozen primary that wakes up
# after a failover says role:master for about 10 s, until Sentinel turns it
# into a replica. on-marked-down shutdown-sessions cuts its clients.
#
# Timings (environment overrides), tight for tests on loopback:
#   down-after-milliseconds 1000 (HA_DOWN_AFTER_MS), failover-timeout 5000
#     (HA_FAILOVER_TIMEOUT_MS); HAProxy checks every 200 ms
#     (HA_CHECK_INTER_MS), timeout 500 ms, fall 2, rise 1, retries 0.
#     Measured: writes through the front resume 2.8-3.0 s after the primary
#     is SIGKILLed (3.9 s with down-after 2000 or checks every 1000 ms).
#   min-replicas-to-write 1, min-replicas-max-lag 2 (HA_MIN_REPLICAS_TO_WRITE,
#     HA_MIN_REPLICAS_MAX_LAG): a primary cut off from both replicas refuses
#     writes (NOREPLICAS) after 2-3 s; see deploy/redis.conf.
#   repl-diskless-sync-delay 0: replicas sync at once, not after 5 s.
# REDIS_PASSWORD (optional): requirepass and masterauth on every Redis,
# Sentinel auth-pass, AUTH in HAProxy's check; kept in mode-600 files.
# Each wait is bounded: start gives up after 20 s (HA_START_TIMEOUT).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MASTER_NAME="${HA_MASTER_NAME:-seatbooking}"
DOWN_AFTER_MS="${HA_DOWN_AFTER_MS:-1000}"
FAILOVER_TIMEOUT_MS="${HA_FAILOVER_TIMEOUT_MS:-5000}"
CHECK_INTER_MS="${HA_CHECK_INTER_MS:-200}"
MIN_REPLICAS_TO_WRITE="${HA_MIN_REPLICAS_TO_WRITE:-1}"
MIN_REPLICAS_MAX_LAG="${HA_MIN_REPLICAS_MAX_LAG:-2}"
START_TIMEOUT_S="${HA_START_TIMEOUT:-20}"
PASSWORD="${REDIS_PASSWORD:-}"
PYTHON="$(command -v /usr/bin/python3 || command -v python3)" # skips a pyenv shim

# Prints a progress line on stderr.
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Prints an error and the tails of the given log files, then fails.
die() {
  local msg="$1" log
  shift
  printf '\033[1;31mha-topology: %s\033[0m\n' "$msg" >&2
  for log in "$@"; do
    [ -f "$log" ] || continue
    printf -- '--- last lines of %s\n' "$log" >&2
    tail -n 15 "$log" >&2
  done
  exit 1
}

# Installs the Debian packages when a binary is missing (as root or via sudo).
ensure_binaries() {
  if command -v redis-server >/dev/null && command -v redis-sentinel >/dev/null &&
    command -v redis-cli >/dev/null && command -v haproxy >/dev/null; then
    return
  fi
  say "installing redis-server redis-sentinel haproxy (Debian packages)"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server redis-sentinel haproxy >/dev/null
}

# Prints N distinct loopback ports in 20000-31999 that nobody listens on
# (below Linux's ephemeral range, where a polling client can self-connect).
free_ports() {
  "$PYTHON" - "$1" <<'PY'
import random, socket, sys
ports = []
for _ in range(10000):
    if len(ports) == int(sys.argv[1]):
        break
    port = random.randint(20000, 31999)
    if port in ports:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        ports.append(port)
    except OSError:
        pass
    finally:
        s.close()
print(" ".join(map(str, ports)))
PY
}

# redis-cli against a Redis data node (with the password, if any).
rcli() {
  local port="$1"
  shift
  REDISCLI_AUTH="$PASSWORD" timeout 3 redis-cli -h 127.0.0.1 -p "$port" "$@" 2>/dev/null
}

# redis-cli against a Sentinel or the front's PING (Sentinels have no password).
scli() {
  local port="$1"
  shift
  env -u REDISCLI_AUTH timeout 3 redis-cli -h 127.0.0.1 -p "$port" "$@" 2>/dev/null
}

# Prints one field of a Redis INFO section ("" when the Redis doesn't answer).
info_field() {
  rcli "$1" info "$2" | tr -d '\r' | sed -n "s/^$3://p"
}

# Prints one field of what a Sentinel knows about the monitored master.
sentinel_field() {
  scli "$1" sentinel master "$MASTER_NAME" | tr -d '\r' | sed -n "/^$2\$/{n;p;q}"
}

# Polls a command every 0.1 s until it succeeds or the start deadline passes.
wait_for() {
  local what="$1"
  shift
  local logs=()
  while [ "$1" != "--" ]; do
    logs+=("$1")
    shift
  done
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$DEADLINE" ] || die "$what did not happen within ${START_TIMEOUT_S} s" "${logs[@]}"
    sleep 0.1
  done
}

# Starts a command detached in its own session, logging to a file, and
# records "name pid marker" in DIR/processes (marker: its port or config
# file, which its command line contains, so `stop` never signals a
# recycled pid).
launch() {
  local name="$1" marker="$2" log="$3"
  shift 3
  setsid "$@" </dev/null >>"$log" 2>&1 &
  echo "$name $! $marker" >>"$DIR/processes"
  LAUNCHED_PID=$!
}

# True when pid is alive, is one of the programs started here, and its
# command line (before or after Redis retitles itself) contains marker.
is_ours() {
  local pid="$1" marker="$2" comm
  comm="$(cat "/proc/$pid/comm" 2>/dev/null)" || return 1
  case "$comm" in redis-server | redis-sentinel | haproxy) ;; *) return 1 ;; esac
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker"
}

# Starts one Redis data node on port (a replica of primary_port if given).
start_redis() {
  local port="$1" primary_port="${2:-}"
  local conf="$DIR/redis-$port.conf"
  mkdir -p "$DIR/redis-$port"
  (
    umask 077
    cp "$ROOT/deploy/redis.conf" "$conf"
    if [ -n "$PASSWORD" ]; then
      printf '\n# Added by scripts/ha-topology.sh\nrequirepass "%s"\nmasterauth "%s"\n' \
        "$(conf_quote "$PASSWORD")" "$(conf_quote "$PASSWORD")" >>"$conf"
    fi
  )
  local args=("$conf" --port "$port" --bind 127.0.0.1 --dir "$DIR/redis-$port"
    --logfile "$DIR/redis-$port.log" --daemonize no
    --min-replicas-to-write "$MIN_REPLICAS_TO_WRITE" --min-replicas-max-lag "$MIN_REPLICAS_MAX_LAG"
    --repl-diskless-sync-delay 0)
  [ -z "$primary_port" ] || args+=(--replicaof 127.0.0.1 "$primary_port")
  launch "redis-$port" "$port" "$DIR/redis-$port.log" redis-server "${args[@]}"
  REDIS_PIDS["$port"]=$LAUNCHED_PID
}

# Escapes a value for a double-quoted redis.conf / sentinel.conf string.
conf_quote() {
  local v="${1//\\/\\\\}"
  printf '%s' "${v//\"/\\\"}"
}

# Starts one Sentinel on port, monitoring the primary with quorum 2.
start_sentinel() {
  local port="$1"
  local conf="$DIR/sentinel-$port.conf"
  (
    umask 077
    cat >"$conf" <<EOF
# Written by scripts/ha-topology.sh; Sentinel rewrites it as it learns.
port $port
bind 127.0.0.1
daemonize no
dir "$DIR"
logfile "$DIR/sentinel-$port.log"
sentinel monitor $MASTER_NAME 127.0.0.1 $PRIMARY_PORT 2
sentinel down-after-milliseconds $MASTER_NAME $DOWN_AFTER_MS
sentinel failover-timeout $MASTER_NAME $FAILOVER_TIMEOUT_MS
sentinel parallel-syncs $MASTER_NAME 1
EOF
    [ -z "$PASSWORD" ] || printf 'sentinel auth-pass %s "%s"\n' "$MASTER_NAME" "$(conf_quote "$PASSWORD")" >>"$conf"
  )
  launch "sentinel-$port" "$port" "$DIR/sentinel-$port.log" redis-sentinel "$conf"
  SENTINEL_PIDS["$port"]=$LAUNCHED_PID
}

# Writes DIR/haproxy.cfg: per Redis one backend with one check per Sentinel.
write_haproxy_cfg() {
  local cfg="$DIR/haproxy.cfg" port sport i auth_hex=""
  if [ -n "$PASSWORD" ]; then
    # AUTH as a RESP array, hex-encoded so no password needs escaping.
    local bytes
    bytes="$(LC_ALL=C; echo "${#PASSWORD}")"
    # shellcheck disable=SC2016 # the $ are RESP length prefixes
    auth_hex="$(printf '*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n' "$bytes" "$PASSWORD" | od -An -tx1 -v | tr -d ' \n')"
  fi
  (
    umask 077
    cat <<EOF
# Written by scripts/ha-topology.sh.
global
    stats socket $DIR/haproxy.sock mode 600 level admin

defaults
    mode tcp
    # A refused connection fails at once (the client retries), not after
    # HAProxy's 1 s retry delay.
    retries 0
    timeout connect 1s
    timeout check 500ms
    timeout client 1h
    timeout server 1h

# The one stable address: the first Redis that a majority of the Sentinels
# agree is primary (2 of its 3 checks up), else no server (closed at once).
frontend redis_front
    bind 127.0.0.1:$FRONT_PORT
EOF
    for port in "${REDIS_PORTS[@]}"; do
      echo "    use_backend redis_$port if { nbsrv(redis_$port) ge 2 }"
    done
    cat <<EOF
    default_backend no_primary

backend no_primary
EOF
    for port in "${REDIS_PORTS[@]}"; do
      cat <<EOF

# Up while Redis $port says role:master and the Sentinel checked says so too.
backend redis_$port
    balance first
    option tcp-check
    tcp-check connect port $port
EOF
      if [ -n "$auth_hex" ]; then
        echo "    tcp-check send-binary $auth_hex"
        echo "    tcp-check expect string +OK"
      fi
      cat <<EOF
    tcp-check send PING\r\n
    tcp-check expect string +PONG
    tcp-check send INFO\ replication\r\nQUIT\r\n
    tcp-check expect string role:master
    tcp-check connect
    tcp-check send SENTINEL\ get-master-addr-by-name\ $MASTER_NAME\r\nQUIT\r\n
    tcp-check expect rstring \r\n$port\r\n
EOF
      i=0
      for sport in "${SENTINEL_PORTS[@]}"; do
        i=$((i + 1))
        echo "    server redis_${port}_s$i 127.0.0.1:$port check port $sport inter $CHECK_INTER_MS fall 2 rise 1 on-marked-down shutdown-sessions"
      done
    done
  ) >"$cfg"
  chmod 600 "$cfg"
}

# True when the Redis on port answers PING.
answers() { [ "$(rcli "$1" ping)" = PONG ]; }

# True when the Redis on port is a replica with an up link.
replica_linked() { [ "$(info_field "$1" replication master_link_status)" = up ]; }

# True when the Sentinel on port knows the master, both replicas, 2 peers.
sentinel_ready() {
  [ "$(sentinel_field "$1" num-slaves)" = 2 ] && [ "$(sentinel_field "$1" num-other-sentinels)" = 2 ] &&
    [ "$(sentinel_field "$1" flags)" = master ]
}

# True when the front answers PING, reaches a master, and HAProxy has
# marked every replica's checks down (servers start up until checked).
front_ready() {
  [ "$(rcli "$FRONT_PORT" ping)" = PONG ] || return 1
  [ "$(rcli "$FRONT_PORT" role | head -n 1)" = master ] || return 1
  local up
  up="$(haproxy_cmd "show stat" | awk -F, -v p="$PRIMARY_PORT" '$2 ~ /^redis_[0-9]+_s/ && $18 == "UP" && $1 != "redis_" p' | wc -l)"
  [ "$up" -eq 0 ]
}

# Sends one command to HAProxy's admin socket and prints the answer.
haproxy_cmd() {
  "$PYTHON" - "$DIR/haproxy.sock" "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
out = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    out += chunk
sys.stdout.write(out.decode())
PY
}

# Records the running topology in DIR/topology.env (shell-sourceable).
write_env() {
  local port all=() rp=() sp=()
  for port in "${REPLICA_PORTS[@]}"; do rp+=("${REDIS_PIDS[$port]}"); done
  for port in "${SENTINEL_PORTS[@]}"; do sp+=("${SENTINEL_PIDS[$port]}"); done
  all=("${REDIS_PIDS[$PRIMARY_PORT]}" "${rp[@]}" "${sp[@]}" "$HAPROXY_PID")
  {
    echo "HA_DIR=\"$DIR\""
    echo "HA_FRONT_PORT=$FRONT_PORT"
    echo "HA_FRONT_URL=redis://127.0.0.1:$FRONT_PORT"
    echo "HA_PRIMARY_PORT=$PRIMARY_PORT"
    echo "HA_REPLICA_PORTS=\"${REPLICA_PORTS[*]}\""
    echo "HA_SENTINEL_PORTS=\"${SENTINEL_PORTS[*]}\""
    echo "HA_MASTER_NAME=$MASTER_NAME"
    echo "HA_PRIMARY_PID=${REDIS_PIDS[$PRIMARY_PORT]}"
    echo "HA_REPLICA_PIDS=\"${rp[*]}\""
    echo "HA_SENTINEL_PIDS=\"${sp[*]}\""
    echo "HA_HAPROXY_PID=$HAPROXY_PID"
    echo "HA_PIDS=\"${all[*]}\""
    for port in "${REDIS_PORTS[@]}"; do echo "HA_REDIS_PID_$port=${REDIS_PIDS[$port]}"; done
    for port in "${SENTINEL_PORTS[@]}"; do echo "HA_SENTINEL_PID_$port=${SENTINEL_PIDS[$port]}"; done
  } >"$DIR/topology.env"
}

# On a failed start, stops whatever was already started.
stop_if_failed() {
  local rc=$?
  [ "$rc" -eq 0 ] && return
  say "start failed; stopping what was started"
  cmd_stop >/dev/null 2>&1 || true
}

# `start DIR`: starts the topology and waits until all of it is ready.
cmd_start() {
  ensure_binaries
  mkdir -p "$DIR"
  chmod 700 "$DIR"
  DIR="$(cd "$DIR" && pwd)"
  if [ -f "$DIR/processes" ]; then
    local name pid marker
    while read -r name pid marker; do
      ! is_ours "$pid" "$marker" || die "a topology is already running in $DIR ($name, pid $pid); stop it first"
    done <"$DIR/processes"
    rm -f "$DIR/processes"
  fi
  rm -f "$DIR/topology.env"
  trap stop_if_failed EXIT
  DEADLINE=$((SECONDS + START_TIMEOUT_S))

  local ports
  read -r -a ports <<<"$(free_ports 7)"
  [ "${#ports[@]}" -eq 7 ] || die "could not find 7 free loopback ports"
  PRIMARY_PORT=${ports[0]}
  REPLICA_PORTS=("${ports[1]}" "${ports[2]}")
  REDIS_PORTS=("$PRIMARY_PORT" "${REPLICA_PORTS[@]}")
  SENTINEL_PORTS=("${ports[3]}" "${ports[4]}" "${ports[5]}")
  FRONT_PORT=${ports[6]}
  declare -gA REDIS_PIDS=() SENTINEL_PIDS=()

  say "starting Redis primary on $PRIMARY_PORT, replicas on ${REPLICA_PORTS[*]} (in $DIR)"
  start_redis "$PRIMARY_PORT"
  wait_for "the primary answering" "$DIR/redis-$PRIMARY_PORT.log" -- answers "$PRIMARY_PORT"
  local port
  for port in "${REPLICA_PORTS[@]}"; do start_redis "$port" "$PRIMARY_PORT"; done
  for port in "${REPLICA_PORTS[@]}"; do
    wait_for "replica $port's link to the primary" "$DIR/redis-$port.log" "$DIR/redis-$PRIMARY_PORT.log" -- \
      replica_linked "$port"
  done

  say "starting Sentinels on ${SENTINEL_PORTS[*]} (master $MASTER_NAME, quorum 2)"
  for port in "${SENTINEL_PORTS[@]}"; do start_sentinel "$port"; done
  for port in "${SENTINEL_PORTS[@]}"; do
    wait_for "Sentinel $port knowing the primary, 2 replicas and 2 Sentinels" "$DIR/sentinel-$port.log" -- \
      sentinel_ready "$port"
  done

  say "starting HAProxy on front port $FRONT_PORT"
  write_haproxy_cfg
  haproxy -c -f "$DIR/haproxy.cfg" >"$DIR/haproxy-check.log" 2>&1 || die "haproxy.cfg is invalid" "$DIR/haproxy-check.log"
  launch haproxy "$DIR/haproxy.cfg" "$DIR/haproxy.log" haproxy -db -f "$DIR/haproxy.cfg"
  HAPROXY_PID=$LAUNCHED_PID
  wait_for "the front leading to the primary" "$DIR/haproxy.log" -- front_ready

  write_env
  trap - EXIT
  say "HA Redis topology up in $DIR (primary $PRIMARY_PORT); front: redis://127.0.0.1:$FRONT_PORT"
  echo "redis://127.0.0.1:$FRONT_PORT"
}

# Sends signal to every recorded process of ours that matches filter.
signal_ours() {
  local sig="$1" filter="$2" name pid marker
  while read -r name pid marker; do
    # shellcheck disable=SC2053 # filter is a glob on purpose
    [[ "$name" == $filter ]] || continue
    ! is_ours "$pid" "$marker" || kill "-$sig" "$pid" 2>/dev/null || true
  done <"$DIR/processes"
}

# True when no recorded process matching filter is still alive.
all_gone() {
  local filter="$1" name pid marker
  while read -r name pid marker; do
    # shellcheck disable=SC2053 # filter is a glob on purpose
    [[ "$name" == $filter ]] || continue
    ! is_ours "$pid" "$marker" || return 1
  done <"$DIR/processes"
}

# Stops the matching processes: TERM, up to 5 s, then KILL.
stop_group() {
  local filter="$1" i
  signal_ours TERM "$filter"
  for i in $(seq 50); do
    all_gone "$filter" && return
    sleep 0.1
  done
  signal_ours KILL "$filter"
  for i in $(seq 20); do
    all_gone "$filter" && return
    sleep 0.1
  done
}

# `stop DIR`: stops everything `start` started (idempotent).
cmd_stop() {
  [ -d "$DIR" ] && [ -f "$DIR/processes" ] || return 0
  signal_ours CONT '*' # a SIGSTOPped process would ignore TERM until continued
  stop_group haproxy   # first, so no client reaches a Redis going down
  stop_group 'sentinel-*'
  stop_group 'redis-*'
  all_gone '*' || die "some processes in $DIR/processes survived SIGKILL"
  rm -f "$DIR/processes" "$DIR/topology.env" "$DIR/haproxy.sock"
}

# `status DIR`: the Sentinels' primary, replica links, and the front.
cmd_status() {
  [ -f "$DIR/topology.env" ] || die "no running topology in $DIR (no topology.env)"
  # shellcheck disable=SC1091
  source "$DIR/topology.env"
  local port addr role
  for port in $HA_SENTINEL_PORTS; do
    addr="$(scli "$port" sentinel get-master-addr-by-name "$HA_MASTER_NAME" | tr '\n' ':' | sed 's/:$//')"
    echo "sentinel $port: primary ${addr:-(no answer)}"
  done
  for port in $HA_PRIMARY_PORT $HA_REPLICA_PORTS; do
    role="$(info_field "$port" replication role)"
    case "$role" in
      master) echo "redis $port: master, $(info_field "$port" replication connected_slaves) replica(s) connected" ;;
      slave) echo "redis $port: replica of $(info_field "$port" replication master_port), link $(info_field "$port" replication master_link_status)" ;;
      *) echo "redis $port: no answer" ;;
    esac
  done
  if [ "$(rcli "$HA_FRONT_PORT" ping)" = PONG ]; then
    echo "front $HA_FRONT_PORT: answers, leads to $(rcli "$HA_FRONT_PORT" info server | tr -d '\r' | sed -n 's/^tcp_port://p') ($(rcli "$HA_FRONT_PORT" role | head -n 1))"
  else
    echo "front $HA_FRONT_PORT: no answer"
  fi
}

# Dispatches the subcommand.
main() {
  local usage="usage: $0 start|stop|status DIR"
  [ $# -eq 2 ] || die "$usage"
  DIR="$2"
  case "$1" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *) die "$usage" ;;
  esac
}

main "$@"
