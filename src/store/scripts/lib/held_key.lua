-- defines: held_key HOLDS_KEY
-- needs: TAG
-- Holds are indexed apart from the map, because they expire by themselves:
-- held:{E}:<row> is a sorted set of seat numbers scored by their hold's
-- expiry (ms, Redis clock).
local function held_key(label) return 'held:' .. TAG .. ':' .. label end
-- holds:{E} is a sorted set of the event's hold ids scored by expiry: its
-- live entries say in one ZCOUNT how many holds are live, which with the
-- event's version identifies the map (seat_map.lua). Releasing or
-- confirming a hold removes its entry; expired entries are trimmed when a
-- hold is made (a trim never changes the live count).
local HOLDS_KEY = 'holds:' .. TAG
