-- defines: hold_key
-- needs: TAG
local function hold_key(id) return 'hold:' .. TAG .. ':' .. id end
