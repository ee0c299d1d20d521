# Shared shell helpers for the project's scripts. Source it; don't run it.
# Each function installs or starts only what is missing, so the scripts work
# on a fresh machine and stay quick on a prepared one.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOST_BIN="$ROOT/target/release/spin-host"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# A loopback port nobody listens on right now, below Linux's ephemeral range
# (32768 and up), where a client polling the port could connect to itself.
free_port() {
  python3 -c '
import random, socket
while True:
    port = random.randint(20000, 31999)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        print(port)
        break
    except OSError:
        pass
    finally:
        s.close()
'
}

# Installs Debian packages (as root, or through sudo).
apt_install() {
  say "installing $* (Debian packages)"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

# Debian's redis-server (and redis-cli), installed once.
ensure_redis_server() {
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    apt_install redis-server
  fi
}

# The npm packages of package.json (Artillery, playwright-core), without
# any browser download.
ensure_node_modules() {
  if [ ! -d "$ROOT/node_modules/playwright-core" ] || [ ! -d "$ROOT/node_modules/artillery" ]; then
    say "npm install (no browser download)"
    (cd "$ROOT" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error)
  fi
}

# The wasm32-wasip1 Rust target the component is built for.
ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-wasip1; then
    say "adding the wasm32-wasip1 Rust target"
    rustup target add wasm32-wasip1
  fi
}

# Builds the component exactly as spin.toml's build command does.
build_component() {
  ensure_wasm_target
  say "building the component (wasm32-wasip1, release)"
  (cd "$ROOT" && cargo build --target wasm32-wasip1 --release)
}

# Builds the Spin-compatible local host.
build_host() {
  say "building the local Spin-compatible host (release)"
  (cd "$ROOT" && cargo build -p spin-host --release)
}

# Prints "host port password" for a redis:// URL (password may be empty).
parse_redis_url() {
  local url="${1#redis://}" auth="" hostport
  url="${url%%/*}"
  if [[ "$url" == *@* ]]; then auth="${url%@*}"; url="${url##*@}"; fi
  hostport="$url"
  local host="${hostport%:*}" port="${hostport##*:}"
  [ "$host" = "$hostport" ] && port=6379
  printf '%s %s %s\n' "$host" "$port" "${auth#*:}"
}

# Kills the processes in the array `pids`; scripts trap it on exit.
stop_pids() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }

# Starts a throw-away redis-server (no persistence) and the component in
# the local host on free loopback ports, logging into the folder $1, and
# waits until the service is healthy. Sets REDIS_PORT, HOST_PORT, TARGET
# and a random ADMIN_TOKEN, and appends the process ids to `pids`.
start_service() {
  local dir="$1"
  REDIS_PORT=$(free_port)
  HOST_PORT=$(free_port)
  TARGET="http://127.0.0.1:$HOST_PORT"
  ADMIN_TOKEN="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
  say "starting redis-server on 127.0.0.1:$REDIS_PORT and the component at $TARGET"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no >"$dir/redis.log" 2>&1 &
  pids+=($!)
  SPIN_VARIABLE_REDIS_ADDRESS="redis://127.0.0.1:$REDIS_PORT" \
  SPIN_VARIABLE_REDIS_HOST="127.0.0.1:$REDIS_PORT" \
  SPIN_VARIABLE_ADMIN_TOKEN="$ADMIN_TOKEN" \
    "$HOST_BIN" up --from "$ROOT/spin.toml" --listen "127.0.0.1:$HOST_PORT" >"$dir/host.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$TARGET/health")" = 200 ] && return 0
    sleep 0.1
  done
  say "the service never became healthy; see $dir/host.log"
  return 1
}

# Starts redis-server on host:port unless one already answers there.
# Sets STARTED_REDIS_PID when it started one.
ensure_redis_running() {
  local host="$1" port="$2" password="${3:-}"
  STARTED_REDIS_PID=""
  if REDISCLI_AUTH="$password" redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1; then
    say "using the Redis already answering at $host:$port"
    return
  fi
  ensure_redis_server
  # The project's recommended configuration (deploy/redis.conf: append-only,
  # noeviction), with its data in the git-ignored .data/, so bookings
  # survive a restart here as they do in Compose and Kubernetes.
  local data_dir="$ROOT/.data/redis-$port"
  mkdir -p "$data_dir"
  say "starting redis-server on $host:$port (deploy/redis.conf, data in ${data_dir#"$ROOT"/})"
  local args=("$ROOT/deploy/redis.conf" --bind "$host" --port "$port" --dir "$data_dir")
  [ -n "$password" ] && args+=(--requirepass "$password")
  redis-server "${args[@]}" >"${REDIS_LOG:-/tmp/seat-booking-redis-$port.log}" 2>&1 &
  STARTED_REDIS_PID=$!
  for _ in $(seq 50); do
    REDISCLI_AUTH="$password" redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1 && return
    sleep 0.1
  done
  say "redis-server did not start; see ${REDIS_LOG:-/tmp/seat-booking-redis-$port.log}"
  return 1
}
