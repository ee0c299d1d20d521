-- defines: ticket_key
-- needs: TAG
-- A waiting-room ticket's record (join_queue.lua writes it).
local function ticket_key(id) return 'ticket:' .. TAG .. ':' .. id end
