-- defines: free_locks_holding
-- needs: lock_key
-- Deletes the locks of `seats` that still hold `value` (this hold's or this
-- booking's marker) and returns those seats; a seat someone else has taken
-- since is never touched.
local function free_locks_holding(seats, value)
  local freed = {}
  for _, seat in ipairs(seats) do
    if redis.call('GET', lock_key(seat)) == value then
      redis.call('DEL', lock_key(seat))
      table.insert(freed, seat)
    end
  end
  return freed
end
