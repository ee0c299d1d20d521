-- needs: BOOKINGS_KEY booking_key free_locks_holding mark_seats split
-- needs: timestamp_ms
-- Cancels a booking: its seats are free again and the record is kept,
-- marked cancelled. Only markers that are still this booking's are deleted.
-- ARGV[1] booking id   ARGV[2] booking token hash
-- Returns {'ok'}, {'not_found'}, {'forbidden'}.
local booking_id = ARGV[1]
local booking = redis.call('HMGET', booking_key(booking_id), 'tokenHash', 'seats', 'status')
if not booking[1] then return {'not_found'} end
if booking[1] ~= ARGV[2] then return {'forbidden'} end
if booking[3] == 'cancelled' then return {'ok'} end
mark_seats(free_locks_holding(split(booking[2]), 'booked:' .. booking_id), 'a')
redis.call('HSET', booking_key(booking_id), 'status', 'cancelled', 'cancelledAt', timestamp_ms())
redis.call('SREM', BOOKINGS_KEY, booking_id)
return {'ok'}
