-- THE PREVIOUS BEST-AVAILABLE CHOICE, kept only so the simulation in
-- best_available_simulation.rs (scripts/simulate-best-available.sh) can
-- compare the packing choice (src/store/scripts/lib/best_block.lua) with
-- it. The component never runs this file, and no CI test reads it.
--
-- It picks the block of `count` free seats whose centre is nearest the
-- row's middle (the leftmost of equals), whatever it leaves on either side.
-- It reports no orphans, so hold_best.lua takes the first row that can
-- seat the block, exactly as the previous script did.
local function best_block(free, size, count)
  local best, best_distance, run = nil, nil, 0
  for n = 1, size do
    run = free[n] and run + 1 or 0
    if run >= count then
      local first = n - count + 1
      local distance = math.abs((first + n) / 2 - (size + 1) / 2)
      if not best or distance < best_distance then best, best_distance = first, distance end
    end
  end
  return best, 0
end
