#!/bin/sh
# Starts one Redis data node of the replicated topology. deploy/compose.yaml
# (services redis-1, redis-2, redis-3) and deploy/spinkube/redis.yaml (pods
# seat-booking-redis-0, -1, -2) run it in the official redis image, as the
# redis user:
#
#   sh redis-node.sh [redis-server options...]
#   e.g. sh redis-node.sh --min-replicas-to-write 1 --min-replicas-max-lag 2
#
# It runs redis-server on a writable copy of deploy/redis.conf in the data
# directory (Sentinel rewrites the configuration file of every Redis it
# reconfigures, with CONFIG REWRITE, and the mounted file is read-only),
# with the password and the name this node announces added, then the
# options given. Whose replica it starts as, if anyone's:
#   1. the primary that a majority of the Sentinels name (asked for up to
#      SENTINEL_WAIT_S seconds): after a failover that is another node than
#      the one that started as primary, and a restarted old primary must
#      not come back as a second primary;
#   2. else (no majority answers) what this node was when it last ran: the
#      copy Sentinel rewrote keeps a `replicaof` line, or none on a primary,
#      so a restart of the whole topology keeps the last primary;
#   3. else (first start) SEED_PRIMARY: that node starts as primary, the
#      others as its replicas.
#
# Environment:
#   REDIS_PASSWORD   requirepass and masterauth (required); Sentinels use it too
#   SELF_HOST        the name this node announces (replica-announce-ip), by
#                    which the Sentinels and the front reach it (required)
#   SEED_PRIMARY     the name of the node that is primary on first start (required)
#   SENTINELS        the Sentinels, "host:port host:port host:port" (required)
#   MASTER_NAME      the name the Sentinels monitor the primary under (seatbooking)
#   REDIS_CONF       deploy/redis.conf as mounted (/usr/local/etc/redis/redis.conf)
#   REDIS_DATA       the data directory, on a persistent volume (/data)
#   REDIS_PORT       (6379)
#   SENTINEL_WAIT_S  (10)
set -eu

: "${REDIS_PASSWORD:?set REDIS_PASSWORD}" "${SELF_HOST:?set SELF_HOST}"
: "${SEED_PRIMARY:?set SEED_PRIMARY}" "${SENTINELS:?set SENTINELS}"
MASTER_NAME="${MASTER_NAME:-seatbooking}"
REDIS_CONF="${REDIS_CONF:-/usr/local/etc/redis/redis.conf}"
REDIS_DATA="${REDIS_DATA:-/data}"
REDIS_PORT="${REDIS_PORT:-6379}"
SENTINEL_WAIT_S="${SENTINEL_WAIT_S:-10}"
export REDISCLI_AUTH="$REDIS_PASSWORD" # redis-cli's password, not on its command line
conf="$REDIS_DATA/redis-node.conf"

say() { echo "redis-node.sh ($SELF_HOST): $*" >&2; }

# A value as a double-quoted redis.conf string.
quoted() { printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')"; }

# Prints "host port" of the primary that a majority of the Sentinels name,
# or nothing.
sentinel_primary() {
  answers="" count=0
  for sentinel in $SENTINELS; do
    count=$((count + 1))
    answer="$(timeout 2 redis-cli --no-auth-warning -h "${sentinel%:*}" -p "${sentinel##*:}" --raw \
      SENTINEL get-master-addr-by-name "$MASTER_NAME" 2>/dev/null | tr -d '\r' | paste -sd ' ' -)" || continue
    case "$answer" in *" "[0-9]*) answers="$answers$answer
" ;; esac
  done
  printf '%s' "$answers" | sed '/^$/d' | sort | uniq -c |
    awk -v need=$((count / 2 + 1)) '$1 >= need { print $2, $3; exit }'
}

primary=""
deadline=$(($(date +%s) + SENTINEL_WAIT_S))
while :; do
  primary="$(sentinel_primary)"
  [ -z "$primary" ] || { say "the Sentinels name $primary as primary"; break; }
  [ "$(date +%s)" -lt "$deadline" ] || break
  sleep 1
done
if [ -z "$primary" ] && [ -f "$conf" ]; then
  primary="$(sed -n 's/^replicaof[[:space:]][[:space:]]*//p' "$conf" | tr -d '"' | tail -n 1)"
  [ -n "$primary" ] || primary="$SELF_HOST $REDIS_PORT"
  say "no Sentinel majority; as when this node last ran, primary: $primary"
fi
if [ -z "$primary" ]; then
  primary="$SEED_PRIMARY $REDIS_PORT"
  say "first start, no Sentinel majority; primary: $primary"
fi

umask 077
{
  cat "$REDIS_CONF"
  echo
  echo "# Added by deploy/ha/redis-node.sh; Sentinel may rewrite this file."
  echo "requirepass $(quoted "$REDIS_PASSWORD")"
  echo "masterauth $(quoted "$REDIS_PASSWORD")"
  echo "replica-announce-ip $(quoted "$SELF_HOST")"
  echo "replica-announce-port $REDIS_PORT"
  if [ "$primary" != "$SELF_HOST $REDIS_PORT" ]; then
    echo "replicaof $primary"
  fi
} >"$conf.new"
mv "$conf.new" "$conf"
exec redis-server "$conf" --port "$REDIS_PORT" --dir "$REDIS_DATA" "$@"
