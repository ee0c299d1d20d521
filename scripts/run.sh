#!/usr/bin/env bash
# Runs the seat booking service at http://127.0.0.1:3000 (LISTEN overrides).
#
# Builds the component, starts a local redis-server if none answers at the
# configured address, and serves with `spin up` when the Spin CLI is
# installed, or with the project's own Spin-compatible host otherwise.
# Ctrl-C stops everything this script started.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

LISTEN="${LISTEN:-127.0.0.1:3000}"

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

ensure_redis_running "$redis_host" "$redis_port" "$redis_password"
cleanup() { [ -n "${STARTED_REDIS_PID:-}" ] && kill "$STARTED_REDIS_PID" 2>/dev/null; true; }
trap cleanup EXIT INT TERM

build_component
if command -v spin >/dev/null; then
  say "serving with spin up on http://$LISTEN"
  spin up --runtime-config-file runtime-config.toml --listen "$LISTEN"
else
  build_host
  say "serving with the local host on http://$LISTEN (no spin CLI found)"
  "$HOST_BIN" up --from spin.toml --runtime-config-file runtime-config.toml --listen "$LISTEN"
fi
