-- defines: best_block
-- Where in one row a block of `count` adjacent seats goes, packing the row
-- so it can sell out. A run is a maximal stretch of free seats; a block at
-- offset o of a run of length L leaves gaps of o and L - count - o seats.
-- Placements are compared by, in order:
--   1. orphans: gaps of exactly one seat, a single seat between taken ones
--      that no group can use;
--   2. waste: seats of the gaps that further blocks of `count` cannot fill,
--      (o mod count) + ((L - count - o) mod count). A block flush with a run
--      edge always has the least waste, and in a run that groups of this size
--      fill exactly it has none, so a row fills from its middle outwards
--      with nothing stranded at its ends;
--   3. distance of the block's centre from the row's middle;
-- and then the leftmost. Returns the block's first seat and its orphans
-- (0 to 2), or nil when no run is long enough.
local function best_block(free, size, count)
  local best, best_orphans, best_waste, best_distance
  local middle = (size + 1) / 2
  local n = 1
  while n <= size do
    if free[n] then
      local start = n
      while n <= size and free[n] do n = n + 1 end
      local length = n - start
      for o = 0, length - count do
        local left, right = o, length - count - o
        local orphans = (left == 1 and 1 or 0) + (right == 1 and 1 or 0)
        local waste = left % count + right % count
        local distance = math.abs(start + o + (count - 1) / 2 - middle)
        if not best or orphans < best_orphans
          or (orphans == best_orphans and (waste < best_waste
            or (waste == best_waste and distance < best_distance))) then
          best, best_orphans, best_waste, best_distance = start + o, orphans, waste, distance
        end
      end
    else
      n = n + 1
    end
  end
  return best, best_orphans
end
