local function booking_key(id) return 'booking:' .. TAG .. ':' .. id end
local BOOKINGS_KEY = 'bookings:' .. TAG
