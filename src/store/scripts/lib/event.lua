-- KEYS[1] is always the event's record, event:{E}. The other keys a script
-- touches are derived from its hash tag {E}, so every key of one call lives
-- in the same cluster slot as KEYS[1].
local EVENT_KEY = KEYS[1]
local TAG = string.match(EVENT_KEY, '^event:(%b{})$')
-- version:{E} counts the changes to what the event's reads show (sold
-- states, holds, the event itself): every script that changes them bumps it
-- (in mark_seats, create_hold, unindex_holds, create_event), and the reads
-- build their ETag from it (seat_map.lua).
local VERSION_KEY = 'version:' .. TAG
