-- defines: VERSION_KEY
-- needs: TAG
-- version:{E} counts the changes to what the event's reads show (sold
-- states, holds, the event itself): every script that changes them bumps it
-- (in mark_seats, create_hold, unindex_holds, create_event), and the reads
-- build their ETag from it (seat_map.lua).
local VERSION_KEY = 'version:' .. TAG
