-- defines: lock_key
-- needs: TAG
local function lock_key(seat) return 'lock:seat:' .. TAG .. ':' .. seat end
