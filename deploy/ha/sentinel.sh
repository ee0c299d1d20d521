#!/bin/sh
# Starts one Redis Sentinel of the replicated topology. deploy/compose.yaml
# (services sentinel-1, -2, -3) and deploy/spinkube/sentinel.yaml (pods
# seat-booking-sentinel-0, -1, -2) run it in the official redis image, as
# the redis user:
#
#   sh sentinel.sh [redis-sentinel options...]
#
# Sentinel keeps what it learns (the current primary, the epochs, the other
# Sentinels and the replicas) by rewriting its configuration file, so the
# file lives on a persistent volume and is written here only when it is
# missing (first start): monitoring, with quorum QUORUM, the primary that a
# majority of the other Sentinels name, else SEED_PRIMARY. Every start
# renews the password lines (it may have been rotated).
#
# Instances are known by name, not address (resolve-hostnames,
# announce-hostnames, and the Redis nodes' replica-announce-ip), so the
# topology survives a container or pod coming back with another IP address
# (Redis 7.0 and later re-resolve a name when its connection drops).
#
# Environment:
#   REDIS_PASSWORD       the Redis nodes' password (auth-pass), also this
#                        Sentinel's own (requirepass, sentinel-pass) (required)
#   SELF_HOST            the name this Sentinel announces (required)
#   SEED_PRIMARY         the Redis node that is primary on first start (required)
#   SENTINELS            every Sentinel, "host:port host:port host:port" (required)
#   QUORUM               Sentinels that must agree the primary is down (2)
#   MASTER_NAME          (seatbooking)
#   REDIS_PORT           the Redis nodes' port (6379)
#   SENTINEL_PORT        (26379)
#   DOWN_AFTER_MS        silence after which a node is down (5000)
#   FAILOVER_TIMEOUT_MS  (30000)
#   SENTINEL_DATA        the directory for sentinel.conf, on a persistent volume (/data)
set -eu

: "${REDIS_PASSWORD:?set REDIS_PASSWORD}" "${SELF_HOST:?set SELF_HOST}"
: "${SEED_PRIMARY:?set SEED_PRIMARY}" "${SENTINELS:?set SENTINELS}"
QUORUM="${QUORUM:-2}"
MASTER_NAME="${MASTER_NAME:-seatbooking}"
REDIS_PORT="${REDIS_PORT:-6379}"
SENTINEL_PORT="${SENTINEL_PORT:-26379}"
DOWN_AFTER_MS="${DOWN_AFTER_MS:-5000}"
FAILOVER_TIMEOUT_MS="${FAILOVER_TIMEOUT_MS:-30000}"
SENTINEL_DATA="${SENTINEL_DATA:-/data}"
export REDISCLI_AUTH="$REDIS_PASSWORD"
conf="$SENTINEL_DATA/sentinel.conf"

say() { echo "sentinel.sh ($SELF_HOST): $*" >&2; }

quoted() { printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')"; }

# Prints "host port" of the primary that a majority of the other Sentinels
# name, or nothing.
peers_primary() {
  answers="" count=0
  for sentinel in $SENTINELS; do
    count=$((count + 1))
    [ "${sentinel%:*}" != "$SELF_HOST" ] || continue
    answer="$(timeout 2 redis-cli --no-auth-warning -h "${sentinel%:*}" -p "${sentinel##*:}" --raw \
      SENTINEL get-master-addr-by-name "$MASTER_NAME" 2>/dev/null | tr -d '\r' | paste -sd ' ' -)" || continue
    case "$answer" in *" "[0-9]*) answers="$answers$answer
" ;; esac
  done
  printf '%s' "$answers" | sed '/^$/d' | sort | uniq -c |
    awk -v need=$((count / 2)) 'need > 0 && $1 >= need { print $2, $3; exit }'
}

umask 077
if [ ! -s "$conf" ]; then
  primary="$(peers_primary)"
  [ -n "$primary" ] || primary="$SEED_PRIMARY $REDIS_PORT"
  say "new configuration, monitoring $primary"
  cat >"$conf.new" <<CONF
# Written by deploy/ha/sentinel.sh on first start; Sentinel rewrites it.
port $SENTINEL_PORT
dir $(quoted "$SENTINEL_DATA")
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel announce-ip $(quoted "$SELF_HOST")
sentinel announce-port $SENTINEL_PORT
sentinel monitor $MASTER_NAME $primary $QUORUM
sentinel down-after-milliseconds $MASTER_NAME $DOWN_AFTER_MS
sentinel failover-timeout $MASTER_NAME $FAILOVER_TIMEOUT_MS
sentinel parallel-syncs $MASTER_NAME 1
CONF
  mv "$conf.new" "$conf"
fi
# The password: this Sentinel's own (requirepass), the one it uses with the
# other Sentinels (sentinel-pass) and with the Redis nodes (auth-pass).
grep -v -E '^(requirepass|user default|sentinel (auth-pass|sentinel-pass)) ' "$conf" >"$conf.new" || true
{
  echo "requirepass $(quoted "$REDIS_PASSWORD")"
  echo "sentinel sentinel-pass $(quoted "$REDIS_PASSWORD")"
  echo "sentinel auth-pass $MASTER_NAME $(quoted "$REDIS_PASSWORD")"
} >>"$conf.new"
mv "$conf.new" "$conf"
exec redis-sentinel "$conf" "$@"
