-- defines: booking_key BOOKINGS_KEY
-- needs: TAG
local function booking_key(id) return 'booking:' .. TAG .. ':' .. id end
local BOOKINGS_KEY = 'bookings:' .. TAG
