-- defines: taken_seats
-- needs: lock_key
-- The seats of `seats` that are locked, held or sold.
local function taken_seats(seats)
  local taken = {}
  for _, seat in ipairs(seats) do
    if redis.call('EXISTS', lock_key(seat)) == 1 then table.insert(taken, seat) end
  end
  return taken
end
