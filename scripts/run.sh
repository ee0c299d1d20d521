#!/usr/bin/env bash
# Runs the seat booking service at http://127.0.0.1:3000 (LISTEN overrides).
#
#   scripts/run.sh         # one Redis (started if none answers at redis_address)
#   scripts/run.sh --ha    # a local primary, two replicas, three Sentinels and
#                          # HAProxy (scripts/ha-topology.sh), redis_replica_acks=1
#
# Builds the component with the pinned toolchain (rust-toolchain.toml),
# starts a local redis-server if none answers at the configured address, and
# serves with the real Spin CLI (`spin up --runtime-config-file
# runtime-config.toml`, from the project directory so the runtime config's
# env provider reads the .env beside it; SPIN_BIN, else spin 3.3+/4.x on the
# PATH, else ../shared/tools/spin/spin). Without Spin it says how to install
# it and exits non-zero. Ctrl-C stops everything this script started.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
find_spin

LISTEN="${LISTEN:-127.0.0.1:3000}"
HA=0
case "${1:-}" in
  --ha) HA=1 ;;
  "") ;;
  *) say "unknown argument: $1 (scripts/run.sh [--ha])"; exit 2 ;;
esac

# The Redis address, resolved the way Spin will: environment, then .env, then default.
address="${SPIN_VARIABLE_REDIS_ADDRESS:-}"
if [ -z "$address" ] && [ -f .env ]; then
  address="$(sed -n 's/^SPIN_VARIABLE_REDIS_ADDRESS=//p' .env | tail -n 1)"
fi
address="${address:-redis://127.0.0.1:6379}"
read -r redis_host redis_port redis_password < <(parse_redis_url "$address")

# An admin token for creating events: kept in the git-ignored .env, made
# once at random if neither the environment nor .env has one. Never printed.
if [ -z "${SPIN_VARIABLE_ADMIN_TOKEN:-}" ] && ! grep -q '^SPIN_VARIABLE_ADMIN_TOKEN=.' .env 2>/dev/null; then
  printf 'SPIN_VARIABLE_ADMIN_TOKEN=%s\n' "$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')" >>.env
  say "wrote a new random admin token to .env (SPIN_VARIABLE_ADMIN_TOKEN)"
fi
# Likewise a signing key for waiting-room access tokens (32 random bytes).
if [ -z "${SPIN_VARIABLE_QUEUE_SECRET:-}" ] && ! grep -q '^SPIN_VARIABLE_QUEUE_SECRET=.' .env 2>/dev/null; then
  printf 'SPIN_VARIABLE_QUEUE_SECRET=%s\n' "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" >>.env
  say "wrote a new random waiting-room signing key to .env (SPIN_VARIABLE_QUEUE_SECRET)"
fi

if [ "$HA" = 1 ]; then
  # The replicated topology on loopback, stopped with everything else; the
  # component is given only HAProxy's front and waits for one replica's
  # acknowledgement of every state change.
  ensure_ha_packages
  ha_dir="$ROOT/target/run/ha"
  bash scripts/ha-topology.sh stop "$ha_dir" >/dev/null 2>&1 || true
  trap 'bash "$ROOT/scripts/ha-topology.sh" stop "$ha_dir" >/dev/null 2>&1; stop_started' EXIT
  bash scripts/ha-topology.sh start "$ha_dir" >/dev/null
  # shellcheck source=/dev/null
  source "$ha_dir/topology.env"
  export SPIN_VARIABLE_REDIS_ADDRESS="redis://127.0.0.1:$HA_FRONT_PORT"
  export SPIN_VARIABLE_REDIS_HOST="127.0.0.1:$HA_FRONT_PORT"
  export SPIN_VARIABLE_REDIS_REPLICA_ACKS=1
  say "replicated Redis up: front 127.0.0.1:$HA_FRONT_PORT, primary $HA_PRIMARY_PORT, replicas $HA_REPLICA_PORTS, Sentinels $HA_SENTINEL_PORTS"
  say "to try a failover: kill -9 $HA_PRIMARY_PID (the primary); scripts/ha-topology.sh status ${ha_dir#"$ROOT"/} shows who took over"
  trap 'exit 130' INT
  trap 'exit 143' TERM
else
  ensure_redis_running "$redis_host" "$redis_port" "$redis_password"
  [ -n "$STARTED_REDIS_PID" ] && pids+=("$STARTED_REDIS_PID")
  trap_stop_started
fi

build_component
log_dir="$ROOT/target/run"
mkdir -p "$log_dir"
say "starting $("$SPIN_BIN" --version) on http://$LISTEN (log: ${log_dir#"$ROOT"/}/spin.log)"
SPIN_CWD="$ROOT" start_spin "$LISTEN" "$log_dir/spin.log"
say "serving on http://$LISTEN; Ctrl-C stops it"
# Spin's output (and the component's stderr) on this terminal until Spin
# exits or Ctrl-C stops everything.
tail -n +1 -f "$log_dir/spin.log" &
pids+=($!)
set +e
wait "$SPIN_PGID"
status=$?
set -e
say "spin up exited ($status)"
exit "$status"
