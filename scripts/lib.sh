# Shared shell helpers for the project's scripts. Source it; don't run it.
# Each function installs or starts only what is missing, so the scripts work
# on a fresh machine and stay quick on a prepared one.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

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

# Debian's redis-sentinel and haproxy, for the replicated topology of
# scripts/ha-topology.sh (failover tests, run.sh --ha), installed once.
ensure_ha_packages() {
  if ! command -v redis-sentinel >/dev/null || ! command -v haproxy >/dev/null; then
    apt_install redis-server redis-sentinel haproxy
  fi
}

# Debian's nginx, the caching reverse proxy the CDN test puts in front of
# the component (integration/tests/edge_cache.rs), installed once. The test
# runs it as the current user on a loopback port; the package's own service
# is never used.
ensure_nginx() {
  if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
    apt_install nginx
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

# The Rust toolchain rust-toolchain.toml pins (its `channel`, e.g. 1.95.0).
pinned_toolchain() {
  sed -n 's/^channel *= *"\(.*\)"$/\1/p' "$ROOT/rust-toolchain.toml"
}

# Checks that `rustc` in the project is exactly the pinned toolchain (rustup
# picks it from rust-toolchain.toml) and says which it is; exits with an
# install hint otherwise, so CI and scripts/run.sh never build with another.
ensure_toolchain() {
  local want have
  want="$(pinned_toolchain)"
  if [ -z "$want" ]; then
    say "rust-toolchain.toml names no channel"
    exit 1
  fi
  have="$(cd "$ROOT" && rustc --version 2>/dev/null)" || have=""
  case "$have" in
    "rustc $want "*) say "Rust toolchain: $have (pinned by rust-toolchain.toml)" ;;
    *)
      say "the project builds with Rust $want (rust-toolchain.toml), but rustc here is: ${have:-missing}"
      cat >&2 <<HELP
Install the pinned toolchain with rustup (https://rustup.rs), which then
picks it from rust-toolchain.toml in this directory:

    rustup toolchain install $want --target wasm32-wasip1 --component clippy,rustfmt
HELP
      exit 1
      ;;
  esac
}

# The pinned toolchain and its wasm32-wasip1 target, which the component is
# built for.
ensure_wasm_target() {
  ensure_toolchain
  if ! (cd "$ROOT" && rustup target list --installed) | grep -qx wasm32-wasip1; then
    say "adding the wasm32-wasip1 Rust target to $(pinned_toolchain)"
    (cd "$ROOT" && rustup target add wasm32-wasip1)
  fi
}

# Builds the component exactly as spin.toml's build command does.
build_component() {
  ensure_wasm_target
  say "building the component (wasm32-wasip1, release)"
  (cd "$ROOT" && cargo build --target wasm32-wasip1 --release)
}

# Sets and exports SPIN_BIN, the Spin CLI every script runs the component
# with: $SPIN_BIN if set; else `spin` on the PATH when it is Spin 3.3 or
# newer 3.x, or 4.x (runtime-config.toml's max_instance_memory is refused by
# Spin before 3.3);
# else the Spin 4.0.2 kept in ../shared/tools/spin/ beside the project (CI
# clones the project next to shared/, so the path is relative to $ROOT).
# With none of them it says how to install Spin and exits: there is no
# other runtime.
find_spin() {
  local shared="$ROOT/../shared/tools/spin/spin"
  if [ -n "${SPIN_BIN:-}" ]; then
    if ! "$SPIN_BIN" --version >/dev/null 2>&1; then
      say "SPIN_BIN=$SPIN_BIN does not run ($SPIN_BIN --version failed)"
      exit 1
    fi
  elif command -v spin >/dev/null && spin --version 2>/dev/null | grep -qE '^spin (3\.([3-9]|[1-9][0-9])|4)\.'; then
    SPIN_BIN="$(command -v spin)"
  elif [ -x "$shared" ]; then
    SPIN_BIN="$(cd "$(dirname "$shared")" && pwd)/spin"
  else
    say "no Spin CLI found (SPIN_BIN, spin 3.3+/4.x on the PATH, or $shared)"
    cat >&2 <<'HELP'
The seat booking component runs only under the real Spin CLI (3.3 or newer
3.x, or 4.x).
Install it with Spin's official installer (see https://spinframework.dev):

    curl -fsSL https://spinframework.dev/downloads/install.sh | bash
    sudo mv ./spin /usr/local/bin/spin

or point SPIN_BIN at a spin binary you already have.
HELP
    exit 1
  fi
  export SPIN_BIN
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

# Process ids (`pids`) and Spin process groups (`spin_pgids`) a script
# started, with the throwaway HOMEs of its Spin instances (`spin_homes`).
pids=()
spin_pgids=()
spin_homes=()

# Stops one Spin instance: `spin up` runs a child `spin trigger http`, so it
# signals the whole process group (SIGINT, then SIGKILL after 5 s) lest the
# child be orphaned and keep serving.
stop_spin() {
  local pgid="$1"
  kill -INT -- "-$pgid" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -0 -- "-$pgid" 2>/dev/null || return 0
    sleep 0.1
  done
  say "Spin (process group $pgid) ignored SIGINT for 5 s; killing it"
  kill -KILL -- "-$pgid" 2>/dev/null || true
}

# prepare_bench_builds WORK: what both benchmarks serve, built: the
# component, the yardstick (bench/yardstick), and the seed service copied
# from SEED_SRC into WORK/seed-node with its packages installed.
prepare_bench_builds() {
  local work="$1"
  build_component
  say "building the yardstick (bench/yardstick)"
  cargo build --target wasm32-wasip1 --release -p yardstick
  say "preparing the seed service from $SEED_SRC"
  rm -rf "$work/seed-node" && mkdir -p "$work/seed-node"
  cp "$SEED_SRC/package.json" "$SEED_SRC/server.js" "$work/seed-node/"
  (cd "$work/seed-node" && npm install --no-audit --no-fund --no-package-lock --loglevel=error >/dev/null)
}

# Stops everything the script started (Spin groups first, then `pids`) and
# deletes the throwaway HOMEs; idempotent, so EXIT after INT is harmless.
stop_started() {
  local p
  for p in "${spin_pgids[@]}"; do stop_spin "$p"; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${spin_homes[@]}"; do rm -rf "$p"; done
  spin_pgids=() pids=() spin_homes=()
}

# Makes the script stop what it started on exit, and exit (130/143) on
# Ctrl-C or TERM instead of carrying on without its services.
trap_stop_started() {
  trap stop_started EXIT
  trap 'stop_started; exit 130' INT
  trap 'stop_started; exit 143' TERM
}

# spin_variable_defaults [MANIFEST]: one SPIN_VARIABLE_<NAME>=<default>
# line for each variable MANIFEST (default: spin.toml) declares that the
# environment leaves unset. A run that
# sets them all makes every variable lookup hit runtime-config.toml's first
# provider; a variable left to its default is a miss there and is looked up
# again by Spin's built-in env provider, which cost a booking 3% more Spin
# instructions (scripts/bench-instructions.sh).
spin_variable_defaults() {
  python3 - "${1:-$ROOT/spin.toml}" <<'PY'
import os, sys, tomllib
for name, variable in tomllib.load(open(sys.argv[1], "rb"))["variables"].items():
    key = "SPIN_VARIABLE_" + name.upper()
    if key not in os.environ and "default" in variable:
        print(f"{key}={variable['default']}")
PY
}

# start_spin LISTEN LOG: starts one real Spin instance serving spin.toml at
# LISTEN (host:port) with runtime-config.toml, as users run it, from
# SPIN_CWD (default: its throwaway HOME; the runtime config's env provider
# reads .env there), variables from the caller's environment
# (SPIN_VARIABLE_*), the ones it leaves unset at their spin.toml defaults
# (spin_variable_defaults; not with SPIN_CWD, whose .env may set them). Each
# instance gets a throwaway HOME holding its own --state-dir and
# --log-dir, so instances share nothing (not even .spin/ beside spin.toml),
# and its own process group (setsid) so stop_spin can stop `spin up` and its
# child together. Output goes to LOG. Waits until it answers HTTP, then sets
# SPIN_PGID (appended to spin_pgids too).
start_spin() {
  local listen="$1" log="$2" home defaults=()
  [ -n "${SPIN_BIN:-}" ] || find_spin
  home="$(mktemp -d "${TMPDIR:-/tmp}/seat-booking-spin.XXXXXX")"
  spin_homes+=("$home")
  [ -n "${SPIN_CWD:-}" ] || mapfile -t defaults < <(spin_variable_defaults)
  # A non-interactive shell's background job is no group leader, so setsid
  # does not fork: $! is `spin up` itself, and the new group's id.
  # Spin reads .env from its working directory: run.sh serves from $ROOT
  # (SPIN_CWD) so the project's .env configures it; every other run starts
  # in its throwaway HOME, so a developer's .env never changes a test run.
  (cd "${SPIN_CWD:-$home}" && HOME="$home" exec env "${defaults[@]}" setsid "$SPIN_BIN" up \
    --from "$ROOT/spin.toml" --runtime-config-file "$ROOT/runtime-config.toml" \
    --listen "$listen" \
    --state-dir "$home/state" --log-dir "$home/logs") </dev/null >"$log" 2>&1 &
  SPIN_PGID=$!
  spin_pgids+=("$SPIN_PGID")
  for _ in $(seq 600); do
    if ! kill -0 "$SPIN_PGID" 2>/dev/null; then
      say "spin up exited before answering on $listen; the end of $log:"
      tail -n 20 "$log" >&2
      return 1
    fi
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$listen/api/version")" = 200 ] && return 0
    sleep 0.1
  done
  say "spin up never answered on $listen within 60 s; see $log"
  return 1
}

# Starts a throw-away redis-server (no persistence) and the component under
# real Spin on free loopback ports, logging into the folder $1, and waits
# until the service is healthy. Sets REDIS_PORT, SPIN_PORT, TARGET and a
# random ADMIN_TOKEN (and a random waiting-room signing key); the processes
# go to `pids` and `spin_pgids`.
start_service() {
  local dir="$1"
  REDIS_PORT=$(free_port)
  SPIN_PORT=$(free_port)
  TARGET="http://127.0.0.1:$SPIN_PORT"
  ADMIN_TOKEN="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
  say "starting redis-server on 127.0.0.1:$REDIS_PORT and the component under $SPIN_BIN at $TARGET"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no >"$dir/redis.log" 2>&1 &
  pids+=($!)
  SPIN_VARIABLE_REDIS_ADDRESS="redis://127.0.0.1:$REDIS_PORT" \
  SPIN_VARIABLE_REDIS_HOST="127.0.0.1:$REDIS_PORT" \
  SPIN_VARIABLE_ADMIN_TOKEN="$ADMIN_TOKEN" \
  SPIN_VARIABLE_QUEUE_SECRET="$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" \
    start_spin "127.0.0.1:$SPIN_PORT" "$dir/spin.log"
  wait_healthy "$TARGET" && return 0
  say "the service never became healthy; see $dir/spin.log and $dir/redis.log"
  return 1
}

# wait_healthy URL: waits up to 10 s for URL/health to answer 200 (Redis
# reachable through the component); fails if it never does.
wait_healthy() {
  for _ in $(seq 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$1/health")" = 200 ] && return 0
    sleep 0.1
  done
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
