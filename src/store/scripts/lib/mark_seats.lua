-- defines: mark_seats
-- needs: MAP_KEY VERSION_KEY seat_parts
-- Writes `state` ('a' or 'b') into the map's row strings for `seats`.
-- Events without a map (the default event of /api/book) have none.
-- Bumps the event's version: the map's reads change.
local function mark_seats(seats, state)
  local by_row = {}
  for _, seat in ipairs(seats) do
    local label, n = seat_parts(seat)
    if label then
      by_row[label] = by_row[label] or {}
      table.insert(by_row[label], n)
    end
  end
  for label, numbers in pairs(by_row) do
    local row = redis.call('HGET', MAP_KEY, label)
    if row then
      for _, n in ipairs(numbers) do
        row = string.sub(row, 1, n - 1) .. state .. string.sub(row, n + 1)
      end
      redis.call('HSET', MAP_KEY, label, row)
    end
  end
  redis.call('INCR', VERSION_KEY)
end
