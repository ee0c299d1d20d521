-- defines: create_booking
-- needs: BOOKINGS_KEY booking_key lock_key
-- Sells `seats` as booking `booking_id`: each lock becomes the permanent
-- booked:<id> marker, and the booking record and index are written. The
-- caller marks the seat map (mark_seats), when the event has one.
local function create_booking(booking_id, token_hash, seats, hold_id, created_at)
  for _, seat in ipairs(seats) do
    redis.call('SET', lock_key(seat), 'booked:' .. booking_id)
  end
  local key, joined = booking_key(booking_id), table.concat(seats, ',')
  -- holdId only for a confirmed hold: every field is work for Redis.
  if hold_id == '' then
    redis.call('HSET', key, 'tokenHash', token_hash, 'seats', joined,
      'createdAt', created_at, 'status', 'booked')
  else
    redis.call('HSET', key, 'tokenHash', token_hash, 'seats', joined,
      'createdAt', created_at, 'status', 'booked', 'holdId', hold_id)
  end
  redis.call('SADD', BOOKINGS_KEY, booking_id)
end
