-- Holds are indexed apart from the map, because they expire by themselves:
-- held:{E}:<row> is a sorted set of seat numbers scored by their hold's
-- expiry (ms, Redis clock).
local function held_key(label) return 'held:' .. TAG .. ':' .. label end
