-- defines: create_hold
-- needs: HOLDS_KEY IDEM_TTL_SECONDS VERSION_KEY held_key hold_key lock_key now_ms seat_parts
-- Locks `seats` as hold `hold_id` for `ttl` ms, adds them to the index of
-- live holds (score: expiry) and writes the hold record, which outlives the
-- hold by a day so a late confirm learns it expired. Lists the hold among
-- the event's holds and bumps the event's version: the map shows the seats held.
local function create_hold(hold_id, token_hash, ttl, expires_at, seats)
  local expiry = now_ms() + ttl
  for _, seat in ipairs(seats) do
    redis.call('SET', lock_key(seat), 'hold:' .. hold_id, 'PX', ttl)
    local label, n = seat_parts(seat)
    if label then redis.call('ZADD', held_key(label), expiry, n) end
  end
  redis.call('HSET', hold_key(hold_id), 'tokenHash', token_hash,
    'seats', table.concat(seats, ','), 'expiresAt', expires_at, 'status', 'held')
  redis.call('PEXPIRE', hold_key(hold_id), ttl + IDEM_TTL_SECONDS * 1000)
  redis.call('ZREMRANGEBYSCORE', HOLDS_KEY, '-inf', now_ms())
  redis.call('ZADD', HOLDS_KEY, expiry, hold_id)
  redis.call('INCR', VERSION_KEY)
end
