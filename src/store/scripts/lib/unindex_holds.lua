-- defines: unindex_holds
-- needs: VERSION_KEY held_key seat_parts
-- Removes seats from the index of live holds, and bumps the event's
-- version: the map no longer shows them held.
local function unindex_holds(seats)
  for _, seat in ipairs(seats) do
    local label, n = seat_parts(seat)
    if label then redis.call('ZREM', held_key(label), n) end
  end
  redis.call('INCR', VERSION_KEY)
end
