-- pieces: event version_key lock_key booking_keys map_key seat_parts unknown_seats mark_seats answer create_booking
-- Commits a booking for one seat of the default event when that event has
-- a seat map (POST /api/book/{seatId}, after its SET NX, when book_seat.lua
-- answered 'mapped'): the caller still holds the seat's lock, and the event
-- exists (book_seat.lua saw it; events are never deleted), so its map does
-- too (create_event.lua writes both).
--
-- The fencing check comes first: if the lock no longer holds the caller's
-- token (it expired and someone else took it), nothing is written.
-- Otherwise the seat must be on the map; the lock becomes the seat's
-- permanent booked marker, the booking is stored and the map marks the seat
-- sold, atomically. A request whose Idempotency-Key was already used gets
-- the stored answer (or a mismatch) and its lock is let go.
-- ARGV[6] booking id, also the lock's token   ARGV[7] seat
-- ARGV[8] booking token hash   ARGV[9] created at (ms), as for book_seat.lua
-- Returns {'ok', body}, {'lost_lock'}, {'unknown_seats', seat}, or an
-- idempotency reply.
local lock = lock_key(ARGV[7])
local replay = idempotent_replay()
if replay then
  if redis.call('GET', lock) == ARGV[6] then redis.call('DEL', lock) end
  return replay
end
if redis.call('GET', lock) ~= ARGV[6] then return {'lost_lock'} end
if #unknown_seats({ARGV[7]}) > 0 then
  redis.call('DEL', lock)
  return {'unknown_seats', {ARGV[7]}}
end
create_booking(ARGV[6], ARGV[8], {ARGV[7]}, '', ARGV[9])
mark_seats({ARGV[7]}, 'b')
return success(nil)
