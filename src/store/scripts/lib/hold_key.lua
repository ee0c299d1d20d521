local function hold_key(id) return 'hold:' .. TAG .. ':' .. id end
