-- Removes seats from the index of live holds.
local function unindex_holds(seats)
  for _, seat in ipairs(seats) do
    local label, n = seat_parts(seat)
    if label then redis.call('ZREM', held_key(label), n) end
  end
end
