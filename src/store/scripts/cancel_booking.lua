-- Cancels a booking: its seats are free again and the record is kept,
-- marked cancelled. Only markers that are still this booking's are deleted.
-- KEYS[1] event:{E}   ARGV[1] booking id   ARGV[2] booking token hash
-- Returns {'ok'}, {'not_found'}, {'forbidden'}.
local EVENT_KEY = KEYS[1]
local TAG = string.match(EVENT_KEY, '^event:(%b{})$')
local booking_key = 'booking:' .. TAG .. ':' .. ARGV[1]
local booking = redis.call('HMGET', booking_key, 'tokenHash', 'seats', 'status')
if not booking[1] then return {'not_found'} end
if booking[1] ~= ARGV[2] then return {'forbidden'} end
if booking[3] == 'cancelled' then return {'ok'} end
for seat in string.gmatch(booking[2], '[^,]+') do
  local lock = 'lock:seat:' .. TAG .. ':' .. seat
  if redis.call('GET', lock) == 'booked:' .. ARGV[1] then redis.call('DEL', lock) end
end
local t = redis.call('TIME')
redis.call('HSET', booking_key, 'status', 'cancelled',
  'cancelledAt', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
redis.call('SREM', 'bookings:' .. TAG, ARGV[1])
return {'ok'}
